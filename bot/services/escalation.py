"""Escalation until acknowledged: an incident alert nobody acknowledged reaches more people, on
more channels, step by step along its policy ([escalation] in the config, bot/domain/escalation.py).

Each step due is a deadline row (`escalation.step`) written with the alert or with the step before,
so it survives restarts and fires once; 已收到 cancels the rows in its own transaction, so a step
never fires after the acknowledgement committed.
"""

from __future__ import annotations

import aiosqlite

from bot.domain import escalation as rules
from bot.domain.escalation import Policy, Step, Target
from bot.domain.incidents import Incident
from bot.domain.members import Member, Role
from bot.services import channel_messages as chan
from bot.services import incident_text as txt
from bot.services.base import Services
from bot.services.routing import rostered_now, skip_away
from reminders.kinds import On
from storage import deadlines, incidents, members
from storage.deadlines import Deadline
from storage.uow import Tx

REF = "incident"
TAG = "escalation"


def policies(s: Services) -> dict[str, Policy]:
    return {p.name: Policy(p.name, tuple(Step(tuple(rules.parse_target(t) for t in st.targets), st.delay)
                                         for st in p.steps), p.repeat)
            for p in s.config.escalation.policies}


def policy_for(s: Services, inc: Incident) -> Policy | None:
    cfg = s.config.escalation
    return policies(s).get(cfg.major if inc.is_major(s.policy) else cfg.incident)


async def _people(conn: aiosqlite.Connection, inc: Incident, who: str, s: Services) -> list[Member]:
    if who == "duty@shift":
        return await skip_away(conn, (await rostered_now(conn, s.now()))[0])
    if who == "leader@duty":
        leader = (await rostered_now(conn, s.now()))[1]
        return [leader] if leader is not None else []
    if who.startswith("member:"):
        m = await members.by_id(conn, int(who[len("member:"):]))
        return [m] if m is not None and m.active else []
    role, _, scope = who[len("role:"):].partition("@")
    return await skip_away(conn, await members.with_roles(conn, [Role(role)], inc.unit_code if scope else None))


async def start(s: Services, tx: Tx, inc: Incident, alerted: list[Member]) -> None:
    """With a new incident's alert: its policy's first step at once (those already alerted on
    Telegram are not sent it twice), the next planted."""
    policy = policy_for(s, inc)
    if policy is not None:
        await _fire(s, tx, inc, policy, 0, 0, skip_tg={m.id for m in alerted})


async def _fire(s: Services, tx: Tx, inc: Incident, policy: Policy, step: int, round_: int, *,
                skip_tg: frozenset[int] | set[int] = frozenset()) -> None:
    from bot.services.incidents import entitled, is_office

    targets: list[Target] = list(policy.steps[step].targets)
    by_channel: dict[str, dict[int, Member]] = {"tg": {}, "sms": {}}
    robots: list[str] = []
    for t in targets:
        if t.channel == "robot":
            robots.append(t.who)
            continue
        for m in entitled(inc, await _people(tx.conn, inc, t.who, s)):
            by_channel[t.channel].setdefault(m.id, m)
    tag = f"{TAG}:{round_}:{step}"
    elapsed = s.fmt.dur(tx.now - inc.created_at)
    tg = [m for m in by_channel["tg"].values() if m.id not in skip_tg]
    if tg:
        text = s.texts("channels.tg.escalated", number=inc.number, unit=s.unit_name(inc.unit_code),
                       category=s.texts(f"incident.cat.{inc.category.value}"), elapsed=elapsed)
        for office in (True, False):
            chats = [m.telegram_id for m in tg if is_office(m) == office]
            if chats:
                await tx.send_text_all(chats, text, markup=txt.alert_keyboard(s, inc, office=office),
                                       ref_kind=REF, ref_id=inc.id, tag=TAG)
    texted, no_phone = await chan.queue_sms(s, tx, inc, list(by_channel["sms"].values()),
                                            chan.sms_text(s, inc, "escalated", elapsed=elapsed), tag=tag)
    headline = s.texts("channels.robot.escalated", elapsed=elapsed) if step or round_ else ""
    posted = await chan.queue_robots(s, tx, inc, chan.robots_for(s, "escalation", robots), tag=tag,
                                     headline=str(headline))
    await incidents.add_event(tx.conn, inc.id, tx.now, None, "escalated", n=step + 1, round=round_ + 1,
                              tg=len(tg), sms=len(texted), robots=posted)
    if no_phone and s.config.sms.url:
        await incidents.add_event(tx.conn, inc.id, tx.now, None, "no_phone", names="、".join(m.name for m in no_phone))
    nxt = policy.after(step, round_)
    if nxt is not None:
        await tx.add_deadline(rules.KIND, inc.id, tx.now + policy.steps[step].delay, policy.name,
                              {"step": nxt[0], "round": nxt[1]})


async def fire_step(s: Services, tx: Tx, d: Deadline) -> None:
    inc = await incidents.get(tx.conn, d.ref_id)
    if inc is None or inc.acked_by is not None or not inc.open:
        return
    policy = policies(s).get(d.stage) or policy_for(s, inc)  # the config may have changed since
    if policy is None:
        return
    step = min(int(d.payload.get("step", 0)), len(policy.steps) - 1)
    await _fire(s, tx, inc, policy, step, int(d.payload.get("round", 0)))


async def stop(s: Services, tx: Tx, inc: Incident, member: Member) -> None:
    """已收到 committed: no further step fires; the timeline says who stopped it at which step."""
    cancelled = await deadlines.cancel(tx.conn, rules.KIND, inc.id, tx.now)
    steps = [d for _at, _who, kind, d in await incidents.events(tx.conn, inc.id) if kind == "escalated"]
    if cancelled or len(steps) > 1:
        last = steps[-1] if steps else {"n": 1, "round": 1}
        await incidents.add_event(tx.conn, inc.id, tx.now, member.id, "escalation_stopped", name=member.name,
                                  n=last["n"], round=last["round"])


def register(s: Services, on: On) -> None:
    async def fire(tx: Tx, d: Deadline) -> None:
        await fire_step(s, tx, d)

    on(rules.KIND, fire)

