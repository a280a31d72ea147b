"""What happens when a leave deadline row comes due (called by reminders/scheduler)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from bot.domain import escalation as escalation_rules
from bot.domain.leave import LeaveStatus
from bot.fmt import esc
from bot.services import leave_text as txt
from bot.services.base import Services
from bot.services.leave import (
    ASK_TAG,
    BACK_DUE,
    BACK_REMIND,
    BEGIN,
    END,
    REF,
    REMIND,
    audience,
    back_times,
    card,
    requester_of,
)
from bot.services.member_gone import unstick
from reminders.kinds import On
from storage import leave, members
from storage.deadlines import Deadline
from storage.uow import Tx


async def remind_approvers(s: Services, tx: Tx, d: Deadline) -> None:
    """A step still waiting after `remind_after`: remind whoever has not decided (催办)."""
    req = await leave.get(tx.conn, d.ref_id)
    if req is None or not req.pending or str(req.step) != d.stage:
        return
    waiting = [a for a in await leave.approvers(tx.conn, req.id, req.step) if a.decision is None]
    if await unstick(s, tx, req):  # nobody active left to decide (deactivated): it moved on instead
        return
    body = await card(s, tx, req)
    for a in waiting:
        m = await members.by_id(tx.conn, a.member_id)
        if m is None or not m.active:
            continue
        text = s.texts("leave.remind_approver", id=req.id, waited=s.fmt.dur(tx.now - a.asked_at), facts=body)
        await tx.send_text(m.telegram_id, text, markup=txt.approval_keyboard(s, req.id), ref_kind=REF, ref_id=req.id,
                           tag=f"{ASK_TAG}{req.step}")
    await leave.add_event(tx.conn, req.id, tx.now, None, "reminded", count=len(waiting))
    n = int(d.payload.get("n", 1))
    if waiting and n < s.config.leave.remind_times:
        await tx.add_deadline(REMIND, req.id, tx.now + s.config.leave.remind_after, d.stage, {"n": n + 1})
    elif waiting and (policy := s.config.escalation.leave):
        # Silent past the last reminder: `[escalation] leave`'s policy starts one reminder interval later.
        await tx.add_deadline(escalation_rules.KIND, req.id, tx.now + s.config.leave.remind_after,
                              f"leave:{req.step}", {"policy": policy, "step": 0, "round": 0})


async def leave_begins(s: Services, tx: Tx, d: Deadline) -> None:
    """Approved leave starts: from now on alerts for this member go to the stand-in."""
    req = await leave.get(tx.conn, d.ref_id)
    if req is None or req.status is not LeaveStatus.APPROVED or req.returned_at is not None:
        return
    if req.end_at > tx.now:
        await leave.set_on_leave(tx.conn, req.id, True)
        await leave.add_event(tx.conn, req.id, tx.now, None, "began")


async def leave_ends(s: Services, tx: Tx, d: Deadline) -> None:
    req = await leave.get(tx.conn, d.ref_id)
    if req is None:
        return
    await leave.set_on_leave(tx.conn, req.id, False)


async def back_reminder(s: Services, tx: Tx, d: Deadline) -> None:
    """The return day: remind the member to report back (/back or the 我已返岗 button)."""
    req = await leave.get(tx.conn, d.ref_id)
    if req is None or req.status is not LeaveStatus.APPROVED or req.returned_at is not None:
        return
    m = await requester_of(tx, req)
    text = s.texts("leave.back_remind", id=req.id, period=txt.period_text(s, req.start_at, req.end_at))
    await tx.send_text(m.telegram_id, text, markup=txt.back_keyboard(s, req.id), ref_kind=REF, ref_id=req.id,
                       tag="back_remind")
    await leave.add_event(tx.conn, req.id, tx.now, None, "back_reminded")


async def back_overdue(s: Services, tx: Tx, d: Deadline) -> None:
    """Not reported back by the end of the return day plus grace: the unit head and the office are told."""
    req = await leave.get(tx.conn, d.ref_id)
    if req is None or req.status is not LeaveStatus.APPROVED or req.returned_at is not None:
        return
    if not await leave.mark_back_alerted(tx.conn, req.id, tx.now):
        return
    m = await requester_of(tx, req)
    people = await audience(s, tx, s.config.leave.overdue_notify, req.unit_code, exclude=[m.id])
    text = s.texts("leave.back_overdue", name=esc(m.name), unit=esc(s.unit_name(req.unit_code)), id=req.id,
                   period=txt.period_text(s, req.start_at, req.end_at))
    for p in people:
        await tx.send_text(p.telegram_id, text, ref_kind=REF, ref_id=req.id, tag="back_overdue")
    await tx.send_text(m.telegram_id, s.texts("leave.back_overdue_self", id=req.id),
                       markup=txt.back_keyboard(s, req.id), ref_kind=REF, ref_id=req.id, tag="back_remind")
    await leave.add_event(tx.conn, req.id, tx.now, None, "back_overdue", count=len(people))


async def return_day_end(s: Services, tx: Tx, d: Deadline) -> datetime | None:
    """What the return-day reminder warns of: "today is your return day" is true until that day ends."""
    req = await leave.get(tx.conn, d.ref_id)
    if req is None:
        return None
    _remind, due = back_times(s, req)
    return due - s.config.leave.back_grace


HANDLERS = {
    REMIND: remind_approvers,
    BEGIN: leave_begins,
    END: leave_ends,
    BACK_REMIND: back_reminder,
    BACK_DUE: back_overdue,
}
# Reminders that count down to a moment (scheduler `warns_of`); the approvers' 催办 says how long
# the request has waited, true however late it fires.
WARNS_OF = {BACK_REMIND: return_day_end}


def register(s: Services, on: On) -> None:
    """Attach these to the scheduler: `register(services, scheduler.on)`."""
    for kind, fn in HANDLERS.items():
        warns = WARNS_OF.get(kind)
        on(kind, partial(fn, s), warns_of=partial(warns, s) if warns else None)
