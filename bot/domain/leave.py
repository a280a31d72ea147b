"""Leave and return (请销假): kinds, typed dates, approval chains, the holiday rule, report-back.

The working rules: leaders ask in writing before they go and report back when they
return; street and bureau heads go through the government office director (签报) to
the district head (审批), reported to the party committee (备案); members of the
人大/政府/政协 leadership ask the head of their body, reported to the party secretary;
the district office archives every outcome. Anyone leaving the city over a statutory
holiday reports in advance. Chains, posts and durations come from config ([leave]).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import parse
from bot.domain.cron import Crontab
from bot.domain.holidays import HolidayCalendar
from bot.domain.leave_chains import (  # noqa: F401 — the chains' rules, re-exported for their callers
    Approver,
    Decision,
    Route,
    Selector,
    SelfApproval,
    approval_chain_for,
    parse_selector,
    route_self,
    select,
    step_outcome,
    with_standins,
)

log = logging.getLogger(__name__)

MAX_TEXT = 200


class LeaveKind(StrEnum):
    PERSONAL = "personal"  # 事假
    SICK = "sick"  # 病假
    ANNUAL = "annual"  # 年休假
    BUSINESS = "business"  # 出差
    OTHER = "other"  # 其他


class LeaveStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class LeaveInputError(ValueError):
    """`code` is a catalog key suffix (leave.err_<code>)."""

    def __init__(self, code: str, **kw: object) -> None:
        super().__init__(code)
        self.code = code
        self.kw = kw


# --- typed dates ------------------------------------------------------------------------

_DAY = re.compile(
    r"^(?:(?P<word>今天|今日|明天|明日|后天)|" + parse.DATE + r")"
    r"\s*(?:(?P<part>上午|下午|全天)|" + parse.CLOCK + r")?$", re.ASCII
)
_WORDS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
NOON = time(12, 0)


@dataclass(frozen=True)
class DayPoint:
    """A typed day, perhaps with half (am/pm) or a clock time."""

    day: date
    part: str = ""  # "", "am", "pm"
    at: time | None = None

    def start(self, tz: ZoneInfo) -> datetime:
        """As the first moment of leave: the day's start, noon for 下午, or the time given."""
        t = self.at or (NOON if self.part == "pm" else time(0, 0))
        return datetime.combine(self.day, t, tzinfo=tz).astimezone(UTC)

    def end(self, tz: ZoneInfo) -> datetime:
        """As the last moment of leave: the day's end, noon for 上午, or the time given."""
        if self.at is not None:
            return datetime.combine(self.day, self.at, tzinfo=tz).astimezone(UTC)
        if self.part == "am":
            return datetime.combine(self.day, NOON, tzinfo=tz).astimezone(UTC)
        return datetime.combine(self.day + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)


def parse_day(text: str, today: date, ref: date | None = None) -> DayPoint:
    """`11-25`, `11-25 下午`, `2026-12-01`, `12月1日 14:00`, `今天`, `明天上午`; raise LeaveInputError.
    A day without its year is the one nearest to `ref` (default today): `01-05` typed in December
    is next January."""
    m = _DAY.match(parse.normalise(text))
    if not m:
        raise LeaveInputError("bad_date")
    day: date | None
    if m.group("word"):
        day = today + timedelta(days=_WORDS[m.group("word")])
    else:
        if m.group("y") and abs(int(m.group("y")) - today.year) > 1:
            raise LeaveInputError("year_out_of_range")
        day = parse.date_of(m, ref or today, "nearest")
    if day is None:
        raise LeaveInputError("bad_date")
    part = {"上午": "am", "下午": "pm"}.get(m.group("part") or "", "")
    at = None
    if m.group("h") is not None:
        at = parse.clock_of(m)
        if at is None:
            raise LeaveInputError("bad_date")
    return DayPoint(day, part, at)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def check_period(kind: str, start: datetime, end: datetime, now: datetime, tz: ZoneInfo, *,
                 sick_grace: timedelta, max_days: int) -> None:
    """End after start; no start before today, except sick leave within the grace; not absurdly long."""
    check_start(kind, start, now, tz, sick_grace=sick_grace)
    if end <= start:
        raise LeaveInputError("end_before_start")
    if end - start > timedelta(days=max_days):
        raise LeaveInputError("too_long", days=max_days)


def check_start(kind: str, start: datetime, now: datetime, tz: ZoneInfo, *, sick_grace: timedelta) -> None:
    """Leave is asked before it starts (today counts); sick leave may be asked up to `sick_grace` after."""
    today_start = datetime.combine(now.astimezone(tz).date(), time(0, 0), tzinfo=tz).astimezone(UTC)
    if start >= today_start:
        return
    if kind != LeaveKind.SICK:
        raise LeaveInputError("start_past")
    if start < today_start - sick_grace:
        raise LeaveInputError("sick_too_old", days=sick_grace.days)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


# --- holidays (the State Council calendar, see bot.domain.holidays) ------------------------


def statutory_holidays(first: date, last: date, cal: HolidayCalendar) -> list[tuple[date, str]]:
    """The statutory holiday days (not ordinary weekends) between two dates, inclusive."""
    found: list[tuple[date, str]] = []
    day = first
    while day <= last and len(found) < 400:
        got = cal.day(day)
        if got is None:
            log.warning("holiday calendar has no data for %s; the holiday rule cannot see its holidays", day.year)
            day = date(day.year + 1, 1, 1)
            continue
        if got[0] and got[1]:
            found.append((day, got[1]))
        day += timedelta(days=1)
    return found


def departed(start: datetime, now: datetime, tz: ZoneInfo) -> bool:
    """Has the leave already begun, for the holiday rule (ask before departure)?

    A start given as a whole day leaves on that day at any hour, so it is past only from the next
    day on; a start with a time (or 下午) is past from that moment.
    """
    local = start.astimezone(tz)
    if local.time() == time(0, 0):
        return local.date() < now.astimezone(tz).date()
    return start <= now


def holiday_names(first: date, last: date, cal: HolidayCalendar) -> list[str]:
    names: list[str] = []
    for _day, name in statutory_holidays(first, last, cal):
        if name not in names:
            names.append(name)
    return names


def is_workday(day: date, cal: HolidayCalendar) -> bool:
    """Make-up working days count; a year the calendar lacks falls back to Monday–Friday."""
    got = cal.day(day)
    if got is None:
        log.warning("holiday calendar has no data for %s; using Monday–Friday", day.year)
        return day.weekday() < 5
    return not got[0]


def whole_day_end(end: datetime, tz: ZoneInfo) -> bool:
    """A leave of whole days ends at the next midnight (exclusive): its last day is the one before."""
    return end.astimezone(tz).time() == time(0, 0)


def last_day(end: datetime, tz: ZoneInfo) -> date:
    """The last calendar day the leave touches."""
    day = end.astimezone(tz).date()
    return day - timedelta(days=1) if whole_day_end(end, tz) else day


def return_day(end: datetime, tz: ZoneInfo, cal: HolidayCalendar) -> date:
    """The working day the member is due back: the end's day if it ends mid-day, else the next working day."""
    local = end.astimezone(tz)
    day = local.date()
    if not whole_day_end(end, tz):
        if local.time() < time(18, 0):
            return day
        day += timedelta(days=1)
    for _ in range(40):
        if is_workday(day, cal):
            return day
        day += timedelta(days=1)
    return day


def back_deadlines(end: datetime, tz: ZoneInfo, remind_at: Crontab, grace: timedelta,
                   cal: HolidayCalendar, approved_at: datetime | None = None) -> tuple[datetime, datetime]:
    """When to remind the member to report back, and when not having done so is alerted.

    Leave approved only after its return day (a sick leave asked for afterwards, a slow approver)
    counts the day of approval as the return day: the member is reminded then and has the same
    grace, instead of being reported overdue the moment it is approved."""
    day = return_day(end, tz, cal)
    if approved_at is not None:
        day = max(day, approved_at.astimezone(tz).date())
    midnight = datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)
    remind = max(remind_at.at_or_after(midnight, tz).astimezone(UTC), end, approved_at or end)
    due = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC) + grace
    return remind, due


# --- the request being written, answer by answer (serialisable for the drafts table) -------


@dataclass
class LeaveDraft:
    kind: str | None = None
    start_at: str | None = None  # ISO UTC
    end_at: str | None = None
    destination: str = ""
    leaves_city: bool | None = None
    reason: str = ""
    standin_id: int | None = None
    standin_chosen: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LeaveDraft:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def start(self) -> datetime | None:
        return datetime.fromisoformat(self.start_at) if self.start_at else None

    @property
    def end(self) -> datetime | None:
        return datetime.fromisoformat(self.end_at) if self.end_at else None

    def complete(self) -> bool:
        return bool(self.kind and self.start_at and self.end_at and self.destination and self.leaves_city is not None
                    and self.reason and self.standin_chosen)
