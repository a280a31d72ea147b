"""The duty log (值班记录) and the handover (交接班) as plain rules.

The officers on shift log what came in — a call, a report, a document, a visitor — from whom,
what was done and what is pending; what reached the duty room by itself (incidents, notices,
escalations) is in the log too, read from where it was recorded. At every shift change the
outgoing officers hand over (交班) and the incoming take over (接班); both times are kept, and a
change nobody took over within the configured delay is alerted to the director.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import parse

HANDOVER_CHECK = "roster.handover_check"  # the deadline kind: no 接班 after the configured delay
MAX_BACKDATE = timedelta(days=2)  # an entry written up later than this is a typo
MAX_PHOTOS = 10


class EntryKind(StrEnum):
    CALL = "call"  # 来电
    REPORT = "report"  # 来报
    DOCUMENT = "document"  # 来文
    VISITOR = "visitor"  # 来访
    OTHER = "other"  # 其他


class AutoKind(StrEnum):
    """What reached the duty room by itself and is in the log without anyone writing it."""

    INCIDENT = "incident"  # an incident reported (the alert)
    ESCALATION = "escalation"  # a missed deadline escalated (迟报, 漏报), a forward reminder
    FORWARDED = "forwarded"  # passed to the city office
    NOTICE = "notice"  # a notice sent to, or by, the duty room
    HANDED = "handed"  # 交班
    TAKEN = "taken"  # 接班


@dataclass(frozen=True)
class LogLine:
    """One line of a day's log, written or automatic, in time order."""

    at: datetime
    kind: str  # an EntryKind or an AutoKind value
    text: dict[str, object] = field(default_factory=dict)  # what the line shows (rendered by the service)
    entry_id: int | None = None  # a written entry's number


def merged(written: Iterable[LogLine], automatic: Iterable[LogLine]) -> list[LogLine]:
    """Written entries and what reached the duty room by itself, by time (written first on a tie)."""
    rows = [(line.at, 0, i, line) for i, line in enumerate(written)]
    rows += [(line.at, 1, i, line) for i, line in enumerate(automatic)]
    return [line for *_key, line in sorted(rows, key=lambda r: (r[0], r[1], r[2]))]


# --- when an entry happened, as typed on a phone ------------------------------------------


class EntryTimeError(ValueError):
    """`code` is a catalog key suffix: time_bad, time_future, time_old."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# A time, after a day or not: `14:20`, `9点`, `11-24 14:20`, `11月24日 9:05`, `2026-11-24 14:20`.
_TIME = re.compile(r"(?:" + parse.DATE + r"\s*)?" + parse.CLOCK, re.ASCII)


def parse_entry_time(text: str, now: datetime, tz: ZoneInfo, max_back: timedelta = MAX_BACKDATE) -> datetime:
    """`14:20` (today), `11-24 14:20`, `9点`; not in the future, not older than `max_back`.
    Digits, days and clock times are read by bot/domain/parse.py: anything it cannot take is time_bad."""
    m = _TIME.fullmatch(re.sub(r"\s+", " ", parse.normalise(text)))
    if not m:
        raise EntryTimeError("time_bad")
    local_now = now.astimezone(tz)
    # A day without its year is the latest one up to tomorrow: 12-31 typed on 01-01 is last year's
    # (and 2-29 that resolves to a common year is no day at all).
    day = local_now.date() if m.group("mo") is None else parse.date_of(m, local_now.date() + timedelta(days=1), "past")
    at = parse.clock_of(m)
    when = parse.moment(day, at, tz) if day is not None and at is not None else None
    if when is None:
        raise EntryTimeError("time_bad")
    if when > now + timedelta(minutes=1):
        raise EntryTimeError("time_future")
    if now - when > max_back:
        raise EntryTimeError("time_old")
    return when


# --- the entry being written --------------------------------------------------------------


@dataclass
class LogDraft:
    kind: str | None = None
    at: str | None = None  # ISO UTC
    source: str = ""
    content: str = ""
    action: str = ""
    pending: str = ""
    photos: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LogDraft:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def when(self) -> datetime | None:
        return datetime.fromisoformat(self.at) if self.at else None

    def complete(self) -> bool:
        return bool(self.kind in {k.value for k in EntryKind} and self.at and self.source and self.content)


# --- the handover ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Handover:
    id: int
    at: datetime  # the shift change
    outgoing: tuple[int, ...]  # member ids whose shift ended then
    incoming: tuple[int, ...]  # member ids whose shift began then
    notes: str = ""
    handed_by: int | None = None
    handed_at: datetime | None = None
    taken_by: int | None = None
    taken_at: datetime | None = None
    alerted_at: datetime | None = None

    @property
    def handed(self) -> bool:
        return self.handed_at is not None or not self.outgoing  # nobody to hand over: ready to take

    @property
    def taken(self) -> bool:
        return self.taken_at is not None


class HandoverRefusal(StrEnum):
    NOT_OUTGOING = "not_outgoing"  # 交班 by someone whose shift did not end then
    NOT_INCOMING = "not_incoming"  # 接班 by someone whose shift did not begin then
    ALREADY_HANDED = "already_handed"
    NOT_HANDED = "not_handed"  # 接班 before 交班
    ALREADY_TAKEN = "already_taken"


def may_hand(h: Handover, member_id: int) -> HandoverRefusal | None:
    if member_id not in h.outgoing:
        return HandoverRefusal.NOT_OUTGOING
    if h.handed_at is not None:
        return HandoverRefusal.ALREADY_HANDED
    return None


def may_take(h: Handover, member_id: int) -> HandoverRefusal | None:
    if member_id not in h.incoming:
        return HandoverRefusal.NOT_INCOMING
    if h.taken_at is not None:
        return HandoverRefusal.ALREADY_TAKEN
    if not h.handed:
        return HandoverRefusal.NOT_HANDED
    return None


def pressed_within(at: datetime, earliest: datetime, now: datetime) -> datetime:
    """When a handover button counts as pressed: the person's own time (`at`), never before the
    moment it could have been pressed (the shift change, or 交班 for 接班) nor after now."""
    return min(max(at, earliest), now)


def needs_alert(h: Handover) -> bool:
    """At the check: no 接班 yet (and not alerted before)."""
    return not h.taken and h.alerted_at is None
