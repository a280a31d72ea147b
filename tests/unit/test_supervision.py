"""督查督办 rules: typed deadlines and chase plans, the reminder plan, states, the bulletin tally, who may act."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import config
from bot.domain import supervision as rules
from bot.domain.members import Action, Member, Role, can
from bot.domain.supervision import (
    Assignment,
    AssignmentState,
    DueInputError,
    Source,
    Task,
    cn_number,
    parse_chase_plan,
    parse_due,
    plan_reminders,
    tally,
)

BJ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BJ).astimezone(UTC)  # Monday 10:00 Beijing
PLAN = (timedelta(days=3), timedelta(days=1), timedelta(hours=2))


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ).astimezone(UTC)  # type: ignore[misc]


def due(text: str, now: datetime = NOW) -> datetime:
    return parse_due(text, now, BJ, time(18, 0))


# --- typed deadlines ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("12-04", bj(2026, 12, 4, 18, 0)),
    ("12月4日", bj(2026, 12, 4, 18, 0)),
    ("2026-12-31 17:00", bj(2026, 12, 31, 17, 0)),
    ("2026/12/31 9点", bj(2026, 12, 31, 9, 0)),
    ("１２－０４", bj(2026, 12, 4, 18, 0)),  # full-width, as a Chinese IME types it
    ("今天", bj(2026, 11, 23, 18, 0)),
    ("明天 9:30", bj(2026, 11, 24, 9, 30)),
    ("3天", bj(2026, 11, 26, 18, 0)),
    ("三天内", bj(2026, 11, 26, 18, 0)),
    ("一周", bj(2026, 11, 30, 18, 0)),
    ("半个月", bj(2026, 12, 8, 18, 0)),
    ("2小时", NOW + timedelta(hours=2)),
    ("01-15", bj(2027, 1, 15, 18, 0)),  # a month already past this year means next year
])
def test_parse_due_reads_what_people_type(text: str, expected: datetime) -> None:
    got = due(text)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("text", "code"), [
    ("下周吧", "due_bad"),
    ("13-45", "due_bad"),
    ("12-04 25:00", "due_bad"),
    ("", "due_bad"),
    ("今天 9:00", "due_past"),  # 09:00 is before Monday 10:00
    ("2026-11-01", "due_past"),
    ("2030-01-01", "due_far"),
])
def test_parse_due_refuses_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(DueInputError) as err:
        due(text)
    assert err.value.code == code


@pytest.mark.parametrize("text", ["2-29", "0001-01-01 0:00", "9999-12-31 23:59", "99999999天"])
def test_parse_due_refuses_dates_the_calendar_cannot_hold(text: str) -> None:
    # 2-29 typed after February of a leap year would roll into 2029, which has no 29 February.
    with pytest.raises(DueInputError) as err:
        due(text, bj(2028, 3, 1, 10, 0))
    assert err.value.code in ("due_bad", "due_far")


def test_cn_number() -> None:
    assert [cn_number(x) for x in ("7", "三", "十", "十五", "二十", "两")] == [7, 3, 10, 15, 20, 2]


def test_parse_chase_plan_sorted_largest_first_and_deduplicated() -> None:
    assert parse_chase_plan("2小时 3天 1天") == PLAN
    assert parse_chase_plan("3d,1d,2h") == PLAN
    assert parse_chase_plan("５天、１天、４小时、４h") == (timedelta(days=5), timedelta(days=1), timedelta(hours=4))
    assert parse_chase_plan("30分钟") == (timedelta(minutes=30),)


@pytest.mark.parametrize("text", ["", "0天", "三天", "3周", "1d 2d 3d 4d 5d 6d 7d"])
def test_parse_chase_plan_refuses(text: str) -> None:
    with pytest.raises(DueInputError) as err:
        parse_chase_plan(text)
    assert err.value.code == "chase_bad"


# --- the reminder plan ------------------------------------------------------------------


def test_plan_reminders_before_the_deadline_then_the_due_check() -> None:
    deadline = bj(2026, 11, 26, 18, 0)
    plan = plan_reminders(deadline, NOW, PLAN, already_overdue=False, chase_every=timedelta(days=1))
    assert [(p.kind, p.stage, p.due_at) for p in plan] == [
        (rules.REMIND, str(3 * 86400), bj(2026, 11, 23, 18, 0)),
        (rules.REMIND, str(86400), bj(2026, 11, 25, 18, 0)),
        (rules.REMIND, str(7200), bj(2026, 11, 26, 16, 0)),
        (rules.DUE, "", deadline),
    ]


def test_plan_reminders_skips_reminders_already_past() -> None:
    deadline = NOW + timedelta(hours=20)
    plan = plan_reminders(deadline, NOW, PLAN, already_overdue=False, chase_every=timedelta(days=1))
    assert [p.kind for p in plan] == [rules.REMIND, rules.DUE]
    assert plan[0].due_at == deadline - timedelta(hours=2)


def test_plan_reminders_past_deadline_checks_at_once_or_keeps_chasing() -> None:
    past = NOW - timedelta(hours=1)
    not_flagged = plan_reminders(past, NOW, PLAN, already_overdue=False, chase_every=timedelta(days=1))
    assert [(p.kind, p.due_at) for p in not_flagged] == [(rules.DUE, NOW)]
    flagged = plan_reminders(past, NOW, PLAN, already_overdue=True, chase_every=timedelta(hours=12))
    assert [(p.kind, p.due_at) for p in flagged] == [(rules.CHASE, NOW + timedelta(hours=12))]
    # A new, later deadline (extension approved, or returned with a new one) plans reminders again.
    later = plan_reminders(NOW + timedelta(days=2), NOW, PLAN, already_overdue=True, chase_every=timedelta(days=1))
    assert [p.kind for p in later] == [rules.REMIND, rules.REMIND, rules.DUE]


def test_accept_check_at() -> None:
    assert rules.accept_check_at(NOW, timedelta(hours=4)) == NOW + timedelta(hours=4)


# --- states ---------------------------------------------------------------------------


def assignment(unit: str = "jianshelu", state: AssignmentState = AssignmentState.ACCEPTED, *,
               due_at: datetime = NOW, submitted_at: datetime | None = None, done_at: datetime | None = None,
               ident: int = 1) -> Assignment:
    return Assignment(id=ident, task_id=1, unit_code=unit, state=state, due_at=due_at,
                      submitted_at=submitted_at, done_at=done_at)


def task(*assignments: Assignment, ident: int = 1, title: str = "背街小巷整治") -> Task:
    return Task(id=ident, title=title, source=Source.INSTRUCTION, requirement="", leader_id=None, created_by=1,
                created_at=NOW - timedelta(days=10), due_at=NOW, chase_plan=PLAN, assignments=assignments)


def test_overdue_only_while_the_unit_owes_work() -> None:
    later = NOW + timedelta(minutes=1)
    assert assignment(state=AssignmentState.ASSIGNED).is_overdue(later)
    assert assignment(state=AssignmentState.ACCEPTED).is_overdue(later)
    assert not assignment(state=AssignmentState.ACCEPTED).is_overdue(NOW)  # at the deadline: still in time
    assert not assignment(state=AssignmentState.SUBMITTED).is_overdue(later)  # awaiting review
    assert not assignment(state=AssignmentState.DONE, submitted_at=NOW).is_overdue(later)


def test_finished_late_compares_the_submission_with_the_deadline() -> None:
    on_time = assignment(state=AssignmentState.DONE, submitted_at=NOW - timedelta(hours=1))
    late = assignment(state=AssignmentState.DONE, submitted_at=NOW + timedelta(hours=1))
    assert on_time.finished_late is False and late.finished_late is True
    assert assignment(state=AssignmentState.SUBMITTED, submitted_at=NOW).finished_late is None


def test_task_all_done_and_assignment_for() -> None:
    a = assignment("jianshelu", AssignmentState.DONE, submitted_at=NOW, ident=1)
    b = assignment("mianfanglu", AssignmentState.ACCEPTED, ident=2)
    t = task(a, b)
    assert not t.all_done and t.assignment_for("mianfanglu") == b and t.assignment_for("xushui") is None
    assert task(a).all_done and not task().all_done


# --- the bulletin tally --------------------------------------------------------------------


def test_tally_per_unit_with_the_overdue_named() -> None:
    now = NOW + timedelta(days=1)
    since = bj(2026, 1, 1, 0, 0)
    t1 = task(
        assignment("jianshelu", AssignmentState.DONE, submitted_at=NOW - timedelta(hours=1), done_at=NOW, ident=1),
        assignment("mianfanglu", AssignmentState.ACCEPTED, ident=2),  # past its deadline: overdue now
        ident=1, title="防汛隐患排查",
    )
    t2 = task(
        assignment("jianshelu", AssignmentState.DONE, submitted_at=NOW + timedelta(hours=2), done_at=now, ident=3),
        assignment("mianfanglu", AssignmentState.SUBMITTED, ident=4),  # open, but not the unit's delay
        assignment("xushui", AssignmentState.ASSIGNED, due_at=now + timedelta(days=3), ident=5),
        ident=2,
    )
    old = task(assignment("xushui", AssignmentState.DONE, submitted_at=bj(2025, 6, 1, 0, 0),
                          done_at=bj(2025, 6, 1, 0, 0), ident=6), ident=3)
    rows = {t.unit_code: t for t in tally([t1, t2, old], now, since=since)}
    assert list(rows) == ["jianshelu", "mianfanglu", "xushui"]
    j, m, x = rows["jianshelu"], rows["mianfanglu"], rows["xushui"]
    assert (j.open, j.on_time, j.late, j.overdue_now) == (0, 1, 1, 0)
    assert (m.open, m.on_time, m.late, m.overdue_now) == (2, 0, 0, 1)
    assert m.overdue is not None and [(tk.title, a.id) for tk, a in m.overdue] == [("防汛隐患排查", 2)]
    assert (x.open, x.on_time, x.late, x.overdue_now) == (1, 0, 0, 0)  # last year's completion not counted


# --- who may act ------------------------------------------------------------------------


def member(role: Role, unit: str = "jianshelu", *more: Role) -> Member:
    return Member(id=1, telegram_id=1, name="x", unit_code=unit, roles=frozenset({role, *more}))


def test_permissions_follow_the_office_rules() -> None:
    director, head, officer = member(Role.DIRECTOR, "office"), member(Role.UNIT_HEAD), member(Role.OFFICER)
    leader = member(Role.LEADER, "office")
    assert can(director, Action.ASSIGN_TASK) and not can(head, Action.ASSIGN_TASK)
    assert not can(leader, Action.ASSIGN_TASK) and not can(officer, Action.ASSIGN_TASK)
    assert can(head, Action.ACCEPT_TASK, "jianshelu") and not can(head, Action.ACCEPT_TASK, "mianfanglu")
    assert can(officer, Action.REPORT_TASK, "jianshelu") and not can(officer, Action.SUBMIT_TASK, "jianshelu")
    assert can(head, Action.SUBMIT_TASK, "jianshelu") and not can(officer, Action.ACCEPT_TASK, "jianshelu")
    assert can(director, Action.REVIEW_TASK, "mianfanglu") and not can(head, Action.REVIEW_TASK, "jianshelu")
    assert can(leader, Action.VIEW_ALL_TASKS) and not can(officer, Action.VIEW_ALL_TASKS)


def test_a_unit_head_with_a_district_role_still_acts_only_for_the_own_unit() -> None:
    both = member(Role.UNIT_HEAD, "jianshelu", Role.LEADER)
    for action in (Action.ACCEPT_TASK, Action.REPORT_TASK, Action.SUBMIT_TASK):
        assert can(both, action, "jianshelu")
        assert not can(both, action, "mianfanglu"), action


# --- the [supervision] config section ------------------------------------------------------


def test_config_section_reads_durations_and_cron() -> None:
    c = config.loads('[supervision]\nchase_before = ["5d", "4h"]\naccept_within = "2h"\n'
                     'overdue_chase_every = "12h"\nbulletin_cron = "30 17 * * fri"\n', "site.toml")
    sup = c.supervision
    assert sup.chase_before == (timedelta(days=5), timedelta(hours=4))
    assert (sup.accept_within, sup.overdue_chase_every) == (timedelta(hours=2), timedelta(hours=12))
    assert sup.bulletin_cron == "30 17 * * fri" and config.Config().supervision.bulletin_cron == "0 9 * * mon"


@pytest.mark.parametrize(("text", "key"), [
    ('overdue_chase_every = "0s"', "supervision.overdue_chase_every"),
    ('accept_within = "0m"', "supervision.accept_within"),
    ('chase_before = ["1d", "0h"]', "supervision.chase_before"),
    ('bulletin_cron = "every monday"', "supervision.bulletin_cron"),
    ('due_time = "25:00"', "supervision.due_time"),
])
def test_config_section_refuses_nonsense(text: str, key: str) -> None:
    with pytest.raises(config.ConfigError) as err:
        config.loads(f"[supervision]\n{text}\n", "site.toml")
    assert err.value.key == key
