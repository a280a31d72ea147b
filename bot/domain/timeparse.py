"""Reading the times people type on a phone: `14:30`, `今天14:30`, `昨天 22:10`, `11-22 14:30`.

All typed times are Beijing wall-clock times; results are aware UTC datetimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import parse

FUTURE_TOLERANCE = timedelta(minutes=2)


class TimeInputError(ValueError):
    """`code` is a catalog key suffix: bad_format, future, too_old."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


_DAY_WORDS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
_RELATIVE = re.compile(r"^(\d{1,3})\s*(分钟|分|min|小时|h)\s*前$", re.ASCII)
_ABS = re.compile(
    r"^(?:(?P<word>今天|今日|昨天|昨日|前天)|" + parse.DATE + r")?"
    r"\s*(?:(?P<ampm>上午|早上|凌晨|下午|晚上|中午))?\s*" + parse.CLOCK + r"$", re.ASCII
)


def normalise(text: str) -> str:
    return parse.normalise(text)


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
    at = parse.clock_of(m)
    if at is None:
        raise TimeInputError("bad_format")
    ampm = m.group("ampm")
    if ampm in ("下午", "晚上") and at.hour < 12 or ampm == "中午" and at.hour < 11:
        at = at.replace(hour=at.hour + 12)
    local_now = now.astimezone(tz)
    explicit_day = False
    if m.group("word"):
        day: date | None = local_now.date() - timedelta(days=_DAY_WORDS[m.group("word")])
        explicit_day = True
    elif m.group("mo"):
        # "12-31 23:00" typed on 1 January means last year; tomorrow's date is still this year's.
        day = parse.date_of(m, local_now.date() + timedelta(days=1), "past")
        explicit_day = True
    else:
        day = local_now.date()
    when = parse.moment(day, at, tz) if day is not None else None
    if when is None:
        raise TimeInputError("bad_format")
    if not explicit_day and when > now + FUTURE_TOLERANCE:
        # A bare "23:50" typed at 00:30 means last night, not tonight.
        when -= timedelta(days=1)
    return bounds.check(when, now)
