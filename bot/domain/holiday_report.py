"""节假日离京报备 as plain rules: a district leader leaving the city over a statutory holiday
reports in advance to the party committee and the government (区领导在国家法定节假日离开本市，应
预先向区委、区政府报告). A report, not a request: nobody approves it; one sent after departure is
still taken, and marked late.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.holidays import HolidayCalendar
from bot.domain.leave import LeaveInputError, departed, holiday_names, last_day

MAX_DAYS = 30  # the longest statutory holiday with its make-up days is 8–9 days; a month is a typo


def holidays_covered(first: date, last: date, cal: HolidayCalendar) -> list[str] | None:
    """The statutory holidays the trip covers; None when the calendar lacks a year of it (cannot tell)."""
    day = first
    while day <= last:
        if cal.day(day) is None:
            return None
        day += timedelta(days=1)
    return holiday_names(first, last, cal)


def check_trip(start: datetime, end: datetime, now: datetime, tz: ZoneInfo, cal: HolidayCalendar) -> list[str] | None:
    """The holidays a reported trip covers (None: the calendar cannot tell), or LeaveInputError:
    the end before the start, a trip already over, one too long, or dates with no statutory holiday."""
    if end <= start:
        raise LeaveInputError("end_before_start")
    if end <= now:
        raise LeaveInputError("holiday_trip_over")
    if end - start > timedelta(days=MAX_DAYS):
        raise LeaveInputError("too_long", days=MAX_DAYS)
    names = holidays_covered(start.astimezone(tz).date(), last_day(end, tz), cal)
    if names == []:
        raise LeaveInputError("holiday_none")
    return names


def is_late(start: datetime, now: datetime, tz: ZoneInfo) -> bool:
    """Sent after departure: taken, and marked late (迟报)."""
    return departed(start, now, tz)


@dataclass
class HolidayDraft:
    """The report being written, answer by answer (the drafts table)."""

    start_at: str | None = None  # ISO UTC
    end_at: str | None = None
    destination: str = ""
    contact: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> HolidayDraft:
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
        return bool(self.start_at and self.end_at and self.destination and self.contact)
