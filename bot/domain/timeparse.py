"""Reading the times people type on a phone: `14:30`, `今天14:30`, `昨天 22:10`, `11-22 14:30`.

All typed times are Beijing wall-clock times; results are aware UTC datetimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FUTURE_TOLERANCE = timedelta(minutes=2)


class TimeInputError(ValueError):
    """`code` is a catalog key suffix: bad_format, future, too_old."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


_FULLWIDTH = str.maketrans("０１２３４５６７８９：－／　", "0123456789:-/ ")
_DAY_WORDS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
_RELATIVE = re.compile(r"^(\d{1,3})\s*(分钟|分|min|小时|h)\s*前$")
_CLOCK = r"(\d{1,2})\s*(?::|点|时)\s*(\d{1,2})?\s*分?"
_ABS = re.compile(
    r"^(?:(?P<word>今天|今日|昨天|昨日|前天)|(?:(?P<y>\d{4})[-/年])?(?P<mo>\d{1,2})\s*[-/月]\s*(?P<d>\d{1,2})\s*日?)?"
    r"\s*(?:(?P<ampm>上午|早上|凌晨|下午|晚上|中午))?\s*" + _CLOCK + r"$"
)


def normalise(text: str) -> str:
    return text.translate(_FULLWIDTH).strip()


@dataclass(frozen=True)
class TimeBounds:
    """What the report accepts: not in the future, not more than `max_back` ago."""

    max_back: timedelta = timedelta(days=7)

    def check(self, when: datetime, now: datetime) -> datetime:
        if when > now + FUTURE_TOLERANCE:
            raise TimeInputError("future")
        if when < now - self.max_back:
            raise TimeInputError("too_old")
        return min(when, now)


def parse_event_time(text: str, now: datetime, tz: ZoneInfo, bounds: TimeBounds = TimeBounds()) -> datetime:
    """Parse a typed or tapped time of an event, relative to `now`; raise TimeInputError."""
    s = normalise(text)
    if s in ("刚刚", "现在", "now"):
        return now
    if m := _RELATIVE.match(s):
        n = int(m.group(1))
        delta = timedelta(minutes=n) if m.group(2) in ("分钟", "分", "min") else timedelta(hours=n)
        return bounds.check(now - delta, now)
    m = _ABS.match(s)
    if not m:
        raise TimeInputError("bad_format")
    hour, minute = int(m.group(6)), int(m.group(7) or 0)
    ampm = m.group("ampm")
    if ampm in ("下午", "晚上") and hour < 12:
        hour += 12
    if ampm == "中午" and hour < 11:
        hour += 12
    if hour > 23 or minute > 59:
        raise TimeInputError("bad_format")
    local_now = now.astimezone(tz)
    explicit_day = False
    if m.group("word"):
        day = local_now.date() - timedelta(days=_DAY_WORDS[m.group("word")])
        explicit_day = True
    elif m.group("mo"):
        year = int(m.group("y")) if m.group("y") else local_now.year
        try:
            day = date(year, int(m.group("mo")), int(m.group("d")))
        except ValueError:
            raise TimeInputError("bad_format") from None
        # "12-31 23:00" typed on 1 January means last year.
        if not m.group("y") and day > local_now.date() + timedelta(days=1):
            day = day.replace(year=year - 1)
        explicit_day = True
    else:
        day = local_now.date()
    when = datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)
    if not explicit_day and when > now + FUTURE_TOLERANCE:
        # A bare "23:50" typed at 00:30 means last night, not tonight.
        when -= timedelta(days=1)
    return bounds.check(when, now)
