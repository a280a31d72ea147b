"""The chaos run's checks (once the bot has stopped, on the database as it was left) and its summary.

A report that is not stored exactly once is one of these, never to be confused:
* confirmed but not stored: the officer saw "✅ 已上报" with a number, and no incident holds
  it — data loss, the product's first promise broken;
* confirmed, stored with other facts: the number the officer saw holds facts they did not give
  for those fields (an answer taken for another question);
* never confirmed: the dialogue stuck (the harness gave up after its resends) — the summary names
  the step it was stuck at and how many answers were sent again.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from statistics import median
from typing import TYPE_CHECKING, Any

from bench.common import pct
from storage.db import from_db, to_db

ENGINE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

if TYPE_CHECKING:
    from bench.chaos import Chaos


def check(c: Chaos, dialogue_s: float, total_s: float, exit_code: int) -> dict[str, Any]:
    t = c.tally
    problems = t.problems
    bad_reports: list[int] = list(dict.fromkeys(t.problem_reports))
    confirmed_not_stored: list[int] = []
    wrong_facts: list[int] = []
    never_confirmed: dict[int, str] = {}
    with c.db() as conn:
        incidents = conn.execute("SELECT id, number, unit_code, category, place, description, deaths, injured "
                                 "FROM incidents").fetchall()
        by_desc = Counter(r["description"] for r in incidents)
        by_number = {r["number"]: r for r in incidents}
        stored_once = 0
        numbers = Counter(r.number for r in c.reports if r.number)
        for rep in c.reports:
            n = by_desc.get(rep.description, 0)
            if n == 1 and rep.number:
                stored_once += 1
                continue
            bad_reports.append(rep.index)
            d = rep.dialogue
            stuck = f"stuck at {d.step!r} after {d.resends} resends"
            if not rep.number:
                never_confirmed[rep.index] = stuck
                problems.append(f"report {rep.index} never confirmed ({stuck}); stored {n} times")
            elif n == 0 and rep.number in by_number:
                wrong_facts.append(rep.index)
                problems.append(f"report {rep.index} confirmed as {rep.number}, which holds other facts: "
                                f"{dict(by_number[rep.number])}")
            elif n == 0:
                confirmed_not_stored.append(rep.index)
                problems.append(f"report {rep.index} confirmed as {rep.number} but NOT STORED (data loss)")
            else:
                problems.append(f"report {rep.index} confirmed as {rep.number}, stored {n} times")
        for number, n in numbers.items():
            if n > 1:
                problems.append(f"{n} reports were confirmed with the same number {number}")
        for r in incidents:
            filed = next((x for x in c.reports if x.description == r["description"]), None)
            if filed is None and r["number"] in numbers:
                continue  # the report confirmed with this number was named above (other facts)
            if filed is None:
                problems.append(f"incident {r['number']} matches no report (a half/foreign record): {dict(r)}")
                continue
            if (r["place"], r["category"], r["unit_code"], r["deaths"], r["injured"]) != (
                    filed.place, filed.category, filed.unit, filed.casualties[0], filed.casualties[1]):
                problems.append(f"incident {r['number']} stored wrong facts: {dict(r)}")
                bad_reports.append(filed.index)
            if filed.number and filed.number != r["number"]:
                problems.append(f"report {filed.index} confirmed as {filed.number}, stored as {r['number']}")
                bad_reports.append(filed.index)
        rows = conn.execute("SELECT id, chat_id, method, payload, tag, status FROM outbox").fetchall()
        status = Counter(r["status"] for r in rows)
        expected: Counter[tuple[int, str]] = Counter()
        tags: dict[tuple[int, str], str] = {}
        for r in rows:
            if r["method"] == "send_message" and r["status"] == "sent":
                key = (r["chat_id"], json.loads(r["payload"])["text"])
                expected[key] += 1
                tags[key] = r["tag"] or ""
        deadlines = conn.execute("SELECT kind, ref_id, stage, due_at, fired_at, cancelled_at FROM deadlines").fetchall()
        now_s = c.cut or to_db(datetime.now(UTC))  # the drain's end: what came due later may fire or not
        due = [d for d in deadlines if d["due_at"] <= now_s and d["cancelled_at"] is None]
        unfired = [d for d in due if d["fired_at"] is None]
        # A recurring row (the weekly quota reminder, "0 17 * * thu") plants its next occurrence
        # with the same kind, ref and stage when it fires: a duplicate is the same due time too.
        dup_rows = Counter((d["kind"], d["ref_id"], d["stage"], d["due_at"]) for d in deadlines)
        events = Counter((e["incident_id"], e["kind"], json.loads(e["detail"] or "{}").get("stage", ""))
                         for e in conn.execute("SELECT incident_id, kind, detail FROM incident_events "
                                               "WHERE kind IN ('late','forward_reminded')"))
    if status.get("pending") or status.get("failed"):
        problems.append(f"outbox left: {dict(status)}")
    delivered: Counter[tuple[int, str]] = Counter()
    for chat in {ch for ch, _ in expected}:
        for m in c.emu.messages(chat):
            key = (chat, m.source_text or "")
            if key in expected:
                delivered[key] += 1
    lost = {k: (expected[k], delivered[k]) for k in expected if delivered[k] < expected[k]}
    dup = {k: (expected[k], delivered[k]) for k in expected if delivered[k] > expected[k]}
    by_tag = Counter(tags[k] for k in expected)
    for k, (want, got) in list(lost.items())[:5]:
        problems.append(f"lost [{tags[k]}] to {k[0]}: want {want} got {got}: {k[1][:60]!r}")
    # A message whose send was in flight when the process died may go out twice: Telegram has no
    # idempotency key, so the outbox is "at least once" (nothing lost) with the rows in flight at
    # each kill repeated (several: an alert goes to its chats side by side). Any other repeat is a bug.
    extra = sum(delivered[k] - expected[k] for k in dup)
    repeated = [f"[{tags[k]}] to {k[0]}: {k[1][:50]!r}" for k in dup]
    if extra > t.in_flight_at_kills:
        for k, (want, got) in list(dup.items())[:5]:
            problems.append(f"duplicate [{tags[k]}] to {k[0]}: want {want} got {got}: {k[1][:60]!r}")
    if unfired:
        problems.append(f"{len(unfired)} due deadlines never fired")
    if any(n > 1 for n in dup_rows.values()):
        problems.append("a deadline was planned twice: " + str([k for k, n in dup_rows.items() if n > 1][:3]))
    fired = [d for d in due if d["fired_at"] is not None]
    lateness = [(from_db(d["fired_at"]) - from_db(d["due_at"])).total_seconds()  # type: ignore[operator]
                for d in fired]
    # A reminder that fires after what it warns of is dropped by rule (reminders/scheduler.py: "a
    # reminder never says what is no longer true"); the forward clock's breach goes out instead.
    forward_due_at = {(d["ref_id"], d["stage"]): d["due_at"] for d in deadlines if d["kind"] == "incident.forward_due"}
    want_events: Counter[tuple[int, str, str]] = Counter()
    outdated = 0
    for d in fired:
        if d["kind"] == "incident.due":
            want_events[(d["ref_id"], "late", d["stage"])] += 1
        elif d["kind"] == "incident.forward_remind":
            target = forward_due_at.get((d["ref_id"], d["stage"]))
            if target is not None and d["fired_at"] >= target and not events.get((d["ref_id"], "forward_reminded", "")):
                outdated += 1
                continue
            want_events[(d["ref_id"], "forward_reminded", "")] += 1
    effects_once = sum(1 for effect in want_events if events.get(effect, 0) == 1)
    for effect in want_events:
        if events.get(effect, 0) != 1:
            problems.append(f"deadline {effect} had {events.get(effect, 0)} effects")
    if t.stalls and not c.args.faults:
        problems.append(f"{t.stalls} answers never came without a crash")
    if t.restarted_dialogues:
        problems.append(f"{t.restarted_dialogues} dialogues had to start over")
    if exit_code != 0:
        problems.append(f"bot exited {exit_code} on SIGTERM")
    retry_violations = c.emu_retry.violations
    if retry_violations:
        problems.append(f"{retry_violations} retries came before retry_after")
    failover = failover_summary(c)
    if failover and failover["takeovers"] != t.kills:
        problems.append(f"{failover['takeovers']} takeovers for {t.kills} kills")
    if failover and failover["takeovers"] and not failover["met"]:
        problems.append(f"failover p99 {failover['first_poll'][1]:.2f} s over the goal of {failover['goal']:g} s")
    return {
        "seed": c.seed, "backend": ENGINE_NAMES[c.args.backend], "reports": len(c.reports),
        "officers": len(c.officers), "kills": t.kills,
        "restarts": t.restarts, "confirmed": sum(1 for r in c.reports if r.number), "stored_exactly_once": stored_once,
        "confirmed_not_stored": confirmed_not_stored, "confirmed_wrong_facts": wrong_facts,
        "never_confirmed": never_confirmed,
        "incidents_in_db": len(incidents),
        "messages_expected": sum(expected.values()), "messages_delivered_once": sum(
            n for k, n in expected.items() if delivered[k] == n),
        "messages_lost": len(lost), "messages_duplicated": extra, "repeated": repeated,
        "in_flight_at_kills": t.in_flight_at_kills,
        "by_tag": dict(by_tag),
        "interrupted_conversations": t.interrupted, "resumed_at_step": t.resumed, "answers_resent": t.resends,
        "late_confirmations": t.late_confirmations,
        "deadlines_due": len(due), "deadlines_fired": len(fired), "deadline_effects_once": effects_once,
        "deadline_effects_expected": len(want_events), "deadlines_outdated": outdated,
        "deadline_lateness": (pct(lateness, 50), pct(lateness, 99), max(lateness)) if lateness else None,
        "faults": dict(c.emu.stats.faults), "retry_after_violations": retry_violations,
        "sends_after_429": c.emu_retry.retried_429, "error_replies": t.error_replies, "stalls": t.stalls,
        "dialogue_seconds": round(dialogue_s, 1), "total_seconds": round(total_s, 1), "failover": failover,
        "problems": problems, "problem_reports": list(dict.fromkeys(bad_reports)), "evidence": [],
    }


FAILOVER_GOAL_S = 15.0  # issue 28: a standby takes over within 15 s + the lease period (p99)


def failover_summary(c: Chaos) -> dict[str, Any] | None:
    """With --instances > 1: the takeovers' times from the kill, p50 and p99 (None with one instance)."""
    if c.args.instances < 2 or c.bot is None:
        return None
    from bench.chaos import heartbeat_for

    took = c.bot.failovers
    goal = FAILOVER_GOAL_S + c.args.lease

    def p50_p99(values: list[float]) -> tuple[float, float, float]:
        return (pct(values, 50), pct(values, 99), max(values)) if values else (float("nan"),) * 3

    first_poll = p50_p99([f.first_poll for f in took])
    return {
        "instances": c.args.instances, "lease": c.args.lease, "heartbeat": heartbeat_for(c.args.lease),
        "takeovers": len(took), "first_poll": first_poll, "first_call": p50_p99([f.first_call for f in took]),
        "status_row": p50_p99([f.status_row for f in took]), "goal": goal, "met": bool(took) and first_poll[1] <= goal,
    }


def render(r: dict[str, Any]) -> str:
    stuck = r["never_confirmed"]
    lines = [
        f"chaos: seed {r['seed']}: {r['backend']}, {r['reports']} reports by {r['officers']} officers,"
        f" {r['kills']} × kill -9, "
        f"{r['restarts']} restarts" + (f", faults {r['faults']}" if r["faults"] else ""),
        f"  reports confirmed            {r['confirmed']}/{r['reports']}",
        f"  stored exactly once          {r['stored_exactly_once']}/{r['reports']}"
        f" (incidents in db: {r['incidents_in_db']})",
        f"  confirmed but not stored     {len(r['confirmed_not_stored'])} (data loss)"
        + (f": reports {r['confirmed_not_stored']}" if r["confirmed_not_stored"] else ""),
        f"  confirmed, other facts       {len(r['confirmed_wrong_facts'])} (an answer taken for another field)"
        + (f": reports {r['confirmed_wrong_facts']}" if r["confirmed_wrong_facts"] else ""),
        f"  never confirmed              {len(stuck)} (stuck dialogues)"
        + ("".join(f"\n    - report {i}: {why}" for i, why in stuck.items()) if stuck else ""),
        f"  messages delivered once      {r['messages_delivered_once']}/{r['messages_expected']}"
        f"  lost {r['messages_lost']}  repeated {r['messages_duplicated']}"
        f" (allowed: {r['in_flight_at_kills']} delivered"
        f" but not yet marked sent at a kill)  by tag {r['by_tag']}",
        f"  interrupted conversations    {r['interrupted_conversations']}, resumed at their step {r['resumed_at_step']}"
        f" (answers re-sent: {r['answers_resent']}; a previous report's confirmation repeated late:"
        f" {r['late_confirmations']})",
        f"  deadlines due                {r['deadlines_due']}, fired {r['deadlines_fired']},"
        f" effects exactly once {r['deadline_effects_once']}/{r['deadline_effects_expected']}"
        + (f"; {r['deadlines_outdated']} forward reminders fired after the target they warn of, dropped by rule"
           " (the breach went instead)" if r.get("deadlines_outdated") else ""),
        *([f"  deadline lateness            fired − due: p50 {late[0]:.2f} s, p99 {late[1]:.2f} s, max {late[2]:.2f} s"]
          if (late := r.get("deadline_lateness")) else []),
        f"  retries before retry_after   {r['retry_after_violations']} (sends after a 429 that waited: "
        f"{r['sends_after_429']}; error replies {r['error_replies']}, silent stalls {r['stalls']})",
        f"  time                         {r['dialogue_seconds']} s dialogues, {r['total_seconds']} s total",
    ]
    fo = r.get("failover")
    if fo:
        def s(x: tuple[float, float, float]) -> str:
            return f"p50 {x[0]:.2f} s, p99 {x[1]:.2f} s, max {x[2]:.2f} s"

        lines += [
            f"  failover                     {fo['instances']} instances, [ha] lease_seconds = {fo['lease']:g},"
            f" heartbeat_seconds = {fo['heartbeat']:g} (short, for this run; the default is 15); {fo['takeovers']}"
            " takeovers of a killed active instance",
            f"    kill → standby's first getUpdates   {s(fo['first_poll'])}"
            f"  goal p99 ≤ 15 s + the lease = {fo['goal']:g} s: {'met' if fo['met'] else 'NOT met'}",
            f"    kill → standby's first Bot API call {s(fo['first_call'])}",
            f"    kill → status names it active       {s(fo['status_row'])} (desk_instances, read every 0.1 s)",
        ]
    if r["problems"]:
        lines.append(f"  PROBLEMS ({len(r['problems'])}):")
        lines += [f"    - {p}" for p in r["problems"]]  # every one: a failing run is read, not skimmed
        for text in r["evidence"]:
            lines.append("  " + text.replace("\n", "\n  "))
    else:
        lines.append("  OK: every check held")
    if r.get("folder"):
        database = r.get("database") or "desk.sqlite3"
        lines.append(f"  kept: {r['folder']} (database {database}, bot log bot.log)")
    return "\n".join(lines)


def render_tally(results: list[dict[str, Any]], wanted: int) -> str:
    """After --runs N: how many held, their seeds, kills, repeats and durations."""
    held = [r for r in results if not r["problems"]]
    secs = [r["total_seconds"] for r in results]
    lines = [
        f"chaos tally: {len(held)}/{len(results)} runs held every check"
        + (f" (stopped at the first failing run, of {wanted} asked)" if len(held) < len(results) else "")
        + (f" ({wanted - len(results)} not run)" if len(results) < wanted and len(held) == len(results) else ""),
        f"  seeds      {[r['seed'] for r in results]}",
        f"  kills      {sum(r['kills'] for r in results)} (restarts {sum(r['restarts'] for r in results)})",
        f"  repeats    {sum(r['messages_duplicated'] for r in results)} messages delivered twice (allowed:"
        f" {sum(r['in_flight_at_kills'] for r in results)} delivered but not yet marked sent at a kill)",
        f"  reports    {sum(r['stored_exactly_once'] for r in results)}/{sum(r['reports'] for r in results)} "
        f"stored exactly once; answers re-sent {sum(r['answers_resent'] for r in results)}; late repeats of an "
        f"earlier confirmation skipped {sum(r['late_confirmations'] for r in results)}",
        f"  durations  min {min(secs):.0f} s, median {median(secs):.0f} s, max {max(secs):.0f} s; "
        f"total {sum(secs) / 60:.1f} min",
    ]
    failed = [r for r in results if r["problems"]]
    if failed:
        lines.append(f"  FAILED: seed {failed[0]['seed']}, kept {failed[0].get('folder') or '-'}")
    return "\n".join(lines)
