"""The record the commitment holds units to (迟报, 漏报, 误报, 瞒报), and the office's own
10-minute forward clock (超时上报).

A mark is one finding against an incident: made by the rules (迟报 when a stage is late, 漏报
when it is never filed, 未报 when the office learnt of an event elsewhere, 超时上报 when the
office's own clock ran out) or by a director (误报, 瞒报 — never automatically). Directors add
notes to any mark (约谈, 通报批评); the periodic 通报 shows them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class MarkKind(StrEnum):
    LATE = "late"  # 迟报: a stage filed (or still owed) after its deadline
    MISSED = "missed"  # 漏报: closed without the stage
    WRONG = "wrong"  # 误报: facts reported that turned out untrue (a director's finding)
    CONCEALED = "concealed"  # 瞒报 (a director's finding)
    UNREPORTED = "unreported"  # 未报: the office learnt of it before the unit reported
    FORWARD_LATE = "forward_late"  # 超时上报: the office's own clock to the city ran out


# The four failures the commitment names, counted against the unit, in the commitment's order.
UNIT_FAILURES: tuple[MarkKind, ...] = (MarkKind.LATE, MarkKind.MISSED, MarkKind.WRONG, MarkKind.CONCEALED)
# Findings only a director makes, each with a reason.
DIRECTOR_MARKS: tuple[MarkKind, ...] = (MarkKind.WRONG, MarkKind.CONCEALED)


@dataclass(frozen=True)
class Note:
    text: str
    at: datetime
    by_id: int | None


@dataclass(frozen=True)
class Mark:
    id: int
    incident_id: int
    unit_code: str
    kind: MarkKind
    stage: str  # the stage it concerns ("" for the whole incident)
    minutes: int | None  # how late / how long a gap, when it applies
    reason: str
    at: datetime
    by_id: int | None  # None: recorded by the rules
    ref: int = 0  # the forward clock of a 超时上报 mark
    notes: tuple[Note, ...] = ()

    @property
    def against_unit(self) -> bool:
        return self.kind in UNIT_FAILURES


class MarkRefusal(StrEnum):
    """Why a director's mark is not made (catalog keys incident.marks.refused_…)."""

    CLOSED = "closed"
    TWICE = "twice"
    NOT_DIRECTOR_MARK = "not_director_mark"


def mark_refusal(kind: MarkKind, incident_open: bool, existing: list[Mark]) -> MarkRefusal | None:
    """May a director mark an incident `kind` now? Only open incidents, each finding once."""
    if kind not in DIRECTOR_MARKS:
        return MarkRefusal.NOT_DIRECTOR_MARK
    if not incident_open:
        return MarkRefusal.CLOSED
    if any(m.kind is kind for m in existing):
        return MarkRefusal.TWICE
    return None


def whole_minutes(delta: timedelta) -> int:
    """Minutes as an office counts lateness: any part of a minute counts as one (61 s late: 2)."""
    secs = max(0, math.ceil(delta.total_seconds()))
    return -(-secs // 60)


def first_report_delay(learnt_at: datetime, filed_at: datetime, first_report: timedelta) -> timedelta | None:
    """How late a first report is (首报迟报), counted from when the unit learnt of the event."""
    late = filed_at - (learnt_at + first_report)
    return late if late > timedelta(0) else None


# --- the office's forward clock (上报市委) ------------------------------------------------


@dataclass(frozen=True)
class ForwardClock:
    """One 10-minute clock: started when the office received a stage, stopped by 已上报市委."""

    id: int
    incident_id: int
    stage: str  # the stage whose facts are to be forwarded: first, written, full, followup, corrected
    started_at: datetime
    forwarded_at: datetime | None = None
    forwarded_by: int | None = None
    breached_at: datetime | None = None

    def target(self, target: timedelta) -> datetime:
        return self.started_at + target

    def overrun(self, target: timedelta, now: datetime) -> timedelta | None:
        """How far past the target: at the forward, or by `now` while not forwarded; None if within."""
        end = self.forwarded_at if self.forwarded_at is not None else now
        over = end - self.target(target)
        return over if over > timedelta(0) else None

    @property
    def elapsed(self) -> timedelta | None:
        return None if self.forwarded_at is None else self.forwarded_at - self.started_at


FORWARD_STAGES = ("first", "written", "full", "followup", "corrected")


@dataclass(frozen=True)
class PlannedCheck:
    kind: str  # "remind" | "due"
    due_at: datetime


def plan_forward(started_at: datetime, now: datetime, remind_after: timedelta,
                 target: timedelta) -> list[PlannedCheck]:
    """The reminder (if still ahead) and the breach check of one forward clock. A clock started
    in the past (a phone report recorded some minutes after the call) checks at once."""
    plan = []
    if started_at + remind_after > now:
        plan.append(PlannedCheck("remind", started_at + remind_after))
    plan.append(PlannedCheck("due", max(started_at + target, now)))
    return plan


# --- counting for the 通报 and /stats ---------------------------------------------------


@dataclass(frozen=True)
class MarkRow:
    """A mark as the statistics read it: whose, what, on which incident, when it was recorded."""

    unit: str
    kind: str
    number: str
    stage: str
    minutes: int | None
    at: datetime
    notes: tuple[str, ...] = ()


def failures_by_unit(marks: list[MarkRow], start: datetime, end: datetime) -> dict[str, dict[str, list[MarkRow]]]:
    """unit → failure kind → the marks of the four failures recorded in [start, end), in time order.

    A mark counts in the period it was recorded in: a finding made in March on a February event
    is in March's 通报, so every finding is in exactly one."""
    out: dict[str, dict[str, list[MarkRow]]] = {}
    failures = {k.value for k in UNIT_FAILURES}
    for m in sorted(marks, key=lambda m: m.at):
        if m.kind in failures and start <= m.at < end:
            out.setdefault(m.unit, {}).setdefault(m.kind, []).append(m)
    return out
