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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import cron, parse
from bot.domain.cron import Crontab

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


# --- recurring times: crontab lines (bot/domain/cron.py) ------------------------------


@dataclass(frozen=True)
class QuotaPolicy:
    quota: int = 2
    deadline: Crontab = cron.parse("0 17 * * fri")  # weekly: the quota week ends here
    reminders: tuple[Crontab, ...] = (cron.parse("0 17 * * thu"), cron.parse("0 12 * * fri"))
    scores: Scores = field(default_factory=Scores)
    bulletin: Crontab = cron.parse("0 9 1 * *")  # monthly


def quota_week(moment: datetime, deadline: Crontab, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """(start, end] of the quota week `moment` falls in, as UTC; `end` is that week's deadline."""
    end = deadline.at_or_after(moment, tz)
    return deadline.before(end, tz).astimezone(UTC), end.astimezone(UTC)


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
