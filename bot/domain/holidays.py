"""The holiday calendar: statutory days off and make-up working days (调休上班).

The State Council announces each year's arrangement in November or December. The bundled
`chinese-calendar` package knows the years announced before its release; an office enters a
later notice under [calendar] in the config, and those entries win over the package. A year
that neither knows gives None, so callers can fall back and say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

# Chinese names an office may write in the config, mapped to the package's names (the catalog keys).
CANONICAL_NAMES = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明": "Tomb-sweeping Day",
    "清明节": "Tomb-sweeping Day",
    "劳动节": "Labour Day",
    "五一": "Labour Day",
    "端午": "Dragon Boat Festival",
    "端午节": "Dragon Boat Festival",
    "中秋": "Mid-autumn Festival",
    "中秋节": "Mid-autumn Festival",
    "国庆": "National Day",
    "国庆节": "National Day",
}


def _package_day(day: date) -> tuple[bool, str | None] | None:
    import chinese_calendar

    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return bool(on_holiday), name


class HolidayCalendar:
    """Days off and working days: the office's own entries first, then `chinese-calendar`."""

    def __init__(self, holidays: Iterable[tuple[str, date, date]] = (), workdays: Iterable[date] = ()):
        self._off: dict[date, str] = {}
        for name, first, last in holidays:
            day = first
            while day <= last:
                self._off[day] = CANONICAL_NAMES.get(name.strip(), name.strip())
                day += timedelta(days=1)
        self._work = frozenset(workdays)
        # a year the office has entered is described whole: other days follow the week
        self._years = frozenset(d.year for d in (*self._off, *self._work))

    def day(self, day: date) -> tuple[bool, str | None] | None:
        """(is a day off, holiday name or None) — or None when nothing covers that year."""
        if day in self._off:
            return True, self._off[day]
        if day in self._work:
            return False, None
        got = _package_day(day)
        if got is None and day.year in self._years:
            return day.weekday() >= 5, None
        return got

    def covers(self, year: int) -> bool:
        return year in self._years or _package_day(date(year, 6, 1)) is not None

    def missing_years(self, today: date, ahead: timedelta) -> list[int]:
        """Years between today and `ahead` from now that nothing describes yet."""
        return [y for y in range(today.year, (today + ahead).year + 1) if not self.covers(y)]


CHECK = "calendar.check"  # the deadline kind of the weekly look for years the calendar lacks

STATE_COUNCIL = HolidayCalendar()  # the package alone, for callers without a config
