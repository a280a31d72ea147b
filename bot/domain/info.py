"""Routine information (政务信息报送): kinds, adoption marks, weekly quotas, scores, ranking.

Units owe the office a number of items a week (default 2). The quota week ends at the
weekly deadline (default Friday 17:00 Beijing): an item counts towards the first
deadline at or after the moment it was sent, so a Friday-evening item already counts
for next week. The office marks items adopted by the district, city or province, or
with a leader's instruction (领导批示); each mark is worth points, and units are ranked
by their points each month.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import parse

# Deadline-table kinds; each row is one scheduled occurrence, the next is planned when it fires.
REMIND = "info.remind"
WEEK_CLOSE = "info.week_close"
MONTHLY = "info.monthly"
RECURRING_KINDS = (REMIND, WEEK_CLOSE, MONTHLY)

MAX_TITLE = 100
MAX_BODY = 3000
MAX_FILES = 5


class InfoKind(StrEnum):
    DYNAMIC = "dynamic"  # 动态信息
    ECONOMY = "economy"  # 经济运行
    RESEARCH = "research"  # 调研信息
    PRACTICE = "practice"  # 经验做法
    OTHER = "other"  # 其他


class Mark(StrEnum):
    PENDING = "pending"  # 待审核
    DISTRICT = "district"  # 区采用
    CITY = "city"  # 市采用
    PROVINCE = "province"  # 省采用
    INSTRUCTION = "instruction"  # 领导批示
    REJECTED = "rejected"  # 未采用


ADOPTED: tuple[Mark, ...] = (Mark.DISTRICT, Mark.CITY, Mark.PROVINCE, Mark.INSTRUCTION)
REVIEW_MARKS: tuple[Mark, ...] = (*ADOPTED, Mark.REJECTED)


@dataclass(frozen=True)
class Scores:
    district: int = 1
    city: int = 3
    province: int = 5
    instruction: int = 5

    def points(self, mark: Mark | str) -> int:
        """Points for a mark (a Mark or its stored value); 0 unless adopted."""
        return int(getattr(self, str(mark))) if mark in ADOPTED else 0


# --- recurring times -------------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKLY_RE = re.compile(r"^\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*$")
_MONTHLY_RE = re.compile(r"^\s*(\d{1,2})\s+(\d{1,2}):(\d{2})\s*$")


class ScheduleError(ValueError):
    """A weekly or monthly time the config cannot mean."""


def _clock(h: str, m: str, text: str) -> time:
    hour, minute = int(h), int(m)
    if hour > 23 or minute > 59:
        raise ScheduleError(f"bad time of day in {text!r}")
    return time(hour, minute)


@dataclass(frozen=True)
class Weekly:
    """A weekday and a wall-clock time: `fri 17:00`."""

    weekday: int  # Monday = 0
    at: time

    @classmethod
    def parse(cls, text: str) -> Weekly:
        m = _WEEKLY_RE.match(text.lower())
        if not m or m.group(1) not in _DAYS:
            raise ScheduleError(f"bad weekly time {text!r}: write a day and a time, e.g. 'fri 17:00'")
        return cls(_DAYS.index(m.group(1)), _clock(m.group(2), m.group(3), text))

    def __str__(self) -> str:
        return f"{_DAYS[self.weekday]} {self.at:%H:%M}"

    def at_or_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first occurrence at or after `moment` (aware UTC in, aware UTC out)."""
        local = moment.astimezone(tz)
        day = local.date() + timedelta(days=(self.weekday - local.weekday()) % 7)
        when = datetime.combine(day, self.at, tz)
        if when < local:
            when = datetime.combine(day + timedelta(days=7), self.at, tz)
        return when.astimezone(UTC)

    def after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first occurrence strictly after `moment`."""
        return self.at_or_after(moment + timedelta(microseconds=1), tz)


@dataclass(frozen=True)
class Monthly:
    """A day of the month (1–28, so every month has it) and a time: `1 09:00`."""

    day: int
    at: time

    @classmethod
    def parse(cls, text: str) -> Monthly:
        m = _MONTHLY_RE.match(text)
        if not m:
            raise ScheduleError(f"bad monthly time {text!r}: write a day of the month and a time, e.g. '1 09:00'")
        day = int(m.group(1))
        if not 1 <= day <= 28:
            raise ScheduleError(f"day of the month must be 1–28 in {text!r}")
        return cls(day, _clock(m.group(2), m.group(3), text))

    def __str__(self) -> str:
        return f"{self.day} {self.at:%H:%M}"

    def after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        local = moment.astimezone(tz)
        year, month = local.year, local.month
        for _ in range(2):
            when = datetime.combine(date(year, month, self.day), self.at, tz)
            if when > local:
                return when.astimezone(UTC)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("unreachable: next month always has the day")


@dataclass(frozen=True)
class QuotaPolicy:
    quota: int = 2
    deadline: Weekly = Weekly(4, time(17, 0))
    reminders: tuple[Weekly, ...] = (Weekly(3, time(17, 0)), Weekly(4, time(12, 0)))
    scores: Scores = field(default_factory=Scores)
    bulletin: Monthly = Monthly(1, time(9, 0))


def quota_week(moment: datetime, deadline: Weekly, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """(start, end] of the quota week `moment` falls in; `end` is that week's deadline."""
    end = deadline.at_or_after(moment, tz)
    start = datetime.combine(end.astimezone(tz).date() - timedelta(days=7), deadline.at, tz).astimezone(UTC)
    return start, end


def still_due(sent: int, quota: int) -> int:
    return max(0, quota - sent)


# --- months ---------------------------------------------------------------------------


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in local time, as UTC."""
    start = datetime(year, month, 1, tzinfo=tz)
    last = calendar.monthrange(year, month)[1]
    end = datetime.combine(date(year, month, last) + timedelta(days=1), time(0), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_month(moment: datetime, tz: ZoneInfo) -> tuple[int, int]:
    local = moment.astimezone(tz)
    return (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)


def parse_month(text: str, today: date) -> tuple[int, int] | None:
    """`2026-11`, `2026年11月`, `202611`, `11`, `11月` → (year, month) (parse.year_month)."""
    return parse.year_month(text, today)


# --- items and the monthly tally ---------------------------------------------------------


@dataclass(frozen=True)
class InfoItem:
    id: int
    unit_code: str
    author_id: int
    kind: InfoKind
    title: str
    body: str
    submitted_at: datetime
    week_end: datetime
    mark: Mark = Mark.PENDING
    marked_by: int | None = None
    marked_at: datetime | None = None


@dataclass
class InfoDraft:
    """Answers so far in the /info dialogue (kept in the drafts table)."""

    kind: str | None = None
    title: str = ""
    body: str = ""
    files: list[tuple[str, str]] = field(default_factory=list)  # ("photo"|"document", file_id)

    def complete(self) -> bool:
        return self.kind in {k.value for k in InfoKind} and bool(self.title) and bool(self.body)

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "title": self.title, "body": self.body, "files": [list(f) for f in self.files]}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> InfoDraft:
        files = d.get("files") or []
        assert isinstance(files, list)
        kind = d.get("kind")
        return cls(kind=str(kind) if kind else None, title=str(d.get("title") or ""), body=str(d.get("body") or ""),
                   files=[(str(a), str(b)) for a, b in files])


@dataclass(frozen=True)
class UnitTally:
    """One unit's month: items sent, adoptions by level, quota weeks met of weeks closed."""

    unit_code: str
    submitted: int = 0
    adopted: Mapping[Mark, int] = field(default_factory=dict)
    weeks_met: int = 0
    weeks_total: int = 0

    @property
    def adopted_total(self) -> int:
        return sum(self.adopted.get(m, 0) for m in ADOPTED)

    def score(self, scores: Scores) -> int:
        return sum(scores.points(m) * self.adopted.get(m, 0) for m in ADOPTED)


@dataclass(frozen=True)
class Ranked:
    rank: int
    tally: UnitTally
    score: int


def rank_units(tallies: Iterable[UnitTally], scores: Scores) -> list[Ranked]:
    """By score; equal scores share a rank (1, 1, 3). Within a tie: more adopted, more sent,
    then the order given (the config's unit order)."""
    indexed = list(enumerate(tallies))
    indexed.sort(key=lambda it: (-it[1].score(scores), -it[1].adopted_total, -it[1].submitted, it[0]))
    out: list[Ranked] = []
    for pos, (_, t) in enumerate(indexed, 1):
        score = t.score(scores)
        rank = out[-1].rank if out and out[-1].score == score else pos
        out.append(Ranked(rank, t, score))
    return out
