"""The office's 10-minute clock to the city (上报市委), one per stage received.

The district office passed the facts of the road collapse to the city office within 10
minutes and kept sending updates: the first report starts a clock, and so does each later
stage the unit sends (written, full, follow-up, corrected). At `forward_remind` the duty
officers are reminded; at `forward_target` without 已上报市委 the directors and the leader on
duty are told the clock ran out, and the incident records 超时上报 and, once forwarded, by how much.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from bot import callbacks as cb
from bot.domain import incidents as rules
from bot.domain.accountability import ForwardClock, MarkKind, whole_minutes
from bot.domain.incidents import Incident
from bot.domain.members import Action, Member, Role
from bot.fmt import esc
from bot.services import escalation
from bot.services.base import Services
from bot.services.errors import Stale
from bot.services.incident_alerts import Outcome
from bot.services.incidents import REF, broadcast, load_for, refresh_alerts
from bot.services.routing import duty_officers, rostered_now, skip_away
from reminders.kinds import On
from storage import deadlines, incident_forwards, incident_marks, incidents, members, outbox
from storage.deadlines import Deadline
from storage.uow import Tx


def forward_markup(s: Services, inc: Incident, clock_id: int, *, first: bool) -> dict[str, object]:
    """已上报市委 for one clock: the incident's first clock is the alert's own button (i:fwd:<incident>)."""
    data = cb.incident(cb.FORWARD, inc.id) if first else f"{cb.FORWARD_CLOCK}:{cb.FORWARD_OK}:{clock_id}"
    return cb.keyboard([[(s.texts("incident.btn.forward"), data)]])


async def is_first_clock(tx: Tx, clock: ForwardClock) -> bool:
    first = await incident_forwards.first_of(tx.conn, clock.incident_id)
    return first is not None and first.id == clock.id


def stage_name(s: Services, stage: str) -> str:
    return s.texts(f"incident.stage.{stage}")


async def forward_first(s: Services, member: Member, incident_id: int, *, at: datetime) -> Outcome:
    """已上报市委 on the alert, pressed `at`: stops the first report's clock."""
    async with s.uow() as tx:
        inc = await load_for(s, tx.conn, member, incident_id, Action.FORWARD_UPSTREAM)
        clock = await incident_forwards.first_of(tx.conn, inc.id)
        if clock is None:
            raise Stale()
        return await _forward(s, tx, member, inc, clock, at)


async def forward_clock(s: Services, member: Member, clock_id: int, *, at: datetime) -> Outcome:
    """已上报市委 under a later stage, pressed `at`: stops that stage's clock."""
    async with s.uow() as tx:
        clock = await incident_forwards.get(tx.conn, clock_id)
        if clock is None:
            raise Stale()
        inc = await load_for(s, tx.conn, member, clock.incident_id, Action.FORWARD_UPSTREAM)
        return await _forward(s, tx, member, inc, clock, at)


async def _forward(s: Services, tx: Tx, member: Member, inc: Incident, clock: ForwardClock, at: datetime) -> Outcome:
    """The clock stops at the press (`at`, never before the stage came in nor after now): the time to
    the city counts to when the person pressed, not to when the bot got to it."""
    pressed = min(max(at, clock.started_at), tx.now)
    if not await incident_forwards.forward(tx.conn, clock.id, member.id, pressed):
        who = await members.by_id(tx.conn, clock.forwarded_by or 0)
        return Outcome(False, s.texts("incident.alert.forward_already", name=esc(who.name if who else "?"),
                                      time=s.fmt.dt(clock.forwarded_at)))
    for kind in (rules.FORWARD_REMIND, rules.FORWARD_DUE):
        await deadlines.cancel(tx.conn, kind, inc.id, tx.now, str(clock.id))
    await escalation.stop(s, tx, inc, member, f"{escalation.FORWARD}:{clock.id}")
    elapsed = pressed - clock.started_at
    over = clock.overrun(s.policy.forward_target, pressed)
    if over is not None:
        # Forwarded after the target (perhaps before the breach check ran): 超时上报, by this much.
        await incident_forwards.breach(tx.conn, clock.id, tx.now)
        await incident_marks.add(tx.conn, inc.id, inc.unit_code, MarkKind.FORWARD_LATE, tx.now, stage=clock.stage,
                                 ref=clock.id)
        await incident_marks.set_minutes(tx.conn, inc.id, MarkKind.FORWARD_LATE, clock.stage, whole_minutes(over),
                                         clock.id)
    elif clock.breached_at is not None:
        await _withdraw_breach(s, tx, inc, clock, pressed)
    await incidents.add_event(tx.conn, inc.id, pressed, member.id, "forwarded", name=member.name,
                              seconds=int(elapsed.total_seconds()), stage=clock.stage)
    if await is_first_clock(tx, clock):
        await incidents.forward(tx.conn, inc.id, member.id, pressed)  # the alert shows who and how fast
        if inc.acked_by is None:
            await incidents.acknowledge(tx.conn, inc.id, member.id, pressed)  # forwarding implies the office has it
            await escalation.stop(s, tx, inc, member)
        fresh = await incidents.get(tx.conn, inc.id)
        assert fresh is not None
        await refresh_alerts(s, tx, fresh)
    late = s.texts("incident.forward.late_suffix", over=s.fmt.dur(over)) if over is not None else ""
    return Outcome(True, s.texts("incident.alert.forward_done", elapsed=s.fmt.dur(elapsed)) + late)


async def _withdraw_breach(s: Services, tx: Tx, inc: Incident, clock: ForwardClock, pressed: datetime) -> None:
    """已上报市委 pressed before the target, handled after the breach check had run (the bot got to the
    press late): no 超时上报 on record for this clock, an event says so (the breach event stays), and
    everyone the breach was sent to hears it no longer holds."""
    await incident_forwards.unbreach(tx.conn, clock.id)
    await incident_marks.withdraw(tx.conn, inc.id, MarkKind.FORWARD_LATE, clock.stage, ref=clock.id)
    await incidents.add_event(tx.conn, inc.id, tx.now, None, "forward_breach_withdrawn", stage=clock.stage)
    # This clock's breach messages: those carrying its own 已上报市委 button.
    button = _callback_data(forward_markup(s, inc, clock.id, first=await is_first_clock(tx, clock)))
    chats = dict.fromkeys(r.chat_id for r in await outbox.sent_messages(tx.conn, REF, inc.id, "forward_breach")
                          if button & _callback_data(r.payload.get("reply_markup")))
    told = [m for chat in chats if (m := await members.by_telegram_id(tx.conn, chat)) is not None]
    text = s.texts("incident.forward.breach_withdrawn", number=inc.number, stage=stage_name(s, clock.stage),
                   time=s.fmt.dt(pressed), target=s.fmt.dur(s.policy.forward_target))
    await broadcast(s, tx, inc, text, told, tag="forward_breach_withdrawn")


def _callback_data(markup: object) -> set[str]:
    """The callback data of an inline keyboard's buttons."""
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return {str(b.get("callback_data")) for row in rows for b in row if isinstance(b, dict)}


# --- the clock's checks (deadline rows) ----------------------------------------------


async def _clock_of(tx: Tx, d: Deadline) -> ForwardClock | None:
    """The row's clock: its stage holds the clock's id ("" on rows planted before clocks: the first)."""
    if d.stage.isdigit():
        return await incident_forwards.get(tx.conn, int(d.stage))
    return await incident_forwards.first_of(tx.conn, d.ref_id)


async def forward_reminder(s: Services, tx: Tx, d: Deadline) -> None:
    """`forward_remind` after the office received a stage, with no 已上报市委: the duty officers."""
    clock = await _clock_of(tx, d)
    inc = await incidents.get(tx.conn, d.ref_id)
    if clock is None or inc is None or clock.forwarded_at is not None:
        return
    text = s.texts("incident.alert.forward_remind", number=inc.number, unit=esc(s.unit_name(inc.unit_code)),
                   elapsed=s.fmt.dur(tx.now - clock.started_at), target=s.fmt.dur(s.policy.forward_target))
    first = await is_first_clock(tx, clock)
    if not first:
        text = s.texts("incident.forward.stage_prefix", stage=stage_name(s, clock.stage)) + text
    await broadcast(s, tx, inc, text, await duty_officers(tx.conn, at=tx.now), tag="forward_remind",
                    markup=forward_markup(s, inc, clock.id, first=first))
    # The first report's clock keeps the event as it always was (no stage); a later stage's names it.
    await incidents.add_event(tx.conn, inc.id, tx.now, None, "forward_reminded",
                              **({} if first else {"stage": clock.stage}))


async def breach_audience(tx: Tx) -> list[Member]:
    """Who is told the clock ran out: the directors and the leader on duty (带班领导)."""
    people = await members.with_roles(tx.conn, [Role.DIRECTOR, Role.LEADER, Role.DUTY])
    _on_duty, leader = await rostered_now(tx.conn, tx.now, people)
    directors = [m for m in people if Role.DIRECTOR in m.roles]
    chosen = {m.id: m for m in [*directors, *([leader] if leader is not None else [])]}
    return await skip_away(tx.conn, list(chosen.values()))


async def forward_due(s: Services, tx: Tx, d: Deadline) -> None:
    """At the target without 已上报市委: 超时上报 recorded; the directors and 带班领导 told, once."""
    clock = await _clock_of(tx, d)
    inc = await incidents.get(tx.conn, d.ref_id)
    if clock is None or inc is None or not await incident_forwards.breach(tx.conn, clock.id, tx.now):
        return
    await incident_marks.add(tx.conn, inc.id, inc.unit_code, MarkKind.FORWARD_LATE, tx.now, stage=clock.stage,
                             ref=clock.id)
    text = s.texts("incident.forward.breach", number=inc.number, unit=esc(s.unit_name(inc.unit_code)),
                   stage=stage_name(s, clock.stage), received=s.fmt.dt(clock.started_at),
                   elapsed=s.fmt.dur(tx.now - clock.started_at), target=s.fmt.dur(s.policy.forward_target))
    await broadcast(s, tx, inc, text, await breach_audience(tx), tag="forward_breach",
                    markup=forward_markup(s, inc, clock.id, first=await is_first_clock(tx, clock)))
    await incidents.add_event(tx.conn, inc.id, tx.now, None, "forward_breached", stage=clock.stage)
    await escalation.start_unforwarded(s, tx, inc, clock)  # `[escalation] forward`: "" = told once, as before


HANDLERS = {
    rules.FORWARD_REMIND: forward_reminder,
    rules.FORWARD_DUE: forward_due,
}


async def forward_target(s: Services, tx: Tx, d: Deadline) -> datetime | None:
    """What the reminder to forward warns of: its clock's target, while nobody has forwarded."""
    clock = await _clock_of(tx, d)
    return clock.target(s.policy.forward_target) if clock is not None and clock.forwarded_at is None else None


def register(s: Services, on: On) -> None:
    """Attach these to the scheduler: `register(services, scheduler.on)`. The reminder to forward is
    dropped once the target has passed (the breach says it, true however late it fires)."""
    for kind, fn in HANDLERS.items():
        on(kind, partial(fn, s), warns_of=partial(forward_target, s) if kind == rules.FORWARD_REMIND else None)
