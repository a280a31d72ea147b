"""Crash-restart chaos: the real bot process, kill -9 at random moments, exactly-once checks.

    python -m bench.chaos --reports 500 --kills 20 [--officers 40] [--faults 0.1] [--seed 7]

The Bot API emulator and the simulated officers run in this process; `dutydesk run` runs as
a child process on a SQLite file in a temporary folder. Officers answer whatever the bot
last asked (as a person would), so a conversation interrupted by a crash carries on from
the step the restarted bot resumes at. A killer task sends SIGKILL at random moments and
restarts the bot each time. At the end (bot stopped, database read directly):

* every confirmed report is stored exactly once, with the facts the officer gave;
* every sent outbox message (alerts, deadline messages) reached its chat exactly once,
  counted by the emulator, except those Telegram had delivered but the bot not yet marked
  sent when it was killed (counted at each kill; sent again after the restart, as an
  at-least-once outbox must); nothing is left pending or failed;
* every interrupted conversation resumed at its step (no dialogue fell back to the start,
  no answer was stored in the wrong field);
* every deadline that came due fired exactly once (one "late" per stage, one forward
  reminder per incident, each delivered once).

With ``--faults R`` the emulator also injects 429 (retry_after), 500/502, dropped
connections and slow answers into a fraction R of the bot's sending requests; the same
checks must hold and no retry may come before its retry_after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.emulator import BotApiEmulator, Faults, SimMessage, SimUser

TOKEN = "777001:CHAOS-token-never-in-logs"
UNITS = ("jianshelu", "mianfanglu", "xushui", "jiaoti", "huanbao", "jianshe")
CATEGORIES = ("fire", "traffic", "other", "safety")

# Short deadlines so they come due while the run lasts: a report typed as "1 hour ago"
# has its written and full reports due at once; every report's forward reminder is due
# after FORWARD_REMIND seconds.
INCIDENT_SECTION = """[incident]
first_report = "1h"
written_report = "1h"
full_report = "1h"
followup_every = "24h"
remind_before = ["15m"]
forward_target = "60s"
forward_remind = "{forward}s"
max_backdate = "7d"
major_categories = ["fire"]
"""

PROMPTS = {  # what the bot asks (start of the zh catalog text) -> step name
    "🚨 上报突发事件（第1步）": "category",
    "事件发生时间？": "occurred",
    "本单位获知时间？": "learnt",
    "事发地点？": "place",
    "伤亡情况？": "casualties",
    "受伤人数？": "injured",
    "失踪人数？": "missing",
    "请简要描述事件情况": "description",
    "请核对后确认": "confirm",
    "✅ 已上报，事件编号": "done",
    "没看懂伤亡情况": "casualties",  # casualties_bad: the casualties question, said again
    "上报草稿已失效": "lost",
    "没有理解您的意思": "lost",
    "抱歉，处理时出了点问题": "retry",  # core.error: a send failed while answering; a person tries again
}
STEP_ORDER = ["category", "occurred", "place", "casualties", "description", "confirm", "done"]


def step_of(msg: SimMessage) -> str | None:
    text = msg.text or ""
    for head, step in PROMPTS.items():
        if text.startswith(head):
            return step
    return None


def write_config(tmp: Path, emu: BotApiEmulator, forward_seconds: int) -> Path:
    from bot.harness import example_config_text

    text = example_config_text(emu, tmp / "desk.sqlite3")
    start = text.index("[incident]")
    end = text.index("\n[", start + 1)
    text = text[:start] + INCIDENT_SECTION.format(forward=forward_seconds) + text[end:]
    path = tmp / "dutydesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Report:
    index: int
    officer: SimUser
    unit: str
    category: str
    backdated: bool
    place: str
    casualties: tuple[int, int, int]
    description: str
    number: str | None = None


@dataclass
class Tally:
    kills: int = 0
    restarts: int = 0
    interrupted: int = 0  # conversations mid-way at a kill
    resumed: int = 0  # ... whose next answer after the restart got the next question
    restarted_dialogues: int = 0  # had to send /report again (must stay 0)
    resends: int = 0  # answers repeated because the crash swallowed them
    stalls: int = 0  # no answer without any crash (must stay 0 without faults)
    error_replies: int = 0  # "please try again" answers (a reply send failed under faults)
    in_flight_at_kills: int = 0  # messages Telegram had delivered whose outbox row was not yet marked sent
    problems: list[str] = field(default_factory=list)


class BotProcess:
    """`dutydesk run` as a child process; kill -9 and restart."""

    def __init__(self, config: Path, emu: BotApiEmulator, log_path: Path) -> None:
        self.config, self.emu, self.log_path = config, emu, log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.up = asyncio.Event()
        self.epoch = 0  # +1 at every kill

    async def start(self) -> None:
        env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN)
        polls = self.emu.stats.requests.get("getUpdates", 0)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--config", str(self.config), "run"],
                                         env=env, stdout=log, stderr=log)
        for _ in range(600):
            if self.emu.stats.requests.get("getUpdates", 0) > polls:
                self.up.set()
                return
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError("bot did not start polling; see " + str(self.log_path))

    async def kill9(self) -> None:
        assert self.proc is not None
        self.up.clear()
        self.epoch += 1
        self.proc.send_signal(signal.SIGKILL)
        while self.proc.poll() is None:
            await asyncio.sleep(0.01)

    async def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        for _ in range(600):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.05)
        self.proc.kill()
        return -9


class RetryWatch:
    """Counts retries of a request refused with 429 that came before its retry_after.

    A retry is the same send again: same chat, method and text (or message edited). Other sends
    to that chat in the meantime are not retries (Telegram would answer them with 429 too, which
    the bot then handles in turn).
    """

    def __init__(self, emu: BotApiEmulator) -> None:
        from bot.emulator.limits import is_sending_method

        self.blocked_until: dict[tuple[object, ...], float] = {}
        self.violations = 0
        self.retried_429 = 0
        server = emu._server
        assert server is not None
        inject, run = server._inject, server._run

        def key(method: str, params: dict[str, Any]) -> tuple[object, ...]:
            return (params.get("chat_id"), method, params.get("text") or params.get("caption"), params.get("message_id"))

        def watched_inject(fault: str, method: str, params: dict[str, Any]) -> Any:
            if is_sending_method(method):
                self._arrive(key(method, params))
                if fault == "429":
                    ra = emu.faults.retry_after if emu.faults is not None else 1
                    self.blocked_until[key(method, params)] = time.monotonic() + ra
            return inject(fault, method, params)

        def watched_run(name: str, impl: Any, params: dict[str, Any], files: Any) -> Any:
            if is_sending_method(name):
                self._arrive(key(name, params))
            return run(name, impl, params, files)

        server._inject = watched_inject  # type: ignore[method-assign]
        server._run = watched_run  # type: ignore[method-assign]

    def _arrive(self, k: tuple[object, ...]) -> None:
        until = self.blocked_until.pop(k, None)
        if until is None:
            return
        if time.monotonic() < until - 0.05:
            self.violations += 1
        else:
            self.retried_429 += 1


class Chaos:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.rng = random.Random(args.seed)
        faults = None
        if args.faults:
            faults = Faults(rate=args.faults, retry_after=1, slow_seconds=args.slow, seed=args.seed)
        self.emu = BotApiEmulator(token=TOKEN, faults=faults, record_transcript=False)
        self.tally = Tally()
        self.reports: list[Report] = []
        self.office: dict[str, SimUser] = {}
        self.officers: list[tuple[SimUser, str]] = []
        self.bot: BotProcess | None = None
        self.current: dict[int, str] = {}  # officer id -> step it is answering (None when idle)
        self.done = 0
        self.send_log: list[tuple[float, int, str]] = []  # (time, chat, method) of bot sends

    # ------------------------------------------------------------------ set-up

    async def register_people(self) -> None:
        from bot import config as cfg
        from bot.cli import _open_services
        from bot.services import registration

        config = cfg.load(self.config_path)
        s = await _open_services(config)
        invites: list[tuple[SimUser, str]] = []
        try:
            for i, (role, unit) in enumerate([("duty", "office"), ("director", "office"), ("leader", "office")]):
                user = self.emu.user(50_000 + i, f"办公室{i}")
                inv = await registration.create_invite(s, unit_code=unit, role=role, name=f"{role}{i}")
                invites.append((user, inv.code))
                self.office[role] = user
            for i in range(self.args.officers):
                unit = UNITS[i % len(UNITS)]
                user = self.emu.user(60_000 + i, f"信息员{i}")
                inv = await registration.create_invite(s, unit_code=unit, role="officer", name=f"信息员{i:03d}")
                invites.append((user, inv.code))
                self.officers.append((user, unit))
        finally:
            await s.db.close()
        assert self.bot is not None
        await self.bot.start()
        for user, code in invites:
            await user.send_command("/start", code)
        for user, _ in invites:
            await user.wait_for("欢迎", timeout=60)

    def plan(self) -> None:
        per = [0] * len(self.officers)
        for i in range(self.args.reports):
            k = i % len(self.officers)
            per[k] += 1
            user, unit = self.officers[k]
            self.reports.append(Report(
                index=i, officer=user, unit=unit, category=self.rng.choice(CATEGORIES),
                backdated=self.rng.random() < self.args.backdated,
                place=f"路口{i}号 <b>&amp;",
                casualties=(self.rng.randint(0, 3), self.rng.randint(0, 9), 0),
                description=f"chaos#{i:05d} 情况描述 <i>{self.rng.randint(0, 10**6)}</i>",
            ))

    # ------------------------------------------------------------------ people

    async def _answer(self, user: SimUser, msg: SimMessage, step: str, rep: Report) -> None:
        if step == "category":
            await user.press_raw(f"r:cat:{rep.category}", msg.message_id)
        elif step == "occurred":
            await user.press_raw("r:t:h1" if rep.backdated else "r:t:now", msg.message_id)
        elif step == "learnt":
            await user.press_raw("r:t:same", msg.message_id)
        elif step == "place":
            await user.send_text(rep.place)
        elif step == "casualties":
            d, inj, miss = rep.casualties
            await user.send_text(f"{d}/{inj}/{miss}")
        elif step == "injured":
            await user.send_text(str(rep.casualties[1]))
        elif step == "missing":
            await user.send_text(str(rep.casualties[2]))
        elif step == "description":
            await user.send_text(rep.description)
        elif step == "confirm":
            await user.press_raw("r:ok", msg.message_id)

    async def _next_prompt(self, user: SimUser, start: int, timeout: float) -> tuple[int, SimMessage, str] | None:
        """The newest question among the bot's messages after index `start`, once the chat is quiet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: tuple[int, SimMessage, str] | None = None
        quiet_since = None
        while loop.time() < deadline:
            msgs = self.emu.messages(user.id)
            for idx in range(start, len(msgs)):
                step = step_of(msgs[idx])
                if step is not None:
                    found = (idx, msgs[idx], step)
            if found is not None:
                # A question arrived; wait a moment for a later one (a resent answer may
                # produce an error then the question again).
                if quiet_since is None:
                    quiet_since = loop.time()
                    start_len = len(msgs)
                elif len(msgs) != start_len:
                    quiet_since, start_len = loop.time(), len(msgs)
                elif loop.time() - quiet_since > 0.15:
                    return found
            await asyncio.sleep(0.02)
        return found

    async def officer_loop(self, k: int) -> None:
        user, _unit = self.officers[k]
        mine = [r for r in self.reports if r.officer is user]
        for rep in mine:
            await self.run_report(user, rep)

    async def run_report(self, user: SimUser, rep: Report) -> None:
        assert self.bot is not None
        await self.bot.up.wait()
        start = len(self.emu.messages(user.id))
        epoch = self.bot.epoch
        await user.send_command("/report")
        last_action: tuple[SimMessage | None, str] = (None, "start")
        reached = -1
        tries = 0
        while True:
            got = await self._next_prompt(user, start, timeout=self.args.answer_timeout)
            retry = got is not None and got[2] == "retry"
            if got is None or retry:
                if got is None and self.bot.epoch == epoch:
                    self.tally.stalls += 1
                    if not self.args.faults:
                        self.tally.problems.append(f"report {rep.index}: no answer to {last_action[1]} without a crash")
                if retry:
                    self.tally.error_replies += 1
                    start = got[0] + 1  # type: ignore[index]
                    await asyncio.sleep(0.3)  # a person reads "please try again", then does
                tries += 1
                if tries > 30:
                    self.tally.problems.append(f"report {rep.index}: gave up at {last_action[1]} after 30 tries")
                    return
                # The crash swallowed the answer (or the reply): answer the same question again.
                await self.bot.up.wait()
                epoch = self.bot.epoch
                self.tally.resends += 1
                # `start` stays: an answer that comes late is still read (not skipped).
                msg, step = last_action
                if step == "start":
                    await user.send_command("/report")
                else:
                    assert msg is not None
                    await self._answer(user, msg, step, rep)
                continue
            idx, msg, step = got
            if self.bot.epoch != epoch and step in STEP_ORDER and reached >= 0:
                # First question after a restart: it must not be behind the step we had reached.
                self.tally.interrupted += 1
                if STEP_ORDER.index(step) >= reached:
                    self.tally.resumed += 1
                else:
                    self.tally.problems.append(f"report {rep.index}: after restart back at {step} (had reached "
                                               f"{STEP_ORDER[reached] if reached >= 0 else 'start'})")
            if step in STEP_ORDER:
                reached = max(reached, STEP_ORDER.index(step))
            epoch = self.bot.epoch
            start = idx + 1
            if step == "done":
                self.current.pop(user.id, None)
                m = re.search(r"\d{4}-\d{4}", msg.text or "")
                rep.number = m.group(0) if m else None
                self.done += 1
                return
            if step == "lost":
                self.tally.restarted_dialogues += 1
                self.tally.problems.append(f"report {rep.index}: dialogue lost after {last_action[1]}: {msg.text!r}")
                await user.send_command("/report")
                last_action = (None, "start")
                reached = -1
                continue
            last_action = (msg, step)
            self.current[user.id] = step
            await self._answer(user, msg, step, rep)

    # ------------------------------------------------------------------ chaos

    async def killer(self, stop: asyncio.Event) -> None:
        assert self.bot is not None
        total = self.args.reports
        # Spread the kills over the run: kill number i once about i/(kills+1) of the reports are done.
        for i in range(self.args.kills):
            target = int(total * (i + 1) / (self.args.kills + 1))
            while self.done < target and not stop.is_set():
                await asyncio.sleep(0.05)
            if self.done < target:
                return  # the dialogues ended short of it
            # A random moment, not a step boundary; if the last reports were filed meanwhile, the kill
            # still comes (among deadlines and queued messages): a run makes the kills it was asked for.
            await asyncio.sleep(self.rng.uniform(0.0, 0.6))
            await self.bot.kill9()
            self.tally.kills += 1
            # The restarted bot cannot know a 429 the dead one was waiting out; re-asking its question
            # at once is no early retry (Telegram would refuse it again, and that 429 it does wait out).
            self.emu_retry.blocked_until.clear()
            await asyncio.sleep(self.rng.uniform(0.05, 0.5))
            while self.emu.stalled_requests:  # a send of the dead bot held by a "slow" fault lands when released
                await asyncio.sleep(0.01)
            # Dead meanwhile: its rows stay as they were; the emulator has carried out what reached it.
            self.tally.in_flight_at_kills += self.in_flight()
            await self.bot.start()
            self.tally.restarts += 1

    async def progress(self, stop: asyncio.Event) -> None:
        while not stop.is_set() and self.args.verbose:
            await asyncio.sleep(5)
            steps = Counter(self.current.values())
            if self.args.verbose > 1 and self.current:
                uid = next(iter(self.current))
                for m in self.emu.messages(uid, include_user=True)[-6:]:
                    print("      ", m.summary()[:150], file=sys.stderr)
                print("      answers:", [a for a in self.emu.get_user(uid).callback_answers[-3:]], file=sys.stderr)
            print(f"  … {self.done}/{len(self.reports)} confirmed, {self.tally.kills} kills, {self.tally.resends} resends,"
                  f" steps {dict(steps)}, pending updates {self.emu.pending_updates},"
                  f" polls {self.emu.stats.requests.get('getUpdates', 0)}, errors {dict(self.emu.stats.errors)} req {dict(self.emu.stats.requests)}", file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ run

    async def run(self) -> dict[str, Any]:
        await self.emu.start()
        self.config_path = write_config(self.tmp, self.emu, self.args.forward)
        self.bot = BotProcess(self.config_path, self.emu, self.tmp / "bot.log")
        self.emu.faults, faults = None, self.emu.faults  # no faults while registering
        try:
            await self.register_people()
            self.emu.faults = faults
            self.emu_retry = RetryWatch(self.emu)
            self.plan()
            t0 = time.monotonic()
            stop = asyncio.Event()
            killer = asyncio.create_task(self.killer(stop))
            progress = asyncio.create_task(self.progress(stop))
            await asyncio.gather(*(self.officer_loop(k) for k in range(len(self.officers))))
            stop.set()
            await killer
            progress.cancel()
            dialogue_s = time.monotonic() - t0
            # Let every due deadline fire and every message go out, then stop cleanly.
            await self.drain()
            self.emu.faults = None
            await asyncio.sleep(0.5)
            code = await self.bot.stop()
            total_s = time.monotonic() - t0
            return self.check(dialogue_s, total_s, code)
        finally:
            if self.bot.proc is not None and self.bot.proc.poll() is None:
                self.bot.proc.kill()
            await self.emu.stop()

    def in_flight(self) -> int:
        """Right after a kill: messages the emulator delivered whose outbox rows were still pending.
        The restarted bot sends those again (Telegram has no idempotency key): the only repeats
        the outbox allows, counted exactly instead of guessed per kill."""
        with self.db() as conn:
            rows = conn.execute("SELECT chat_id, payload, status FROM outbox WHERE method='send_message'").fetchall()
        pending: Counter[tuple[int, str]] = Counter()
        marked: Counter[tuple[int, str]] = Counter()
        for r in rows:
            key = (r["chat_id"], json.loads(r["payload"])["text"])
            (pending if r["status"] == "pending" else marked)[key] += 1
        delivered = Counter((chat, m.source_text or "") for chat in {c for c, _ in pending}
                            for m in self.emu.messages(chat))
        return sum(min(n, max(0, delivered[k] - marked[k])) for k, n in pending.items())

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{self.tmp / 'desk.sqlite3'}?mode=ro", uri=True, timeout=30)
        conn.row_factory = sqlite3.Row
        return conn

    async def drain(self) -> None:
        """Until no deadline is due unfired and the outbox is empty: as long as it keeps moving.

        Telegram allows about one message a second per chat, so a duty officer alerted about
        500 incidents in five minutes is still being sent to for a while after the last report.
        """
        loop = asyncio.get_running_loop()
        last, moved = None, loop.time()
        while loop.time() - moved < 60:
            with self.db() as conn:
                pending = conn.execute("SELECT count(*) FROM outbox WHERE status='pending'").fetchone()[0]
                unfired = conn.execute("SELECT count(*) FROM deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL "
                                       "AND kind='incident.forward_remind'").fetchone()[0]
            if pending == 0 and unfired == 0:
                await self.emu.wait_idle(quiet=0.5, timeout=30)
                return
            if (pending, unfired) != last:
                last, moved = (pending, unfired), loop.time()
                if self.args.verbose:
                    print(f"  … draining: {pending} messages queued, {unfired} reminders not yet due",
                          file=sys.stderr, flush=True)
            await asyncio.sleep(1.0)

    # ------------------------------------------------------------------ checks

    def check(self, dialogue_s: float, total_s: float, exit_code: int) -> dict[str, Any]:
        t = self.tally
        problems = t.problems
        with self.db() as conn:
            incidents = conn.execute("SELECT id, number, unit_code, category, place, description, deaths, injured "
                                     "FROM incidents").fetchall()
            by_desc = Counter(r["description"] for r in incidents)
            stored_once = 0
            for rep in self.reports:
                n = by_desc.get(rep.description, 0)
                if n == 1:
                    stored_once += 1
                else:
                    problems.append(f"report {rep.index} stored {n} times")
            for r in incidents:
                rep = next((x for x in self.reports if x.description == r["description"]), None)
                if rep is None:
                    problems.append(f"incident {r['number']} matches no report (a half/foreign record): {dict(r)}")
                    continue
                if (r["place"], r["category"], r["unit_code"], r["deaths"], r["injured"]) != (
                        rep.place, rep.category, rep.unit, rep.casualties[0], rep.casualties[1]):
                    problems.append(f"incident {r['number']} stored wrong facts: {dict(r)}")
                if rep.number != r["number"]:
                    problems.append(f"report {rep.index} confirmed as {rep.number}, stored as {r['number']}")
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
            from datetime import datetime, timezone

            from storage.db import to_db

            now_s = to_db(datetime.now(timezone.utc))
            due = [d for d in deadlines if d["due_at"] <= now_s and d["cancelled_at"] is None]
            unfired = [d for d in due if d["fired_at"] is None]
            # A recurring row (the weekly quota reminder, "thu 17:00") plants its next occurrence
            # with the same kind, ref and stage when it fires: a duplicate is the same due time too.
            dup_rows = Counter((d["kind"], d["ref_id"], d["stage"], d["due_at"]) for d in deadlines)
            events = Counter((e["incident_id"], e["kind"], json.loads(e["detail"] or "{}").get("stage", ""))
                             for e in conn.execute("SELECT incident_id, kind, detail FROM incident_events "
                                                   "WHERE kind IN ('late','forward_reminded')"))
        if status.get("pending") or status.get("failed"):
            problems.append(f"outbox left: {dict(status)}")
        delivered: Counter[tuple[int, str]] = Counter()
        chats = {c for c, _ in expected}
        for chat in chats:
            for m in self.emu.messages(chat):
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
        self.repeated = [f"[{tags[k]}] to {k[0]}: {k[1][:50]!r}" for k in dup]
        if extra > t.in_flight_at_kills:
            for k, (want, got) in list(dup.items())[:5]:
                problems.append(f"duplicate [{tags[k]}] to {k[0]}: want {want} got {got}: {k[1][:60]!r}")
        if unfired:
            problems.append(f"{len(unfired)} due deadlines never fired")
        if any(n > 1 for n in dup_rows.values()):
            problems.append("a deadline was planned twice: " + str([k for k, n in dup_rows.items() if n > 1][:3]))
        fired = [d for d in due if d["fired_at"] is not None]
        want_events = Counter()
        for d in fired:
            if d["kind"] == "incident.due":
                want_events[(d["ref_id"], "late", d["stage"])] += 1
            elif d["kind"] == "incident.forward_remind":
                want_events[(d["ref_id"], "forward_reminded", "")] += 1
        effects_once = sum(1 for k in want_events if events.get(k, 0) == 1)
        for k in want_events:
            if events.get(k, 0) != 1:
                problems.append(f"deadline {k} had {events.get(k, 0)} effects")
        if t.stalls and not self.args.faults:
            problems.append(f"{t.stalls} answers never came without a crash")
        if t.restarted_dialogues:
            problems.append(f"{t.restarted_dialogues} dialogues had to start over")
        if exit_code != 0:
            problems.append(f"bot exited {exit_code} on SIGTERM")
        retry_violations = self.retry_after_violations()
        if retry_violations:
            problems.append(f"{retry_violations} retries came before retry_after")
        return {
            "reports": len(self.reports), "officers": len(self.officers), "kills": t.kills, "restarts": t.restarts,
            "confirmed": sum(1 for r in self.reports if r.number), "stored_exactly_once": stored_once,
            "incidents_in_db": len(incidents),
            "messages_expected": sum(expected.values()), "messages_delivered_once": sum(
                n for k, n in expected.items() if delivered[k] == n),
            "messages_lost": len(lost), "messages_duplicated": extra, "repeated": self.repeated,
            "in_flight_at_kills": t.in_flight_at_kills,
            "by_tag": dict(by_tag),
            "interrupted_conversations": t.interrupted, "resumed_at_step": t.resumed, "answers_resent": t.resends,
            "deadlines_due": len(due), "deadlines_fired": len(fired), "deadline_effects_once": effects_once,
            "deadline_effects_expected": len(want_events),
            "faults": dict(self.emu.stats.faults), "retry_after_violations": retry_violations,
            "sends_after_429": self.emu_retry.retried_429, "error_replies": t.error_replies, "stalls": t.stalls,
            "dialogue_seconds": round(dialogue_s, 1), "total_seconds": round(total_s, 1),
            "problems": problems,
        }

    def retry_after_violations(self) -> int:
        return self.emu_retry.violations if hasattr(self, "emu_retry") else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n\n")[0])
    p.add_argument("--reports", type=int, default=500)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--officers", type=int, default=40)
    p.add_argument("--backdated", type=float, default=0.2, help="share of reports typed as 1 hour ago (deadlines due)")
    p.add_argument("--forward", type=int, default=20, help="seconds until the forward reminder (a deadline)")
    p.add_argument("--faults", type=float, default=0.0, help="Bot API fault rate, e.g. 0.1")
    p.add_argument("--slow", type=float, default=1.0, help="seconds a 'slow' fault stalls")
    p.add_argument("--answer-timeout", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("-v", "--verbose", action="count", default=0, help="print progress every 5 s")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (database, bot log)")
    return p.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="dutydesk-chaos-"))
    try:
        result = await Chaos(args, tmp).run()
        result["folder"] = str(tmp) if args.keep else ""
        return result
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


def render(r: dict[str, Any]) -> str:
    lines = [
        f"chaos: {r['reports']} reports by {r['officers']} officers, {r['kills']} × kill -9, {r['restarts']} restarts"
        + (f", faults {r['faults']}" if r["faults"] else ""),
        f"  reports confirmed            {r['confirmed']}/{r['reports']}",
        f"  stored exactly once          {r['stored_exactly_once']}/{r['reports']} (incidents in db: {r['incidents_in_db']})",
        f"  messages delivered once      {r['messages_delivered_once']}/{r['messages_expected']}"
        f"  lost {r['messages_lost']}  repeated {r['messages_duplicated']} (allowed: {r['in_flight_at_kills']} delivered"
        f" but not yet marked sent at a kill)  by tag {r['by_tag']}",
        f"  interrupted conversations    {r['interrupted_conversations']}, resumed at their step {r['resumed_at_step']}"
        f" (answers re-sent after a crash: {r['answers_resent']})",
        f"  deadlines due                {r['deadlines_due']}, fired {r['deadlines_fired']},"
        f" effects exactly once {r['deadline_effects_once']}/{r['deadline_effects_expected']}",
        f"  retries before retry_after   {r['retry_after_violations']} (sends after a 429 that waited: "
        f"{r['sends_after_429']}; error replies {r['error_replies']}, silent stalls {r['stalls']})",
        f"  time                         {r['dialogue_seconds']} s dialogues, {r['total_seconds']} s total",
    ]
    if r["problems"]:
        lines.append(f"  PROBLEMS ({len(r['problems'])}):")
        lines += [f"    - {p}" for p in r["problems"][:30]]
    else:
        lines.append("  OK: every check held")
    if r.get("folder"):
        lines.append(f"  kept: {r['folder']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    print(render(result))
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
