"""What happens when a notice's deadline row comes due (called by reminders/scheduler)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from bot.domain import notices as rules
from bot.domain.members import Role
from bot.fmt import esc
from bot.services import escalation, routing
from bot.services import notice_text as txt
from bot.services.base import Services
from bot.services.notices import REF, TALLY, group_lines, remind_pending
from reminders.kinds import On
from storage import members, notices
from storage.deadlines import Deadline
from storage.uow import Tx


async def auto_resend(s: Services, tx: Tx, d: Deadline) -> None:
    """At half the receipt deadline: the notice again, to those who have not signed only."""
    n = await notices.get(tx.conn, d.ref_id)
    if n is None or n.finished_at is not None:
        return
    await remind_pending(s, tx, n)


async def receipt_due(s: Services, tx: Tx, d: Deadline) -> None:
    """At the deadline: each unit head hears who in their unit has not signed; the sender gets the tally."""
    n = await notices.get(tx.conn, d.ref_id)
    if n is None or not await notices.finish(tx.conn, n.id, tx.now):
        return
    receipts = await notices.receipts(tx.conn, n.id)
    sep = s.texts("core.list_sep")
    for unit in rules.pending_heads_units(receipts):
        names = sep.join(esc(r.name) for r in receipts if r.unit_code == unit and not r.received)
        text = s.texts("notice.due_unit_head", title=esc(n.title), unit=esc(s.unit_name(unit)), names=names,
                       due=s.fmt.dt(n.due_at))
        heads = await routing.skip_away(tx.conn, await members.with_roles(tx.conn, [Role.UNIT_HEAD], unit))
        for head in heads:
            if head.id != n.sender_id:
                await tx.send_text(head.telegram_id, text, ref_kind=REF, ref_id=n.id, tag="escalation")
    sender = await members.by_id(tx.conn, n.sender_id)
    if sender is not None and sender.active:
        title = s.texts("notice.final_tally_head")
        body = txt.tally_text(s, n, receipts, await group_lines(s, tx.conn, n))
        await tx.send_text(sender.telegram_id, title + "\n" + body, ref_kind=REF, ref_id=n.id, tag=TALLY)
    if n.urgent and any(not r.received for r in receipts):  # `[escalation] notice_urgent`: "" = told once, as before
        await escalation.start_subject(s, tx, s.config.escalation.notice_urgent, "notice", n.id)


async def meeting_reminder(s: Services, tx: Tx, d: Deadline) -> None:
    """Before the meeting: everyone expected there (not on 请假) is reminded of time and place."""
    n = await notices.get(tx.conn, d.ref_id)
    if n is None or n.meeting_at is None:
        return
    text = s.texts("notice.meeting_remind", title=esc(n.title), time=s.fmt.dt(n.meeting_at),
                   place=esc(n.meeting_place or ""), left=s.fmt.dur(n.meeting_at - tx.now))
    asked = {r.asked_id for r in await notices.receipts(tx.conn, n.id) if r.attendance != "leave"}
    for member_id in sorted(asked):
        m = await members.by_id(tx.conn, member_id)
        if m is not None and m.active:
            await tx.send_text(m.telegram_id, text, markup=txt.recipient_keyboard(s, n), ref_kind=REF,
                               ref_id=n.id, tag="meeting_remind")


async def receipt_deadline(s: Services, tx: Tx, d: Deadline) -> datetime | None:
    """What the re-send at half time warns of: the receipt deadline."""
    n = await notices.get(tx.conn, d.ref_id)
    return n.due_at if n is not None else None


async def meeting_start(s: Services, tx: Tx, d: Deadline) -> datetime | None:
    """What the meeting reminder warns of: the meeting."""
    n = await notices.get(tx.conn, d.ref_id)
    return n.meeting_at if n is not None else None


HANDLERS = {
    rules.RESEND: auto_resend,
    rules.DUE: receipt_due,
    rules.MEETING_REMIND: meeting_reminder,
}
WARNS_OF = {rules.RESEND: receipt_deadline, rules.MEETING_REMIND: meeting_start}  # scheduler `warns_of`


def register(s: Services, on: On) -> None:
    """Attach these to the scheduler: `register(services, scheduler.on)`."""
    for kind, fn in HANDLERS.items():
        warns = WARNS_OF.get(kind)
        on(kind, partial(fn, s), warns_of=partial(warns, s) if warns else None)
