"""Crontab lines as an office writes them, read the way cron reads them: every periodic time in
the config (the bulletins, the info week, the calendar check, the handover …) is one of these.

Five fields — minute hour day month weekday — each `*`, a number, a range `1-5`, a list `1,15`,
a step `*/2` or `1-9/2`; months may be named (`jan`), weekdays too (`mon`), and weekdays count
from Sunday as in every crontab manual (0 or 7 = Sunday, 1 = Monday … 6 = Saturday).

A line that restricts both the day of the month and the weekday is refused: cron fires when
*either* matches, which almost nobody who writes "1 * mon" means; rather than guess, ask.
Times are wall-clock times in the given zone; a time a clock change skips does not fire.

Why not a library: APScheduler (already a dependency) may not be imported here, and its
`CronTrigger.from_crontab` reads weekday 1 as Tuesday and requires day *and* weekday to match,
unlike cron; tests/unit/test_cron.py checks this reader against it with the weekdays translated.
croniter (on PyPI) reads crontab as cron does and could replace it: a follow-up noted on issue 26.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_SEARCH_YEARS = 9  # every valid line fires within this (29 February included, 2100 aside)


class CronError(ValueError):
    """A crontab line cron would not take (or one this reader refuses to guess about)."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    first_name: int = 0  # the number the first name stands for


_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY = _Field("day of the month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTHS, 1)
_WEEKDAY = _Field("weekday", 0, 7, _DAYS, 0)  # 7 is Sunday again


@dataclass(frozen=True)
class Crontab:
    """A parsed crontab line: the minutes, hours, days, months and weekdays (0 = Sunday) it fires at."""

    line: str = field(compare=False)
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    @classmethod
    def parse(cls, line: str) -> Crontab:
        """Raises CronError, saying what is wrong, for anything cron would not accept."""
        fields = line.split()
        if len(fields) != 5:
            raise CronError(f"a crontab line has 5 fields (minute hour day month weekday), not {len(fields)}")
        minute, hour, day, month, weekday = fields
        if day not in ("*", "?") and weekday not in ("*", "?"):
            raise CronError("give either the day of the month or the weekday, not both")
        tab = cls(
            line=" ".join(fields),
            minutes=_values(minute, _MINUTE),
            hours=_values(hour, _HOUR),
            days=_values(day, _DAY),
            months=_values(month, _MONTH),
            weekdays=frozenset(d % 7 for d in _values(weekday, _WEEKDAY)),
        )
        if all(d > _longest(m) for d in tab.days for m in tab.months):
            raise CronError(f"day {min(tab.days)} never comes in the month(s) given: the line would never fire")
        return tab

    def __str__(self) -> str:
        return self.line

    @property
    def weekly(self) -> bool:
        """Once a week: one minute, one hour, one weekday, any day of any month."""
        return (len(self.minutes) == len(self.hours) == len(self.weekdays) == 1
                and len(self.days) == 31 and len(self.months) == 12)

    @property
    def monthly(self) -> bool:
        """Once every month: one minute, one hour, one day that every month has (1–28), any weekday."""
        return (len(self.minutes) == len(self.hours) == len(self.days) == 1 and max(self.days) <= 28
                and len(self.months) == 12 and len(self.weekdays) == 7)

    def matches(self, local: datetime) -> bool:
        """Does the wall-clock minute `local` (in the line's zone) fire?"""
        return (local.minute in self.minutes and local.hour in self.hours and self._day_fires(local)
                and local.month in self.months)

    def _day_fires(self, local: datetime) -> bool:
        return local.day in self.days and (local.weekday() + 1) % 7 in self.weekdays

    def at_or_after(self, moment: datetime, tz: tzinfo) -> datetime:
        """The first occurrence at or after `moment` (aware), as an aware time in `tz`."""
        local = moment.astimezone(tz).replace(tzinfo=None)
        start = local.replace(second=0, microsecond=0)
        if start < local:
            start += timedelta(minutes=1)
        return self._search(start, moment, tz)

    def after(self, moment: datetime, tz: tzinfo) -> datetime:
        """The first occurrence strictly after `moment` (aware), as an aware time in `tz`."""
        start = moment.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        return self._search(start, moment + timedelta(microseconds=1), tz)

    def before(self, moment: datetime, tz: tzinfo) -> datetime:
        """The last occurrence strictly before `moment` (aware), as an aware time in `tz`."""
        local = moment.astimezone(tz).replace(tzinfo=None)
        t = local.replace(second=0, microsecond=0)
        if t == local:
            t -= timedelta(minutes=1)
        limit = t.year - _SEARCH_YEARS
        while t.year >= limit:
            if t.month not in self.months:
                t = t.replace(day=1, hour=0, minute=0) - timedelta(minutes=1)
            elif not self._day_fires(t):
                t = t.replace(hour=0, minute=0) - timedelta(minutes=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) - timedelta(minutes=1)
            elif t.minute not in self.minutes:
                t -= timedelta(minutes=1)
            else:
                aware = _aware(t, tz)
                if aware is not None and aware < moment:
                    return aware
                t -= timedelta(minutes=1)
        raise AssertionError(f"unreachable: {self.line!r} fires within {_SEARCH_YEARS} years")

    def _search(self, t: datetime, not_before: datetime, tz: tzinfo) -> datetime:
        limit = t.year + _SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                t = (t.replace(day=28) + timedelta(days=4)).replace(day=1, hour=0, minute=0)
            elif not self._day_fires(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                aware = _aware(t, tz)
                if aware is not None and aware >= not_before:
                    return aware
                t += timedelta(minutes=1)
        raise AssertionError(f"unreachable: {self.line!r} fires within {_SEARCH_YEARS} years")


def parse(line: str) -> Crontab:
    return Crontab.parse(line)


_OLD_WEEKLY = re.compile(r"^\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*$")
_OLD_MONTHLY = re.compile(r"^\s*(\d{1,2})\s+(\d{1,2}):(\d{2})\s*$")
_OLD_DAILY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_OLD_HOURS = re.compile(r"^\s*(\d{1,2})h(?:\s*(\d{1,2})m)?\s*$")


def legacy(text: str) -> str | None:
    """The crontab line an older notation meant — "fri 17:00" (weekly), "1 09:00" (monthly),
    "08:30" (daily), "9h" (a time of day as a duration) — or None if `text` is none of them.
    For the config's error message (what to write instead) and for deadline rows planted before."""
    text = text.strip().lower()
    if m := _OLD_WEEKLY.match(text):
        day, hour, minute = m.group(1), int(m.group(2)), int(m.group(3))
        ok = day in _DAYS
        line = f"{minute} {hour} * * {day}"
    elif m := _OLD_MONTHLY.match(text):
        day_of_month, hour, minute = int(m.group(1)), int(m.group(2)), int(m.group(3))
        ok = 1 <= day_of_month <= 31
        line = f"{minute} {hour} {day_of_month} * *"
    elif m := _OLD_DAILY.match(text):
        hour, minute = int(m.group(1)), int(m.group(2))
        ok, line = True, f"{minute} {hour} * * *"
    elif m := _OLD_HOURS.match(text):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        ok, line = True, f"{minute} {hour} * * *"
    else:
        return None
    return line if ok and hour <= 23 and minute <= 59 else None


def _aware(local: datetime, tz: tzinfo) -> datetime | None:
    """`local` in `tz` (the first of two on a clock change back), or None if the zone skips it."""
    aware = local.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local:
        return None
    return aware


def _longest(month: int) -> int:
    return 29 if month == 2 else calendar.monthrange(2001, month)[1]


def _values(text: str, f: _Field) -> frozenset[int]:
    out: set[int] = set()
    for part in text.lower().split(","):
        span, slash, step_text = part.partition("/")
        step = _number(step_text, f"step in {part!r}") if slash else 1
        if step < 1:
            raise CronError(f"bad step in {part!r}")
        top = 6 if f is _WEEKDAY else f.high  # a span to the end of the week ends on Saturday
        if span in ("*", "?"):
            first, last = f.low, top
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _one(low, f), _one(high, f)
            if f is _WEEKDAY and last == 0 and high.strip() != "0":  # "5-sun": up to Sunday at the end
                last = 7
        else:
            first = _one(span, f)
            last = top if slash else first  # "1/2": from 1, every other one
        if first > last:
            raise CronError(f"{f.name} range {span!r} runs backwards")
        out.update(range(first, last + 1, step))
    return frozenset(out)


def _one(text: str, f: _Field) -> int:
    text = text.strip()
    if text in f.names:
        return f.names.index(text) + f.first_name
    n = _number(text, f.name)
    if not f.low <= n <= f.high:
        hint = " (0 and 7 are Sunday)" if f is _WEEKDAY else ""
        raise CronError(f"{f.name} {text!r} is not {f.low}–{f.high}{hint}")
    return n


def _number(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):  # "²".isdigit() is true, and int("²") raises
        raise CronError(f"bad {what} {text!r}")
    return int(text)
