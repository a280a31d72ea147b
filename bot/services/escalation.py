"""Escalation until acknowledged: an incident alert nobody acknowledged reaches more people, on
more channels, step by step along its policy ([escalation] in the config, bot/domain/escalation.py);
so does a stage not forwarded to the city, and — as `Subject`s (bot/services/escalation_subjects.py) —
an urgent notice unsigned at its deadline and a leave approver silent past the last reminder.

Each step due is a deadline row (`escalation.step`) written with the alert or with the step before,
so it survives restarts and fires once; 已收到 cancels the rows in its own transaction, so a step
never fires after the acknowledgement committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain import escalation as rules
from bot.domain.accountability import ForwardClock
from bot.domain.escalation import Policy, Step, Target
from bot.domain.incidents import Incident
from bot.domain.members import Member, Role
from bot.services import channel_messages as chan
from bot.services import incident_text as txt
from bot.services.base import Services
from bot.services.routing import Shift, skip_away
from reminders.kinds import On
from storage import channels as chan_store
from storage import deadlines, incident_forwards, incidents, members, outbox
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


async def _people(shift: Shift, who: str, units: list[str], waiting: list[Member]) -> list[Member]:
    """Whom a target selector names at the shift's moment. `units`: the unit(s) `@unit` means;
    `waiting`: those whose answer is awaited."""
    conn = shift.conn
    if who == "waiting":
        return waiting
    if who == "duty@shift":
        return await skip_away(conn, (await shift.rostered())[0], shift=shift)
    if who == "leader@duty":
        leader = (await shift.rostered())[1]
        return [leader] if leader is not None else []
    if who.startswith("member:"):
        m = await members.by_id(conn, int(who[len("member:"):]))
        return [m] if m is not None and m.active else []
    role, _, scope = who[len("role:"):].partition("@")
    if not scope:
        return await skip_away(conn, await members.with_roles(conn, [Role(role)]), shift=shift)
    found: dict[int, Member] = {}
    for unit in units:
        found.update((m.id, m) for m in await members.with_roles(conn, [Role(role)], unit))
    return await skip_away(conn, list(found.values()), shift=shift)


async def _alerted_office(tx: Tx, inc: Incident) -> list[Member]:
    """An alert's `waiting`: the office members it went to (those with its 已收到 button)."""
    from bot.services.incidents import is_office

    chats = [chat for chat, _status, _at in await chan_store.telegram_deliveries(tx.conn, REF, inc.id, ("alert",))]
    return [m for m in await members.by_telegram_ids(tx.conn, chats) if is_office(m)]


ACK, FORWARD = "ack", "forward"  # what an escalation waits for: 已收到, or 已上报市委 on one forward clock


async def start(s: Services, tx: Tx, inc: Incident, alerted: list[Member], *, shift: Shift | None = None) -> None:
    """With a new incident's alert: its policy's first step at once (those already alerted on
    Telegram are not sent it twice), the next planted. `shift`: the one the alert's audience read."""
    policy = policy_for(s, inc)
    if policy is not None:
        await _fire(s, tx, inc, policy, 0, 0, ACK, skip_tg={m.id for m in alerted}, shift=shift)


async def start_unforwarded(s: Services, tx: Tx, inc: Incident, clock: ForwardClock) -> None:
    """A forward clock ran out without 已上报市委: `[escalation] forward`'s policy, when there is one."""
    policy = policies(s).get(s.config.escalation.forward)
    if policy is not None:
        await _fire(s, tx, inc, policy, 0, 0, f"{FORWARD}:{clock.id}")


async def _fire(s: Services, tx: Tx, inc: Incident, policy: Policy, step: int, round_: int, what: str, *,
                skip_tg: frozenset[int] | set[int] = frozenset(), shift: Shift | None = None) -> None:
    from bot.services.incidents import entitled, is_office

    shift = shift if shift is not None and shift.conn is tx.conn and shift.at == tx.now else Shift(tx.conn, tx.now)
    targets: list[Target] = list(policy.steps[step].targets)
    by_channel: dict[str, dict[int, Member]] = {"tg": {}, "sms": {}}
    robots: list[str] = []
    for t in targets:
        if t.channel == "robot":
            robots.append(t.who)
            continue
        waiting = await _alerted_office(tx, inc) if t.who == "waiting" else []
        for m in entitled(inc, await _people(shift, t.who, [inc.unit_code], waiting)):
            by_channel[t.channel].setdefault(m.id, m)
    forward = what.startswith(FORWARD)
    key = "unforwarded" if forward else "escalated"
    tag = f"{TAG}:{what}:{round_}:{step}"
    elapsed = s.fmt.dur(tx.now - inc.created_at)
    tg = [m for m in by_channel["tg"].values() if m.id not in skip_tg]
    if tg:
        text = s.texts(f"channels.tg.{key}", number=inc.number, unit=s.unit_name(inc.unit_code),
                       category=s.texts(f"incident.cat.{inc.category.value}"), elapsed=elapsed)
        for office in (True, False):
            chats = [m.telegram_id for m in tg if is_office(m) == office]
            if not chats:
                continue
            if forward:
                from bot.services.incident_forward import forward_markup, is_first_clock

                clock = await incident_forwards.get(tx.conn, int(what.split(":")[1]))
                markup = forward_markup(s, inc, clock.id, first=await is_first_clock(tx, clock)) \
                    if clock is not None and office else None
            else:
                markup = txt.alert_keyboard(s, inc, office=office)
            await tx.send_text_all(chats, text, markup=markup, ref_kind=REF, ref_id=inc.id, tag=_tg_tag(what))
    texted, no_phone = await chan.queue_sms(s, tx, inc, list(by_channel["sms"].values()),
                                            chan.sms_text(s, inc, key, elapsed=elapsed), tag=tag)
    headline = s.texts(f"channels.robot.{key}", elapsed=elapsed) if step or round_ or forward else ""
    posted = await chan.queue_robots(s, tx, inc, chan.robots_for(s, "escalation", robots), tag=tag,
                                     headline=str(headline))
    await incidents.add_event(tx.conn, inc.id, tx.now, None, "unforwarded_escalated" if forward else "escalated",
                              n=step + 1, round=round_ + 1, tg=len(tg), sms=len(texted), robots=posted)
    if no_phone and s.config.sms.url:
        await incidents.add_event(tx.conn, inc.id, tx.now, None, "no_phone",
                                  names=s.texts("core.list_sep").join(m.name for m in no_phone))
    nxt = policy.after(step, round_)
    if nxt is not None:
        await tx.add_deadline(rules.KIND, inc.id, tx.now + policy.steps[step].delay, what,
                              {"policy": policy.name, "step": nxt[0], "round": nxt[1]})


def _tg_tag(what: str) -> str:
    """The Telegram outbox tag of a step's messages: "escalation" for 已收到 (failover and /incident read it),
    one per forward clock, so 已上报市委 on one clock stops only its own."""
    return TAG if what == ACK else f"{TAG}_{what}"


async def _waiting(tx: Tx, inc: Incident, what: str) -> bool:
    """Is what the escalation waits for still not done?"""
    if not inc.open:
        return False
    if what.startswith(FORWARD):
        clock = await incident_forwards.get(tx.conn, int(what.split(":")[1]))
        return clock is not None and clock.forwarded_at is None
    return inc.acked_by is None


# --- the same mechanism for other unanswered things: an urgent notice unsigned, a leave approver silent --


@dataclass(frozen=True)
class Subject:
    """Something besides an incident that waits on people, as an escalation step needs it."""

    waiting: list[Member]  # whose answer is awaited; none left: the escalation ends
    units: list[str]  # what `role:…@unit` means here
    tg_text: str  # HTML, to every Telegram target
    tg_markup: dict[str, object] | None  # the buttons that answer, for the waiting ones
    sms_text: str
    robot_title: str
    robot_text: str  # markdown
    ref_kind: str
    ref_id: int
    number: str = ""


SubjectLoader = Callable[[Services, Tx, int, str], Awaitable[Subject | None]]  # (services, tx, ref_id, stage)
SUBJECTS: dict[str, SubjectLoader] = {}  # stage prefix ("notice", "leave") → its loader


def subject(stage_prefix: str) -> Callable[[SubjectLoader], SubjectLoader]:
    """Register a subject's loader (bot/services/escalation_subjects.py)."""
    def add(loader: SubjectLoader) -> SubjectLoader:
        SUBJECTS[stage_prefix] = loader
        return loader
    return add


async def start_subject(s: Services, tx: Tx, policy_name: str, stage: str, ref_id: int) -> None:
    """Start escalating `stage` (e.g. "notice", "leave:2") of thing `ref_id` along the named policy, if any."""
    policy = policies(s).get(policy_name)
    if policy is not None:
        await _fire_subject(s, tx, policy, 0, 0, stage, ref_id)


async def _fire_subject(s: Services, tx: Tx, policy: Policy, step: int, round_: int, stage: str, ref_id: int) -> None:
    load = SUBJECTS[stage.split(":")[0]]
    subj = await load(s, tx, ref_id, stage)
    if subj is None or not subj.waiting:
        return  # answered meanwhile: nothing to escalate, nothing planted
    waiting_ids = {m.id for m in subj.waiting}
    tg: dict[int, Member] = {}
    sms: dict[int, Member] = {}
    robots: list[str] = []
    shift = Shift(tx.conn, tx.now)
    for t in policy.steps[step].targets:
        if t.channel == "robot":
            robots.append(t.who)
            continue
        for m in await _people(shift, t.who, subj.units, subj.waiting):
            (tg if t.channel == "tg" else sms).setdefault(m.id, m)
    tag = f"{TAG}:{stage}:{round_}:{step}"
    for answering in (True, False):
        chats = [m.telegram_id for m in tg.values() if (m.id in waiting_ids) == answering]
        if chats:
            await tx.send_text_all(chats, subj.tg_text, markup=subj.tg_markup if answering else None,
                                   ref_kind=subj.ref_kind, ref_id=subj.ref_id, tag=TAG)
    await chan.queue_sms_for(s, tx, list(sms.values()), subj.sms_text, ref_kind=subj.ref_kind, ref_id=subj.ref_id,
                             tag=tag, number=subj.number)
    await chan.queue_text_robots(s, tx, chan.robots_for(s, "escalation", robots), subj.robot_title, subj.robot_text,
                                 ref_kind=subj.ref_kind, ref_id=subj.ref_id, tag=tag)
    nxt = policy.after(step, round_)
    if nxt is not None:
        await tx.add_deadline(rules.KIND, ref_id, tx.now + policy.steps[step].delay, stage,
                              {"policy": policy.name, "step": nxt[0], "round": nxt[1]})


async def stop_subject(tx: Tx, stage: str, ref_id: int) -> int:
    """The answer committed: the steps planted for it are dropped in the same transaction, and so are
    the steps' messages still waiting (a retry's backoff, a robot's pace): kept, marked."""
    ref_kind = stage.split(":")[0]  # a subject's messages are about its own row ("notice", "leave")
    reason = f"{chan_store.CANCELLED} answered"
    await chan_store.cancel_pending(tx.conn, ref_kind, ref_id, f"{TAG}:{stage}:", reason)
    await outbox.cancel_pending(tx.conn, ref_kind, ref_id, TAG, reason)
    return await deadlines.cancel(tx.conn, rules.KIND, ref_id, tx.now, stage=stage)


async def fire_step(s: Services, tx: Tx, d: Deadline) -> None:
    if d.stage.split(":")[0] in SUBJECTS:
        policy = policies(s).get(str(d.payload.get("policy")))
        if policy is not None:
            step = min(int(d.payload.get("step", 0)), len(policy.steps) - 1)
            await _fire_subject(s, tx, policy, step, int(d.payload.get("round", 0)), d.stage, d.ref_id)
        return
    inc = await incidents.get(tx.conn, d.ref_id)
    if inc is None or not await _waiting(tx, inc, d.stage):
        return
    policy = policies(s).get(str(d.payload.get("policy"))) or policy_for(s, inc)  # the config may have changed
    if policy is None:
        return
    step = min(int(d.payload.get("step", 0)), len(policy.steps) - 1)
    await _fire(s, tx, inc, policy, step, int(d.payload.get("round", 0)), d.stage)


async def stop(s: Services, tx: Tx, inc: Incident, member: Member, what: str = ACK) -> None:
    """已收到 (or 已上报市委 on a clock) committed: no further step fires; the timeline says who
    stopped it at which step."""
    cancelled = await deadlines.cancel(tx.conn, rules.KIND, inc.id, tx.now, stage=what)
    # The steps' messages still waiting (a retry's backoff, a robot's pace) are dropped too: kept, marked.
    reason = f"{chan_store.CANCELLED} {what} done by member {member.id}"
    await chan_store.cancel_pending(tx.conn, REF, inc.id, f"{TAG}:{what}:", reason)
    await outbox.cancel_pending(tx.conn, REF, inc.id, _tg_tag(what), reason)
    kind = "unforwarded_escalated" if what.startswith(FORWARD) else "escalated"
    steps = [d for _at, _who, k, d in await incidents.events(tx.conn, inc.id) if k == kind]
    if cancelled or (kind == "escalated" and len(steps) > 1):
        last = steps[-1] if steps else {"n": 1, "round": 1}
        # 已上报市委 stopped the unforwarded escalation; 已收到 the acknowledgement's
        event = "forward_escalation_stopped" if what.startswith(FORWARD) else "escalation_stopped"
        await incidents.add_event(tx.conn, inc.id, tx.now, member.id, event, name=member.name,
                                  n=last["n"], round=last["round"])


def register(s: Services, on: On) -> None:
    from bot.services import escalation_subjects  # noqa: F401  (registers the notice and leave subjects)

    async def fire(tx: Tx, d: Deadline) -> None:
        await fire_step(s, tx, d)

    on(rules.KIND, fire)
