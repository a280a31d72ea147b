"""Figures per unit for a period, computed from plain rows (no sqlite, no telegram).

Incidents count when created in the period; each deadline stage of them is on time, late
(迟报), missed (漏报, closed without it) or pending. Notice receipts,
supervision items and information items count by when they were sent / due / submitted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

from bot.domain import parse
from bot.domain.accountability import UNIT_FAILURES, MarkRow, failures_by_unit
from bot.domain.info import ADOPTED, Scores
from bot.domain.supervision import AssignmentState, was_late


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, UTC-aware
    end: datetime  # exclusive
    first: date  # Beijing dates, for labels
    last: date

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end


def _day_start(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tz)


def period_of(first: date, last: date, tz: ZoneInfo) -> Period:
    return Period(_day_start(first, tz), _day_start(last + timedelta(days=1), tz), first, last)


_RANGE = re.compile(r"^(" + parse.DATE.replace("?P<", "?P<a_") + r")\s*(?:\.\.|~|～|至|到)\s*(" + parse.DATE + r")$",
                    re.ASCII)


def parse_period(arg: str, now: datetime, tz: ZoneInfo) -> Period | None:
    """`week` (this Monday to today), `month` (default: this month to today), `2026-11`
    (any form parse.year_month reads), `2026-11-01..2026-11-15`; None if unreadable."""
    today = now.astimezone(tz).date()
    a = parse.normalise(arg).lower()
    if a in ("", "month", "本月", "月"):
        return period_of(today.replace(day=1), today, tz)
    if a in ("week", "本周", "周"):
        return period_of(today - timedelta(days=today.weekday()), today, tz)
    if ym := parse.year_month(a, today):
        y, mo = ym
        nxt = date(y + (mo == 12), mo % 12 + 1, 1)
        return period_of(date(y, mo, 1), nxt - timedelta(days=1), tz)
    if m := _RANGE.match(a):
        first = parse.calendar_day(int(m.group("a_y") or today.year), int(m.group("a_mo")), int(m.group("a_d")))
        last = parse.date_of(m, first, "future") if first else None  # 11-25..01-05 ends next January
        if first is None or last is None or last < first or (last - first).days > 366:
            return None
        return period_of(first, last, tz)
    return None


# --- rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentRow:
    id: int
    number: str
    unit: str
    category: str
    created_at: datetime
    learnt_at: datetime
    forwarded_at: datetime | None
    status: str


@dataclass(frozen=True)
class StageRow:
    incident_id: int
    stage: str
    due_at: datetime
    filed_at: datetime | None
    missed: bool


@dataclass(frozen=True)
class LeaveRow:
    unit: str
    start_at: datetime
    end_at: datetime
    status: str
    on_leave: bool


@dataclass(frozen=True)
class ReceiptRow:
    unit: str  # the receiver's unit
    sent_at: datetime
    acked_at: datetime | None


@dataclass(frozen=True)
class TaskRow:
    unit: str
    due_at: datetime
    state: str  # bot.domain.supervision.AssignmentState
    submitted_at: datetime | None = None
    late: bool = False  # past a deadline it owed work on at some point (a return's new deadline keeps it)


def task_status(row: TaskRow, now: datetime) -> str:
    """on_time | overdue | open, as the bulletin reads it: a completion counts from its submission,
    not from the director's approval; one awaiting review is not the unit's delay unless it came late."""
    late = was_late(row.late, row.submitted_at, row.due_at)
    if row.state == AssignmentState.DONE:
        return "overdue" if late else "on_time"
    if row.state == AssignmentState.SUBMITTED:
        return "overdue" if late else "open"
    return "overdue" if late or now > row.due_at else "open"


@dataclass(frozen=True)
class InfoRow:
    unit: str
    submitted_at: datetime
    mark: str


def stage_status(row: StageRow, now: datetime) -> str:
    """on_time | late (迟报: filed late, or past due and still unfiled) | missed (漏报: closed
    without it) | pending."""
    if row.filed_at is not None:
        return "on_time" if row.filed_at <= row.due_at else "late"
    if row.missed:
        return "missed"
    return "late" if now > row.due_at else "pending"


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class UnitFigures:
    unit: str
    incidents: int = 0
    stages: dict[str, dict[str, int]] = field(default_factory=dict)  # stage → status → n
    first_report_minutes: float | None = None
    forward_minutes: float | None = None
    leave_days: int = 0
    away_now: int = 0
    receipts_due: int = 0
    receipts_done: int = 0
    receipt_minutes: float | None = None
    tasks_on_time: int = 0
    tasks_overdue: int = 0
    tasks_open: int = 0
    info_submitted: int = 0
    info_adopted: int = 0
    info_score: int = 0
    # The commitment's four failures recorded in the period: kind → incident numbers (one per finding).
    failures: dict[str, list[str]] = field(default_factory=dict)

    def failure_count(self, kind: str) -> int:
        return len(self.failures.get(kind, []))

    def count(self, status: str) -> int:
        return sum(v.get(status, 0) for v in self.stages.values())

    @property
    def on_time_rate(self) -> float | None:
        on, late, missed = self.count("on_time"), self.count("late"), self.count("missed")
        return rate(on, on + late + missed)

    @property
    def receipt_rate(self) -> float | None:
        return rate(self.receipts_done, self.receipts_due)

    @property
    def empty(self) -> bool:
        return not (self.incidents or self.leave_days or self.away_now or self.receipts_due or self.tasks_on_time
                    or self.tasks_overdue or self.tasks_open or self.info_submitted or self.failures)


def _minutes(deltas: Iterable[timedelta]) -> float | None:
    vals = [d.total_seconds() / 60 for d in deltas]
    return mean(vals) if vals else None


def leave_days(row: LeaveRow, period: Period, tz: ZoneInfo) -> int:
    """Calendar days (Beijing) of an approved leave that fall inside the period."""
    if row.status != "approved":
        return 0
    first = max(row.start_at.astimezone(tz).date(), period.first)
    last = min((row.end_at - timedelta(microseconds=1)).astimezone(tz).date(), period.last)
    return max(0, (last - first).days + 1)


def compute(
    units: Sequence[str], period: Period, now: datetime, tz: ZoneInfo, *,
    incidents: Sequence[IncidentRow] = (), stages: Sequence[StageRow] = (), leave: Sequence[LeaveRow] = (),
    receipts: Sequence[ReceiptRow] = (), tasks: Sequence[TaskRow] = (), info: Sequence[InfoRow] = (),
    scores: Scores = Scores(), marks: Sequence[MarkRow] = (),
) -> list[UnitFigures]:
    """One UnitFigures per unit in `units` order (rows of other units are ignored)."""
    figs = {u: UnitFigures(u) for u in units}
    for unit, kinds in failures_by_unit(list(marks), period.start, period.end).items():
        if unit in figs:
            figs[unit].failures = {k.value: [m.number for m in kinds.get(k.value, [])] for k in UNIT_FAILURES
                                   if kinds.get(k.value)}
    in_period = {i.id: i for i in incidents if period.holds(i.created_at) and i.unit in figs}
    first_delays: dict[str, list[timedelta]] = {u: [] for u in units}
    forward_delays: dict[str, list[timedelta]] = {u: [] for u in units}
    for inc in in_period.values():
        figs[inc.unit].incidents += 1
        if inc.forwarded_at is not None:
            forward_delays[inc.unit].append(inc.forwarded_at - inc.created_at)
    for st in stages:
        of = in_period.get(st.incident_id)
        if of is None:
            continue
        by_status = figs[of.unit].stages.setdefault(st.stage, {})
        status = stage_status(st, now)
        by_status[status] = by_status.get(status, 0) + 1
        if st.stage == "first" and st.filed_at is not None:
            first_delays[of.unit].append(max(timedelta(0), st.filed_at - of.learnt_at))
    for u in units:
        figs[u].first_report_minutes = _minutes(first_delays[u])
        figs[u].forward_minutes = _minutes(forward_delays[u])
    for lv in leave:
        if lv.unit in figs:
            figs[lv.unit].leave_days += leave_days(lv, period, tz)
            figs[lv.unit].away_now += int(lv.on_leave)
    receipt_delays: dict[str, list[timedelta]] = {u: [] for u in units}
    for rc in receipts:
        if rc.unit not in figs or not period.holds(rc.sent_at):
            continue
        figs[rc.unit].receipts_due += 1
        if rc.acked_at is not None:
            figs[rc.unit].receipts_done += 1
            receipt_delays[rc.unit].append(rc.acked_at - rc.sent_at)
    for u in units:
        figs[u].receipt_minutes = _minutes(receipt_delays[u])
    for t in tasks:
        if t.unit not in figs or not period.holds(t.due_at):
            continue
        f = figs[t.unit]
        status = task_status(t, now)
        if status == "on_time":
            f.tasks_on_time += 1
        elif status == "overdue":
            f.tasks_overdue += 1
        else:
            f.tasks_open += 1
    for it in info:
        if it.unit not in figs or not period.holds(it.submitted_at):
            continue
        f = figs[it.unit]
        f.info_submitted += 1
        f.info_adopted += int(it.mark in ADOPTED)
        f.info_score += scores.points(it.mark)
    return [figs[u] for u in units]
