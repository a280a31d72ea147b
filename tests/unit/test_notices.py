"""Notice rules without fixtures: audience reach, deadlines, chasing plan, throttle, tallies, meeting time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.members import Member, Role
from bot.domain.notices import (
    DUE,
    MEETING_REMIND,
    RESEND,
    Audience,
    AudienceProblem,
    AudienceSpec,
    MeetingTimeError,
    NoticePolicy,
    Receipt,
    audience_problem,
    may_send,
    parse_meeting_time,
    pending_heads_units,
    plan_deadlines,
    receipt_deadline,
    resend_wait,
    split_names,
    tally_by_unit,
    unreached_units,
)

BEIJING = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Beijing
POLICY = NoticePolicy()


def member(*roles: Role, unit: str = "jianshelu", mid: int = 1) -> Member:
    return Member(id=mid, telegram_id=mid, name="x", unit_code=unit, roles=frozenset(roles))


def receipt(mid: int, unit: str, acked: bool, asked: int | None = None, on_leave: bool = False) -> Receipt:
    return Receipt(member_id=mid, name=f"m{mid}", unit_code=unit, asked_id=asked or mid, asked_name=f"m{asked or mid}",
                   acked_at=NOW if acked else None, on_leave=on_leave)


def test_who_may_send() -> None:
    assert may_send(member(Role.DIRECTOR, unit="office"))
    assert may_send(member(Role.DUTY, unit="office"))
    assert may_send(member(Role.UNIT_HEAD))
    assert not may_send(member(Role.OFFICER))
    assert not may_send(member(Role.LEADER, unit="office"))
    assert not may_send(None)


def test_unit_head_reaches_own_unit_only() -> None:
    head = member(Role.UNIT_HEAD)
    assert audience_problem(head, AudienceSpec(Audience.UNITS, units=("jianshelu",)), {}, {}) is None
    assert audience_problem(head, AudienceSpec(Audience.UNITS, units=("jianshelu", "xushui")), {}, {}) \
        is AudienceProblem.OUTSIDE_UNIT
    # "all" and roles mean "all in my unit" for a unit head (the service narrows them).
    assert audience_problem(head, AudienceSpec(Audience.ALL), {}, {}) is None
    assert audience_problem(head, AudienceSpec(Audience.ROLES, roles=("officer",)), {}, {}) is None
    assert audience_problem(head, AudienceSpec(Audience.MEMBERS, member_ids=(5, 6)), {5: "jianshelu", 6: "xushui"},
                            {}) is AudienceProblem.OUTSIDE_UNIT
    assert audience_problem(head, AudienceSpec(Audience.MEMBERS, member_ids=(5,)), {5: "jianshelu"}, {}) is None
    assert audience_problem(head, AudienceSpec(Audience.GROUPS, group_ids=(-1,)), {}, {-1: None}) \
        is AudienceProblem.OUTSIDE_UNIT  # a district-wide group is beyond a unit head
    assert audience_problem(head, AudienceSpec(Audience.GROUPS, group_ids=(-1,)), {}, {-1: "jianshelu"}) is None
    assert audience_problem(head, AudienceSpec(Audience.GROUPS, group_ids=(-9,)), {}, {}) \
        is AudienceProblem.OUTSIDE_UNIT  # an unknown (unbound) group


def test_district_senders_reach_everyone_but_not_nobody() -> None:
    director = member(Role.DIRECTOR, unit="office")
    assert audience_problem(director, AudienceSpec(Audience.UNITS, units=("xushui", "jianshelu")), {}, {}) is None
    assert audience_problem(director, AudienceSpec(Audience.GROUPS, group_ids=(-1,)), {}, {-1: None}) is None
    for empty in (Audience.UNITS, Audience.ROLES, Audience.MEMBERS, Audience.GROUPS):
        assert audience_problem(director, AudienceSpec(empty), {}, {}) is AudienceProblem.EMPTY


def test_units_nobody_can_receive_are_named() -> None:
    director = member(Role.DIRECTOR, unit="office")
    units = ("office", "jianshelu", "mianfanglu", "xushui")
    spec = AudienceSpec(Audience.UNITS, units=("jianshelu", "xushui", "xushui"))
    assert unreached_units(director, spec, units, ["jianshelu"]) == ["xushui"]
    assert unreached_units(director, AudienceSpec(Audience.ALL), units, ["jianshelu", "jianshelu"]) == \
        ["mianfanglu", "xushui"]  # not the sender's own office
    head = member(Role.UNIT_HEAD)  # "all" is their own unit: nothing to name
    assert unreached_units(head, AudienceSpec(Audience.ALL), units, []) == []
    assert unreached_units(director, AudienceSpec(Audience.ROLES, roles=("officer",)), units, []) == []


def test_audience_survives_json() -> None:
    spec = AudienceSpec(Audience.MEMBERS, member_ids=(3, 4), group_ids=(-100,))
    assert AudienceSpec.from_dict(spec.to_dict()) == spec
    assert AudienceSpec.from_dict({}) == AudienceSpec(Audience.ALL)


def test_receipt_deadline_defaults_and_bounds() -> None:
    assert receipt_deadline(POLICY, urgent=False) == timedelta(hours=8)
    assert receipt_deadline(POLICY, urgent=True) == timedelta(minutes=30)
    assert receipt_deadline(POLICY, urgent=True, chosen=timedelta(hours=2)) == timedelta(hours=2)
    assert receipt_deadline(POLICY, urgent=False, chosen=timedelta(seconds=1)) == POLICY.min_deadline
    assert receipt_deadline(POLICY, urgent=False, chosen=timedelta(days=30)) == POLICY.max_deadline


def test_plan_resends_at_half_and_escalates_at_the_deadline() -> None:
    plan = plan_deadlines(NOW, NOW + timedelta(hours=8), None, POLICY)
    assert [(p.kind, p.due_at - NOW) for p in plan] == [(RESEND, timedelta(hours=4)), (DUE, timedelta(hours=8))]
    assert plan_deadlines(NOW, None, None, POLICY) == []  # no receipt asked: nobody is chased


def test_plan_meeting_reminder_one_hour_before_unless_too_late() -> None:
    meeting = NOW + timedelta(hours=5)
    plan = plan_deadlines(NOW, meeting, meeting, POLICY)
    assert (MEETING_REMIND, meeting - timedelta(hours=1)) in [(p.kind, p.due_at) for p in plan]
    soon = NOW + timedelta(minutes=30)
    assert MEETING_REMIND not in [p.kind for p in plan_deadlines(NOW, soon, soon, POLICY)]


def test_resend_throttle_once_per_five_minutes() -> None:
    assert resend_wait(None, NOW, POLICY) is None
    assert resend_wait(NOW, NOW + timedelta(minutes=2), POLICY) == timedelta(minutes=3)
    assert resend_wait(NOW, NOW + timedelta(minutes=5), POLICY) is None


def test_tally_groups_by_unit_pending_first() -> None:
    rs = [receipt(1, "jianshelu", True), receipt(2, "jianshelu", False), receipt(3, "mianfanglu", True),
          receipt(4, "xushui", False, asked=9, on_leave=True)]
    tallies = tally_by_unit(rs)
    assert [t.unit_code for t in tallies] == ["jianshelu", "xushui", "mianfanglu"]
    assert [r.member_id for r in tallies[0].pending] == [2] and [r.member_id for r in tallies[0].received] == [1]
    assert tallies[1].pending[0].asked_id == 9 and tallies[1].pending[0].on_leave
    assert pending_heads_units(rs) == ["jianshelu", "xushui"]
    assert pending_heads_units([receipt(1, "jianshelu", True)]) == []


@pytest.mark.parametrize(("text", "local"), [
    ("15:00", datetime(2026, 11, 23, 15, 0)),
    ("15：30", datetime(2026, 11, 23, 15, 30)),
    ("9:00", datetime(2026, 11, 24, 9, 0)),  # already past today: tomorrow
    ("明天 9:30", datetime(2026, 11, 24, 9, 30)),
    ("后天14点", datetime(2026, 11, 25, 14, 0)),
    ("11-25 14:00", datetime(2026, 11, 25, 14, 0)),
    ("2026-12-01 08:30", datetime(2026, 12, 1, 8, 30)),
])
def test_meeting_time(text: str, local: datetime) -> None:
    assert parse_meeting_time(text, NOW, BEIJING) == local.replace(tzinfo=BEIJING).astimezone(UTC)


@pytest.mark.parametrize(("text", "code"), [
    ("下午三点", "bad_format"), ("25:00", "bad_format"), ("11-31 10:00", "bad_format"),
    ("今天 9:00", "past"), ("11-20 10:00", "past"),
])
def test_meeting_time_refused(text: str, code: str) -> None:
    with pytest.raises(MeetingTimeError) as err:
        parse_meeting_time(text, NOW, BEIJING)
    assert err.value.code == code


def test_split_names() -> None:
    assert split_names("李信息、赵信息, 王主任  李信息；钱主任") == ["李信息", "赵信息", "王主任", "钱主任"]
    assert split_names("  ") == []
