"""Reading what people type as numbers, dates, times and lengths of time: one helper per kind.

Every command argument and every typed dialogue answer that holds a number, a date, a time or
a duration goes through one of these. A helper never raises on what it is given: anything it
cannot take — superscript or circled digits (`²`, `①`), a 20-digit id, year 1 or 9999, `2-29`
resolving to a common year, `99999999999d`, a minus sign — is None, and the feature's parser
turns None into its own typed error, which the dialogue shows as the step's hint.

Digits: every Unicode decimal digit (category Nd: fullwidth `１２`, Arabic-Indic `١٢` …) reads as
its ASCII digit, as NFKC would map it — Chinese phone keyboards type fullwidth digits. Other
characters Unicode calls numeric (`²`, `①`, `Ⅻ`) are not digits here. (`str.isdigit()` says yes
to `²` and `int("²")` then fails; `int()` reads `١٢`; so nothing here relies on either.) After
`normalise`, patterns are compiled with `re.ASCII`, so `\\d` means 0-9 only.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

# Beyond these a typed year is a typo (and year 1 cannot pass through a time zone, nor 9999 take a day more).
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_ID = 10**12 - 1  # record numbers: what callback data carries (\d{1,12}); SQLite holds 2**63
MAX_COUNT = 100_000  # people counted in one incident
MAX_SPAN = timedelta(days=3660)  # no typed length of time means more than ten years

Resolve = Literal["past", "future", "nearest"]


def _ascii(ch: str) -> str:
    if ch.isascii():
        return ch
    if unicodedata.category(ch) == "Nd":
        return str(unicodedata.decimal(ch))
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:  # fullwidth ASCII (：－／＃ａ): NFKC maps them the same way
        return chr(code - 0xFEE0)
    if ch == "\u3000":  # ideographic space
        return " "
    return ch


def normalise(text: str) -> str:
    """Decimal digits and fullwidth ASCII as plain ASCII, surrounding space removed; every other
    character (², ①, Chinese) unchanged."""
    return ("".join(map(_ascii, text)) if not text.isascii() else text).strip()


_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def integer(text: str, *, lo: int = 0, hi: int) -> int | None:
    """A whole number lo..hi written only with digits (no sign, no spaces inside); else None."""
    s = normalise(text)
    if not _DIGITS.fullmatch(s) or len(s.lstrip("0")) > len(str(hi)):
        return None
    n = int(s)
    return n if lo <= n <= hi else None


def record_id(text: str) -> int | None:
    """A record's number as shown in lists: `12` or `#12` (1 … MAX_ID); else None."""
    s = normalise(text)
    return integer(s[1:] if s.startswith("#") else s, lo=1, hi=MAX_ID)


def count(text: str, hi: int = MAX_COUNT) -> int | None:
    """How many (0 … hi); else None."""
    return integer(text, lo=0, hi=hi)


# --- dates and times ------------------------------------------------------------------------

# A day as typed: 2026-11-25, 2026/11/25, 2026.11.25, 2026年11月25日, 11-25, 11月25日 (号 too).
DATE = (r"(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?")
# A clock time: 14:30, 14点30分, 14时, 9点.
CLOCK = r"(?P<h>\d{1,2})\s*(?::|点|时)\s*(?P<mi>\d{1,2})?\s*分?"


def calendar_day(year: int, month: int, day: int) -> date | None:
    """The date, if the calendar has it and the year is MIN_YEAR … MAX_YEAR; else None."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def month_day(month: int, day: int, ref: date, resolve: Resolve) -> date | None:
    """A day typed without its year, placed relative to `ref`:

    * past: the latest such day not after `ref` (when it happened);
    * future: the earliest such day not before `ref` (a deadline, a meeting);
    * nearest: whichever is closest to `ref`, the later one on a tie (leave, a roster).

    The year is chosen by month and day alone; if that year has no such day (2-29 in a common
    year) the answer is None, never silently another year.
    """
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:  # 2000: a leap year
        return None
    if resolve == "past":
        year = ref.year if (month, day) <= (ref.month, ref.day) else ref.year - 1
    elif resolve == "future":
        year = ref.year if (month, day) >= (ref.month, ref.day) else ref.year + 1
    else:
        def distance(y: int) -> tuple[int, bool]:
            proxy = date(y, month, min(day, calendar.monthrange(y, month)[1]))
            return abs((proxy - ref).days), proxy < ref

        year = min((ref.year - 1, ref.year, ref.year + 1), key=distance)
    return calendar_day(year, month, day)


def date_of(m: re.Match[str], ref: date, resolve: Resolve) -> date | None:
    """The day a match of DATE names (groups y, mo, d); a missing year resolved by `month_day`."""
    month, day = int(m.group("mo")), int(m.group("d"))
    if m.group("y"):
        return calendar_day(int(m.group("y")), month, day)
    return month_day(month, day, ref, resolve)


def clock(hour: int, minute: int = 0) -> time | None:
    """A wall-clock time 00:00 … 23:59; else None."""
    return time(hour, minute) if 0 <= hour <= 23 and 0 <= minute <= 59 else None


def clock_of(m: re.Match[str]) -> time | None:
    """The time a match of CLOCK names (groups h, mi)."""
    return clock(int(m.group("h")), int(m.group("mi") or 0))


def moment(day: date, at: time, tz: ZoneInfo) -> datetime | None:
    """The wall-clock `day at` in `tz` as an aware UTC datetime; None where that cannot be."""
    try:
        return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# --- lengths of time --------------------------------------------------------------------------

_UNIT = {"d": "d", "天": "d", "日": "d", "h": "h", "小时": "h", "时": "h", "m": "m", "min": "m", "分钟": "m", "分": "m",
         "s": "s", "秒": "s", "w": "w", "周": "w", "星期": "w"}
_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_UNITS = "|".join(sorted(map(re.escape, _UNIT), key=len, reverse=True))  # 分钟 before 分
_DURATION = re.compile(r"(\d{1,6}(?:\.\d{1,3})?)\s*(" + _UNITS + ")", re.ASCII | re.IGNORECASE)


def span(n: float, unit: str) -> timedelta | None:
    """`n` of a unit (d/h/m/s/w or 天/小时/分钟/秒/周) as a timedelta, 0 … MAX_SPAN; else None."""
    size = _SECONDS.get(_UNIT.get(unit.lower(), ""), 0)
    if not size or not 0 <= n * size <= MAX_SPAN.total_seconds():
        return None
    return timedelta(seconds=round(n * size))


def duration(text: str, *, lo: timedelta = timedelta(seconds=1), hi: timedelta = MAX_SPAN) -> timedelta | None:
    """`2h`, `1.5h`, `45m`, `90 分钟`, `3天`, `1周` → timedelta within lo … hi; else None."""
    m = _DURATION.fullmatch(normalise(text))
    if not m:
        return None
    got = span(float(m.group(1)), m.group(2))
    return got if got is not None and lo <= got <= hi else None


# --- months and numbered records ---------------------------------------------------------------

_YEAR_MONTH = (
    re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?", re.ASCII),
    re.compile(r"(\d{4})(\d{2})", re.ASCII),
)
_BARE_MONTH = re.compile(r"(\d{1,2})\s*月?", re.ASCII)


def year_month(text: str, today: date) -> tuple[int, int] | None:
    """`2026-11`, `2026年11月`, `202611`, `11`, `11月` → (year, month); a bare month not yet
    reached this year means last year's. Years outside MIN_YEAR … MAX_YEAR → None."""
    s = normalise(text)
    for form in _YEAR_MONTH:
        if m := form.fullmatch(s):
            year, month = int(m.group(1)), int(m.group(2))
            return (year, month) if 1 <= month <= 12 and MIN_YEAR <= year <= MAX_YEAR else None
    if m := _BARE_MONTH.fullmatch(s):
        month = int(m.group(1))
        if not 1 <= month <= 12:
            return None
        return (today.year, month) if month <= today.month else (today.year - 1, month)
    return None


_INCIDENT = re.compile(r"(\d{4})\s*-\s*(\d{1,6})", re.ASCII)


def incident_number(text: str) -> tuple[int, int] | None:
    """`2026-0007`, `2026-7`, `２０２６－７` → (2026, 7): the year and the number within it; else None."""
    m = _INCIDENT.fullmatch(normalise(text).replace("—", "-"))
    if not m or not MIN_YEAR <= int(m.group(1)) <= MAX_YEAR or int(m.group(2)) == 0:
        return None
    return int(m.group(1)), int(m.group(2))
