"""Emergency reports: categories, staged deadlines, lateness and the merged current report.

The reporting commitment (《重要紧急信息报送工作承诺书》): first report within 1 h,
written within 2 h, cause/handling/consequences within 3 h, counted from when the unit
learnt of the event; follow-ups until closed. Durations come from config.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain import parse
from bot.domain.casualties import Casualties


class Category(StrEnum):
    SAFETY = "safety"  # 安全生产事故
    FIRE = "fire"  # 火灾
    COLLAPSE = "collapse"  # 道路塌方/地质灾害
    TRAFFIC = "traffic"  # 交通事故
    DISASTER = "disaster"  # 自然灾害
    MASS = "mass"  # 群体性事件
    HEALTH = "health"  # 公共卫生事件
    OTHER = "other"  # 其他


class Stage(StrEnum):
    FIRST = "first"  # 首报
    WRITTEN = "written"  # 书面报告
    FULL = "full"  # 续报: 起因/背景/发展/处置/后果
    FOLLOWUP = "followup"  # 续报 (any number)
    CLOSING = "closing"  # 终报/结案
    CORRECTED = "corrected"  # 更正书面报告, owed after a director's 误报 mark


DEADLINE_STAGES = (Stage.FIRST, Stage.WRITTEN, Stage.FULL)
FULL_FIELDS = ("cause", "background", "development", "handling", "consequences")


class StageState(StrEnum):
    ON_TIME = "on_time"
    FILED_LATE = "filed_late"  # 迟报, then filed
    PENDING = "pending"  # due in …
    OVERDUE = "overdue"  # 迟报, not yet filed
    MISSED = "missed"  # 漏报: never filed before closing


@dataclass(frozen=True)
class IncidentPolicy:
    first_report: timedelta
    written_report: timedelta
    full_report: timedelta
    followup_every: timedelta
    remind_before: tuple[timedelta, ...]
    forward_target: timedelta
    forward_remind: timedelta
    major_categories: frozenset[str] = frozenset()

    def offset(self, stage: Stage) -> timedelta:
        return {
            Stage.FIRST: self.first_report,
            Stage.WRITTEN: self.written_report,
            Stage.FULL: self.full_report,
        }[stage]


@dataclass(frozen=True)
class StageRecord:
    stage: Stage
    due_at: datetime
    filed_at: datetime | None = None
    filed_by: int | None = None
    late_flagged_at: datetime | None = None
    missed: bool = False

    def state(self, now: datetime) -> StageState:
        return stage_state(self, now)

    @property
    def delay(self) -> timedelta | None:
        if self.filed_at is None or self.filed_at <= self.due_at:
            return None
        return self.filed_at - self.due_at


@dataclass(frozen=True)
class Incident:
    id: int
    number: str
    unit_code: str
    reporter_id: int
    category: Category
    occurred_at: datetime
    learnt_at: datetime
    place: str
    latitude: float | None
    longitude: float | None
    casualties: Casualties
    description: str
    created_at: datetime
    status: str = "open"
    full: dict[str, str | None] = field(default_factory=dict)
    acked_by: int | None = None
    acked_at: datetime | None = None
    forwarded_by: int | None = None
    forwarded_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: int | None = None
    outcome: str | None = None
    stages: tuple[StageRecord, ...] = ()
    source: str = "unit"  # bot.domain.record.Source: the unit's /report, or how the duty room learnt of it
    recorded_by: int | None = None  # the duty officer or director who put it on record
    office_learnt_at: datetime | None = None  # when the office learnt of it (the call, for a phone report)
    caller_name: str = ""
    caller_phone: str = ""

    @property
    def open(self) -> bool:
        return self.status == "open"

    @property
    def recorded(self) -> bool:
        """Put on record by the duty room (代报/登记), not filed by the unit from its phone."""
        return self.recorded_by is not None

    @property
    def received_at(self) -> datetime:
        """When the office received the facts: the call or the other source, else the unit's filing."""
        return self.office_learnt_at or self.created_at

    def stage(self, stage: Stage) -> StageRecord | None:
        return next((s for s in self.stages if s.stage == stage), None)

    def is_major(self, policy: IncidentPolicy) -> bool:
        return self.casualties.major or self.category.value in policy.major_categories

    def next_deadline(self, now: datetime) -> StageRecord | None:
        pending = [s for s in self.stages if s.filed_at is None and not s.missed]
        return min(pending, key=lambda s: s.due_at) if pending else None

    def open_full_fields(self) -> list[str]:
        return [f for f in FULL_FIELDS if not self.full.get(f)]


def stage_state(rec: StageRecord, now: datetime) -> StageState:
    if rec.filed_at is not None:
        return StageState.ON_TIME if rec.filed_at <= rec.due_at else StageState.FILED_LATE
    if rec.missed:
        return StageState.MISSED
    return StageState.OVERDUE if now > rec.due_at else StageState.PENDING


def deadlines_for(learnt_at: datetime, policy: IncidentPolicy) -> dict[Stage, datetime]:
    """When each staged report is due, counted from when the unit learnt of the event."""
    return {stage: learnt_at + policy.offset(stage) for stage in DEADLINE_STAGES}


def is_late(due_at: datetime, filed_at: datetime) -> bool:
    return filed_at > due_at


@dataclass(frozen=True)
class PlannedDeadline:
    """A row for the deadline table: kind + stage + due time."""

    kind: str
    stage: str
    due_at: datetime


REMIND = "incident.remind"
DUE = "incident.due"
FORWARD_REMIND = "incident.forward_remind"  # stage: the forward clock's id ("" on rows from before clocks)
FORWARD_DUE = "incident.forward_due"  # the 10-minute target: 超时上报 if not forwarded by then
FOLLOWUP = "incident.followup"


def plan_stage_checks(stage: Stage, due: datetime, now: datetime, policy: IncidentPolicy) -> list[PlannedDeadline]:
    """The reminders still ahead of one stage's deadline, and its due check (at once if past)."""
    plan = [PlannedDeadline(REMIND, stage.value, due - before) for before in policy.remind_before
            if due - before > now]
    plan.append(PlannedDeadline(DUE, stage.value, max(due, now)))
    return plan


def plan_deadlines(
    learnt_at: datetime, created_at: datetime, policy: IncidentPolicy,
    owed: tuple[Stage, ...] = (Stage.WRITTEN, Stage.FULL),
) -> list[PlannedDeadline]:
    """Reminders and due checks for the stages the unit still owes (after a first report: the
    written and full reports; on an event the office learnt of elsewhere: the first report too),
    and the first call for a follow-up. The office's forward clock is planned on its own."""
    plan: list[PlannedDeadline] = []
    for stage, due in deadlines_for(learnt_at, policy).items():
        if stage in owed:
            plan += plan_stage_checks(stage, due, created_at, policy)
    plan.append(PlannedDeadline(FOLLOWUP, "", next_followup_at(learnt_at, created_at, policy)))
    return plan


def next_followup_at(learnt_at: datetime, last_report_at: datetime, policy: IncidentPolicy) -> datetime:
    """Follow-ups are asked for every `followup_every` after the later of full-report due and last report."""
    base = max(learnt_at + policy.full_report, last_report_at)
    return base + policy.followup_every


def incident_number(year: int, seq: int) -> str:
    """Readable on a phone and easy to say on the phone: 2026-0007."""
    return f"{year}-{seq:04d}"


def parse_incident_number(text: str) -> str | None:
    """`2026-0007`, `2026-7`, `２０２６－７` → "2026-0007"; None for anything else (parse.incident_number)."""
    got = parse.incident_number(text)
    return incident_number(*got) if got else None


def merge_followup(current: Casualties, update: Casualties) -> Casualties:
    """A follow-up's casualty figures replace only what it states."""
    return replace(
        current,
        deaths=update.deaths if update.deaths is not None else current.deaths,
        injured=update.injured if update.injured is not None else current.injured,
        missing=update.missing if update.missing is not None else current.missing,
    )


def forward_elapsed(inc: Incident) -> timedelta | None:
    if inc.forwarded_at is None:
        return None
    return inc.forwarded_at - inc.created_at


def missed_on_close(inc: Incident) -> list[Stage]:
    """Stages never filed when the incident closes become 漏报 (a corrected report owed after a
    误报 mark too)."""
    return [s.stage for s in inc.stages if s.filed_at is None and s.stage in (*DEADLINE_STAGES, Stage.CORRECTED)]
