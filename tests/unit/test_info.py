"""Routine information rules: schedules, quota weeks, months, scores and ranking."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain import cron
from bot.domain.info import (
    InfoDraft,
    Mark,
    Scores,
    UnitTally,
    month_bounds,
    parse_month,
    previous_month,
    quota_week,
    rank_units,
    still_due,
)
from bot.domain.members import Action, Member, Role, can

BJ = ZoneInfo("Asia/Shanghai")


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ).astimezone(UTC)  # type: ignore[misc]


def test_the_schedules_are_crontab_lines() -> None:
    """The quota week's deadline is weekly and the bulletin monthly; the old notations name their line."""
    assert cron.parse("0 17 * * fri").weekly and not cron.parse("0 17 * * mon-fri").weekly
    assert cron.parse("0 9 1 * *").monthly and not cron.parse("0 9 31 * *").monthly
    assert cron.legacy("Fri 17:00") == "0 17 * * fri" and cron.legacy("thu 9:05") == "5 9 * * thu"
    assert cron.legacy("1 09:00") == "0 9 1 * *"
    for bad in ("friday 17:00", "fri 24:00", "fri", "xyz 1:00"):
        assert cron.legacy(bad) is None


def test_weekly_next_occurrence_in_beijing_time() -> None:
    fri = cron.parse("0 17 * * fri")
    monday = bj(2026, 11, 23, 10, 0)
    assert fri.at_or_after(monday, BJ) == bj(2026, 11, 27, 17, 0)
    assert fri.after(bj(2026, 11, 27, 17, 0), BJ) == bj(2026, 12, 4, 17, 0)
    assert fri.at_or_after(bj(2026, 11, 27, 17, 0), BJ) == bj(2026, 11, 27, 17, 0)
    assert fri.after(bj(2026, 11, 27, 16, 59), BJ) == bj(2026, 11, 27, 17, 0)


def test_quota_week_rolls_over_at_the_deadline() -> None:
    fri = cron.parse("0 17 * * fri")
    assert quota_week(bj(2026, 11, 23, 10, 0), fri, BJ) == (bj(2026, 11, 20, 17, 0), bj(2026, 11, 27, 17, 0))
    # exactly at the deadline still counts for the closing week; a minute later for the next
    assert quota_week(bj(2026, 11, 27, 17, 0), fri, BJ)[1] == bj(2026, 11, 27, 17, 0)
    assert quota_week(bj(2026, 11, 27, 17, 1), fri, BJ)[1] == bj(2026, 12, 4, 17, 0)
    assert quota_week(bj(2026, 11, 29, 9, 0), fri, BJ)[1] == bj(2026, 12, 4, 17, 0)
    assert quota_week(bj(2026, 11, 29, 9, 0), fri, BJ)[1].tzinfo == UTC


def test_monthly_schedule() -> None:
    m = cron.parse("0 9 1 * *")
    assert m.after(bj(2026, 11, 23, 10, 0), BJ) == bj(2026, 12, 1, 9, 0)
    assert m.after(bj(2026, 12, 1, 9, 0), BJ) == bj(2027, 1, 1, 9, 0)
    assert m.after(bj(2026, 12, 1, 8, 59), BJ) == bj(2026, 12, 1, 9, 0)


def test_months() -> None:
    start, end = month_bounds(2026, 11, BJ)
    assert start == bj(2026, 11, 1, 0, 0) and end == bj(2026, 12, 1, 0, 0)
    assert month_bounds(2026, 12, BJ)[1] == bj(2027, 1, 1, 0, 0)
    assert previous_month(bj(2026, 12, 1, 9, 0), BJ) == (2026, 11)
    assert previous_month(bj(2027, 1, 1, 9, 0), BJ) == (2026, 12)
    # 00:30 Beijing on Dec 1 is still Nov 30 in UTC, but the month is Beijing's
    assert previous_month(bj(2026, 12, 1, 0, 30), BJ) == (2026, 11)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11", (2026, 11)), ("2026/3", (2026, 3)), ("2026年11月", (2026, 11)), ("202611", (2026, 11)),
    ("11", (2026, 11)), ("11月", (2026, 11)), ("12", (2025, 12)), ("13", None), ("2026-13", None),
    ("abc", None), ("", None),
])
def test_parse_month(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_month(text, date(2026, 11, 23)) == expected


def test_scores_and_quota() -> None:
    sc = Scores()
    assert [sc.points(m) for m in Mark] == [0, 1, 3, 5, 5, 0]
    assert still_due(0, 2) == 2 and still_due(1, 2) == 1 and still_due(3, 2) == 0


def test_ranking_arithmetic_and_shared_ranks() -> None:
    sc = Scores(district=1, city=3, province=5, instruction=5)
    a = UnitTally("a", submitted=4, adopted={Mark.DISTRICT: 2, Mark.CITY: 1}, weeks_met=1, weeks_total=2)  # 5
    b = UnitTally("b", submitted=1, adopted={Mark.PROVINCE: 1})  # 5, fewer adopted → after a
    c = UnitTally("c", submitted=2, adopted={Mark.INSTRUCTION: 1, Mark.CITY: 1})  # 8
    d = UnitTally("d", submitted=3)  # 0
    e = UnitTally("e")  # 0, sent less → after d
    ranked = rank_units([a, b, c, d, e], sc)
    assert [(r.tally.unit_code, r.rank, r.score) for r in ranked] == [
        ("c", 1, 8), ("a", 2, 5), ("b", 2, 5), ("d", 4, 0), ("e", 4, 0)]
    assert a.adopted_total == 3 and a.score(sc) == 5


def test_draft_roundtrip() -> None:
    d = InfoDraft(kind="economy", title="t", body="b", files=[("photo", "F1")])
    assert InfoDraft.from_dict(d.to_dict()) == d and d.complete()
    assert not InfoDraft(kind="bogus", title="t", body="b").complete()
    assert not InfoDraft.from_dict({}).complete()


def _m(*roles: Role, unit: str = "jianshelu") -> Member:
    return Member(1, 1, "x", unit, frozenset(roles))


def test_permissions() -> None:
    assert can(_m(Role.OFFICER), Action.SUBMIT_INFO)
    assert can(_m(Role.UNIT_HEAD), Action.SUBMIT_INFO)
    assert not can(_m(Role.DUTY, unit="office"), Action.SUBMIT_INFO)
    assert can(_m(Role.DIRECTOR, unit="office"), Action.REVIEW_INFO)
    assert can(_m(Role.INFO_EDITOR, unit="office"), Action.REVIEW_INFO)
    for role in (Role.OFFICER, Role.UNIT_HEAD, Role.DUTY, Role.LEADER, Role.ADMIN):
        assert not can(_m(role), Action.REVIEW_INFO)
    assert not can(_m(Role.ADMIN), Action.VIEW_INFO_STATS)
