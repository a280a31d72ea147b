from datetime import UTC, datetime, timedelta

from bot.domain.casualties import Casualties
from bot.domain.incidents import (
    DUE,
    FOLLOWUP,
    FORWARD_REMIND,
    REMIND,
    Category,
    Incident,
    IncidentPolicy,
    Stage,
    StageRecord,
    StageState,
    deadlines_for,
    incident_number,
    merge_followup,
    missed_on_close,
    parse_incident_number,
    plan_deadlines,
    stage_state,
)

POLICY = IncidentPolicy(
    first_report=timedelta(hours=1), written_report=timedelta(hours=2), full_report=timedelta(hours=3),
    followup_every=timedelta(hours=4), remind_before=(timedelta(minutes=15),),
    forward_target=timedelta(minutes=10), forward_remind=timedelta(minutes=8), major_categories=frozenset({"fire"}),
)
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_deadlines_count_from_learnt_time() -> None:
    due = deadlines_for(T0, POLICY)
    assert due == {Stage.FIRST: T0 + timedelta(hours=1), Stage.WRITTEN: T0 + timedelta(hours=2),
                   Stage.FULL: T0 + timedelta(hours=3)}


def test_plan_on_time_report() -> None:
    plan = plan_deadlines(T0, T0 + timedelta(minutes=20), POLICY)
    kinds = sorted((p.kind, p.stage, p.due_at - T0) for p in plan)
    assert kinds == sorted([
        (REMIND, "written", timedelta(hours=1, minutes=45)),
        (DUE, "written", timedelta(hours=2)),
        (REMIND, "full", timedelta(hours=2, minutes=45)),
        (DUE, "full", timedelta(hours=3)),
        (FOLLOWUP, "", timedelta(hours=7)),
    ])
    # The office's forward clock is planned on its own (bot/domain/accountability.plan_forward).
    assert FORWARD_REMIND not in [p.kind for p in plan]


def test_plan_for_an_event_the_office_learnt_of_elsewhere_owes_the_first_report_too() -> None:
    recorded = T0 + timedelta(minutes=30)
    plan = plan_deadlines(T0, recorded, POLICY, owed=(Stage.FIRST, Stage.WRITTEN, Stage.FULL))
    first = sorted((p.kind, p.due_at - T0) for p in plan if p.stage == "first")
    assert first == [(DUE, timedelta(hours=1)), (REMIND, timedelta(minutes=45))]


def test_plan_for_a_report_filed_after_the_written_deadline() -> None:
    created = T0 + timedelta(hours=2, minutes=30)
    plan = plan_deadlines(T0, created, POLICY)
    written = [p for p in plan if p.stage == "written"]
    # No reminder in the past; the due check fires at once.
    assert [(p.kind, p.due_at) for p in written] == [(DUE, created)]


def test_stage_states() -> None:
    due = T0 + timedelta(hours=2)
    rec = StageRecord(Stage.WRITTEN, due)
    assert stage_state(rec, T0) is StageState.PENDING
    assert stage_state(rec, due + timedelta(seconds=1)) is StageState.OVERDUE
    filed = StageRecord(Stage.WRITTEN, due, filed_at=due - timedelta(minutes=1))
    assert stage_state(filed, due + timedelta(hours=5)) is StageState.ON_TIME
    late = StageRecord(Stage.WRITTEN, due, filed_at=due + timedelta(minutes=25))
    assert stage_state(late, due) is StageState.FILED_LATE
    assert late.delay == timedelta(minutes=25)
    missed = StageRecord(Stage.FULL, due, missed=True)
    assert stage_state(missed, due) is StageState.MISSED


def _incident(stages: tuple[StageRecord, ...], casualties: Casualties = Casualties(0, 0, 0),
              category: str = "traffic") -> Incident:
    return Incident(
        id=1, number="2026-0001", unit_code="u", reporter_id=1, category=Category(category), occurred_at=T0,
        learnt_at=T0, place="x", latitude=None, longitude=None, casualties=casualties, description="d",
        created_at=T0, stages=stages,
    )


def test_missed_on_close_lists_unfiled_stages_only() -> None:
    inc = _incident((
        StageRecord(Stage.FIRST, T0, filed_at=T0),
        StageRecord(Stage.WRITTEN, T0, filed_at=T0),
        StageRecord(Stage.FULL, T0),
    ))
    assert missed_on_close(inc) == [Stage.FULL]


def test_major_by_casualties_or_category() -> None:
    assert _incident((), Casualties(1, 0, 0)).is_major(POLICY)
    assert _incident((), category="fire").is_major(POLICY)
    assert not _incident(()).is_major(POLICY)


def test_follow_up_merges_only_stated_figures() -> None:
    assert merge_followup(Casualties(0, 2, 1), Casualties(None, 4, None)) == Casualties(0, 4, 1)


def test_numbers() -> None:
    assert incident_number(2026, 7) == "2026-0007"
    assert parse_incident_number("2026-7") == "2026-0007"
    assert parse_incident_number("２０２６-0007".replace("２０２６", "2026")) == "2026-0007"
    assert parse_incident_number("7") is None
    assert parse_incident_number("2026-0007; DROP") is None
