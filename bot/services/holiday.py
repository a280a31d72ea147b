"""节假日离京报备: a district leader reports a trip out of the city over a statutory holiday —
delivered at once to the configured offices ([leave] holiday_notify), recorded, shown in /away,
approved by nobody. A report sent after departure is taken and marked late. A leave request that
covers such a trip files the same report with it."""

from __future__ import annotations

from datetime import datetime

from bot.domain import holiday_report as rules
from bot.domain.holiday_report import HolidayDraft
from bot.domain.leave import LeaveInputError
from bot.domain.members import Action, Member, can
from bot.fmt import esc
from bot.services import leave_text as txt
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError
from storage import drafts, members
from storage import holiday_reports as store
from storage.conn import Conn
from storage.holiday_reports import HolidayReport
from storage.leave import LeaveRequest
from storage.uow import Tx

REF = "holiday"


_OWN_ERRORS = {"holiday.err_holiday_trip_over", "holiday.err_holiday_none"}


def _error(err: LeaveInputError) -> ServiceError:
    """The report's own refusals, or the date refusals it shares with leave."""
    key = f"holiday.err_{err.code}"
    return ServiceError(key if key in _OWN_ERRORS else f"leave.err_{err.code}", **err.kw)


def names_text(s: Services, names: list[str] | None) -> str:
    """春节、国庆节 — or a note that the calendar cannot tell (a year nobody entered yet)."""
    if names is None:
        return s.texts("holiday.unknown_holidays")
    return s.texts("core.list_sep").join(
        s.texts(f"leave.holiday.{n}") if s.texts.has(f"leave.holiday.{n}") else n for n in names)


def check_dates(s: Services, start: datetime, end: datetime, at: datetime | None = None) -> list[str] | None:
    """The trip's holidays, judged at `at` (when the person sent it; default now)."""
    try:
        return rules.check_trip(start, end, at or s.now(), s.config.tz, s.calendar)
    except LeaveInputError as err:
        raise _error(err) from None


async def check_overlap(s: Services, conn: Conn, member: Member, start: datetime,
                        end: datetime) -> None:
    for other in await store.between(conn, start, end, member_id=member.id):
        raise ServiceError("holiday.err_overlap", id=other.id, period=txt.period_text(s, other.start_at, other.end_at))


async def _facts(s: Services, conn: Conn, r: HolidayReport) -> str:
    who = await members.by_id(conn, r.member_id)
    text: str = s.texts("holiday.facts", name=esc(who.name if who else "?"), unit=esc(s.unit_name(r.unit_code)),
                   period=txt.period_text(s, r.start_at, r.end_at), destination=esc(r.destination),
                   contact=esc(r.contact) or "—", holidays=esc(r.holidays) or s.texts("holiday.unknown_holidays"))
    if r.request_id is not None:
        text += "\n" + s.texts("holiday.with_request", id=r.request_id)
    if r.late:
        text += "\n" + s.texts("holiday.late_line")
    return text


async def _deliver(s: Services, tx: Tx, member: Member, r: HolidayReport) -> int:
    """To the configured offices at once, no buttons: a report is read, not decided."""
    from bot.services.leave import audience

    office = await audience(s, tx, s.config.leave.holiday_notify, member.unit_code, exclude=[member.id])
    text = s.texts("holiday.card", id=r.id, city=esc(s.config.general.city), facts=await _facts(s, tx.conn, r))
    await tx.send_text_all([m.telegram_id for m in office], text, ref_kind=REF, ref_id=r.id, tag="report")
    await members.audit(tx.conn, tx.now, member.id, "holiday_report", f"#{r.id} late={int(r.late)} to={len(office)}")
    return len(office)


DRAFT_KIND = "holiday"  # the /holiday dialogue's draft (handlers/holiday.py)


async def submit(s: Services, member: Member, draft: HolidayDraft, *, at: datetime) -> HolidayReport:
    """Record the report and deliver it; late when sent (`at`: when the person pressed 报备, however
    late the bot got to it) after departure."""
    if not can(member, Action.REPORT_HOLIDAY):
        raise NotAllowed()
    start, end = draft.start, draft.end
    if not draft.complete() or start is None or end is None:
        raise ServiceError("holiday.draft_lost")
    sent = min(at, s.now())
    names = check_dates(s, start, end, sent)
    async with s.uow() as tx:
        await check_overlap(s, tx.conn, member, start, end)
        late = rules.is_late(start, sent, s.config.tz)
        report_id = await store.create(
            tx.conn, member_id=member.id, unit_code=member.unit_code, start_at=start, end_at=end,
            destination=draft.destination, contact=draft.contact, holidays=names_text(s, names) if names else "",
            late=late, now=tx.now)
        r = await store.get(tx.conn, report_id)
        assert r is not None
        count = await _deliver(s, tx, member, r)
        key = "holiday.submitted_late" if late else "holiday.submitted"
        await tx.send_text(member.telegram_id, s.texts(key, id=r.id, count=count), ref_kind=REF, ref_id=r.id,
                           tag="submitted")
        await drafts.mark_done(tx.conn, member.telegram_id, DRAFT_KIND, r.id, tx.now)  # 报备 again: not twice
        return r


async def file_with_request(s: Services, tx: Tx, member: Member, req: LeaveRequest, *, at: datetime) -> bool:
    """A leave request covering a statutory holiday out of the city files the report with it, at once
    (the request's approval is another matter). Returns whether it was late: sent (`at`) after departure."""
    late = rules.is_late(req.start_at, at, s.config.tz)
    report_id = await store.create(
        tx.conn, member_id=member.id, unit_code=member.unit_code, start_at=req.start_at, end_at=req.end_at,
        destination=req.destination, contact="", holidays=req.holidays, late=late, now=tx.now, request_id=req.id)
    r = await store.get(tx.conn, report_id)
    assert r is not None
    await _deliver(s, tx, member, r)
    return late


async def away_lines(s: Services, conn: Conn, start: datetime, end: datetime,
                     unit_code: str | None) -> list[str]:
    """/away: the holiday trips reported for the window."""
    found = await store.between(conn, start, end, unit_code)
    if not found:
        return []
    names = {m.id: m.name for m in await members.all_members(conn)}
    lines: list[str] = [s.texts("holiday.away_title", count=len(found))]
    for r in found:
        lines.append(s.texts(
            "holiday.away_line", name=esc(names.get(r.member_id, "?")), unit=esc(s.unit_name(r.unit_code)),
            period=txt.period_text(s, r.start_at, r.end_at), destination=esc(r.destination),
            contact=esc(r.contact) or "—", late=s.texts("holiday.late_mark") if r.late else ""))
    return lines
