"""How leave reads in messages: dates, the request card, the trail. Pure rendering."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from bot import callbacks as cb
from bot.domain.leave import last_day, whole_day_end
from bot.fmt import esc
from bot.services.base import Services
from storage.leave import LeaveRequest

# Callback data: approvers' buttons lv:<ok|no>:<request>, report back lb:back:<request>.
APPROVE_PREFIX = cb.LEAVE_DECISION
APPROVE, REFUSE = "ok", "no"
BACK_PREFIX = cb.LEAVE_BACK
BACK = "back"
WITHDRAW = "w"  # 撤回, under the requester's own messages


def approval_keyboard(s: Services, request_id: int) -> dict[str, object]:
    return cb.keyboard([[(s.texts("leave.btn.approve"), f"{APPROVE_PREFIX}:{APPROVE}:{request_id}"),
                         (s.texts("leave.btn.refuse"), f"{APPROVE_PREFIX}:{REFUSE}:{request_id}")]])


def withdraw_keyboard(s: Services, request_id: int) -> dict[str, object]:
    return cb.keyboard([[(s.texts("leave.btn.withdraw"), f"{BACK_PREFIX}:{WITHDRAW}:{request_id}")]])


def back_keyboard(s: Services, request_id: int) -> dict[str, object]:
    return cb.keyboard([[(s.texts("leave.btn.back"), f"{BACK_PREFIX}:{BACK}:{request_id}")]])


def status_text(s: Services, req: LeaveRequest) -> str:
    """已批准, or 已报告 for a written report in effect (approved by nobody)."""
    if req.reported and s.texts.has(f"leave.status_report.{req.status}"):
        return s.texts(f"leave.status_report.{req.status}")
    return s.texts(f"leave.status.{req.status}")


def start_text(s: Services, when: datetime) -> str:
    local = when.astimezone(s.config.tz)
    if local.time() == time(0, 0):
        return s.fmt.day(local.date())
    if local.time() == time(12, 0):
        return s.texts("leave.fmt.day_pm", date=s.fmt.day(local.date()))
    return s.fmt.dt(when)


def end_text(s: Services, when: datetime) -> str:
    local = when.astimezone(s.config.tz)
    if whole_day_end(when, s.config.tz):
        return s.fmt.day(last_day(when, s.config.tz))
    if local.time() == time(12, 0):
        return s.texts("leave.fmt.day_am", date=s.fmt.day(local.date()))
    return s.fmt.dt(when)


def days_text(s: Services, start: datetime, end: datetime) -> str:
    halves = round((end - start) / timedelta(hours=12))
    n = halves / 2
    return s.texts("leave.fmt.days", n=int(n) if n == int(n) else n)


def period_text(s: Services, start: datetime, end: datetime) -> str:
    return s.texts("leave.fmt.period", start=start_text(s, start), end=end_text(s, end), days=days_text(s, start, end))


def city_text(s: Services, leaves_city: bool | None) -> str:
    if leaves_city is None:
        return "—"
    key = "leave.fmt.leaves_city" if leaves_city else "leave.fmt.stays_in_city"
    return s.texts(key, city=esc(s.config.general.city))


def facts(
    s: Services, *, name: str, unit_code: str, kind: str, start: datetime, end: datetime, destination: str,
    leaves_city: bool | None, reason: str, standin: str | None, chain_label: str, holidays: str = "",
) -> str:
    text: str = s.texts(
        "leave.facts", name=esc(name), unit=esc(s.unit_name(unit_code)), kind=s.texts(f"leave.kind.{kind}"),
        period=period_text(s, start, end), destination=esc(destination) or "—", city=city_text(s, leaves_city),
        reason=esc(reason) or "—", standin=esc(standin) if standin else s.texts("leave.no_standin"),
        chain=esc(chain_label),
    )
    if holidays:
        text += "\n" + s.texts("leave.holiday_line", holidays=esc(holidays), city=esc(s.config.general.city))
    return text


def request_facts(s: Services, req: LeaveRequest, name: str, standin: str | None, chain_label: str) -> str:
    return facts(s, name=name, unit_code=req.unit_code, kind=req.kind, start=req.start_at, end=req.end_at,
                 destination=req.destination, leaves_city=req.leaves_city, reason=req.reason, standin=standin,
                 chain_label=chain_label, holidays=req.holidays)


def event_text(s: Services, kind: str, detail: dict[str, Any]) -> str:
    kw: dict[str, str] = {k: esc(v) for k, v in detail.items()}
    if "comment" in detail:
        kw["comment"] = s.texts("leave.comment_suffix", comment=esc(detail["comment"])) if detail["comment"] else ""
    if "on_behalf" in detail:
        kw["on_behalf"] = s.texts("leave.on_behalf", name=esc(detail["on_behalf"])) if detail["on_behalf"] else ""
    key = f"leave.event.{kind}"
    try:
        return s.texts(key, **kw) if s.texts.has(key) else esc(kind)
    except KeyError:
        return esc(kind)
