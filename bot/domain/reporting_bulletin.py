"""The 通报 of emergency reporting: per unit, what it reported and how, and its failures.

Figures are computed from plain rows (no sqlite, no telegram). Incidents and their stages count
when the incident was created in the period (as /stats counts them); findings (迟报, 漏报, 误报,
瞒报, 未报) count when they were recorded; the office's own forward times count by the clock's start.
Units with failures come first, most failures first — the order an office 通报 reads in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

from bot.domain.accountability import UNIT_FAILURES, MarkKind, MarkRow, failures_by_unit
from bot.domain.stats import IncidentRow, Period, StageRow, period_of, stage_status


@dataclass(frozen=True)
class ClockRow:
    """A forward clock as the 通报 reads it."""

    unit: str
    number: str
    stage: str
    started_at: datetime
    forwarded_at: datetime | None
    breached: bool


@dataclass
class UnitRecord:
    unit: str
    incidents: int = 0
    on_time: int = 0  # stages filed on time
    late: int = 0  # stages filed late, or past due and not filed
    missed: int = 0  # stages never filed before closing
    failures: dict[str, list[MarkRow]] = field(default_factory=dict)  # the four kinds → marks
    unreported: list[MarkRow] = field(default_factory=list)  # 未报 (the office learnt of it elsewhere)
    first_minutes: float | None = None  # mean first report time after learning of the event
    forward_minutes: float | None = None  # mean time the office took to forward its events

    def count(self, kind: MarkKind | str) -> int:
        return len(self.failures.get(str(kind), []))

    @property
    def failure_total(self) -> int:
        return sum(self.count(k) for k in UNIT_FAILURES)

    @property
    def empty(self) -> bool:
        return not (self.incidents or self.failure_total or self.unreported)


@dataclass(frozen=True)
class OfficeForward:
    """The office's own clock to the city over the period."""

    forwarded: int
    mean_minutes: float | None
    breaches: tuple[ClockRow, ...]  # clocks that ran out (forwarded late or not at all)


@dataclass(frozen=True)
class Bulletin:
    period: Period
    units: tuple[UnitRecord, ...]  # failures first
    office: OfficeForward

    @property
    def with_failures(self) -> tuple[UnitRecord, ...]:
        return tuple(u for u in self.units if u.failure_total)


def _mean_minutes(deltas: list[timedelta]) -> float | None:
    return mean(d.total_seconds() / 60 for d in deltas) if deltas else None


def compile_bulletin(
    units: Sequence[str], period: Period, now: datetime, *, incidents: Sequence[IncidentRow],
    stages: Sequence[StageRow], marks: Sequence[MarkRow], clocks: Sequence[ClockRow],
) -> Bulletin:
    """One record per unit in `units` (rows of other units are ignored), failures first."""
    recs = {u: UnitRecord(u) for u in units}
    in_period = {i.id: i for i in incidents if period.holds(i.created_at) and i.unit in recs}
    first_delays: dict[str, list[timedelta]] = {u: [] for u in units}
    for inc in in_period.values():
        recs[inc.unit].incidents += 1
    for st in stages:
        owner = in_period.get(st.incident_id)
        if owner is None:
            continue
        status = stage_status(st, now)
        rec = recs[owner.unit]
        if status == "on_time":
            rec.on_time += 1
        elif status == "late":
            rec.late += 1
        elif status == "missed":
            rec.missed += 1
        if st.stage == "first" and st.filed_at is not None:
            first_delays[owner.unit].append(max(timedelta(0), st.filed_at - owner.learnt_at))
    for unit, kinds in failures_by_unit(list(marks), period.start, period.end).items():
        if unit in recs:
            recs[unit].failures = kinds
    for m in marks:
        if m.kind == MarkKind.UNREPORTED and m.unit in recs and period.holds(m.at):
            recs[m.unit].unreported.append(m)
    forward_delays: dict[str, list[timedelta]] = {u: [] for u in units}
    office_delays: list[timedelta] = []
    breaches: list[ClockRow] = []
    for c in sorted(clocks, key=lambda c: c.started_at):
        if not period.holds(c.started_at):
            continue
        if c.forwarded_at is not None:
            office_delays.append(c.forwarded_at - c.started_at)
            if c.stage == "first" and c.unit in forward_delays:
                forward_delays[c.unit].append(c.forwarded_at - c.started_at)
        if c.breached:
            breaches.append(c)
    for u in units:
        recs[u].first_minutes = _mean_minutes(first_delays[u])
        recs[u].forward_minutes = _mean_minutes(forward_delays[u])
    order = {u: i for i, u in enumerate(units)}
    ranked = sorted(recs.values(), key=lambda r: (-r.failure_total, -len(r.unreported), r.empty, order[r.unit]))
    office = OfficeForward(len(office_delays), _mean_minutes(office_delays), tuple(breaches))
    return Bulletin(period, tuple(ranked), office)


MONTHLY, WEEKLY = "monthly", "weekly"


def bulletin_period(cadence: str, now: datetime, tz: ZoneInfo) -> Period:
    """What a 通报 sent at `now` covers: the calendar month before (monthly), or the seven days
    before the day it is sent (weekly: sent on a Monday, the week Monday to Sunday)."""
    today = now.astimezone(tz).date()
    if cadence == WEEKLY:
        last = today - timedelta(days=1)
        return period_of(last - timedelta(days=6), last, tz)
    last = today.replace(day=1) - timedelta(days=1)
    return period_of(last.replace(day=1), last, tz)
