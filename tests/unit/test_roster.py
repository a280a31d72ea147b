"""The roster rules: windows, the duty day, who is on, reading a table, /duty set."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import roster as r
from bot.domain.members import Member, Role

TZ = ZoneInfo("Asia/Shanghai")
RULES = r.rules_from(TZ, [("day", "白班", "08:30", "17:30"), ("night", "夜班", "17:30", "08:30")],
                     ["一岗", "二岗"], "08:30")
TODAY = date(2026, 11, 23)


def bj(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=TZ)


def person(i: int, name: str, *roles: Role, active: bool = True) -> Member:
    return Member(id=i, telegram_id=100 + i, name=name, unit_code="office", roles=frozenset(roles), active=active)


PEOPLE = [
    person(1, "陈值班", Role.DUTY), person(2, "吴值班", Role.DUTY), person(3, "郑值班", Role.DUTY),
    person(4, "孙区长", Role.LEADER), person(5, "李信息", Role.OFFICER), person(6, "王同名", Role.DUTY),
    person(7, "王同名", Role.DUTY), person(8, "离职人", Role.DUTY, active=False),
]
HEADER = ["日期", "白班一岗", "白班二岗", "夜班一岗", "夜班二岗", "带班领导"]


def test_windows_night_belongs_to_the_day_it_starts() -> None:
    start, end = r.window(TODAY, "night", RULES)
    assert (start, end) == (bj(23, 17, 30), bj(24, 8, 30))
    assert r.window(TODAY, "day", RULES) == (bj(23, 8, 30), bj(23, 17, 30))
    assert r.window(TODAY, r.LEADER, RULES) == (bj(23, 8, 30), bj(24, 8, 30))
    assert start.astimezone(UTC) == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_duty_day_before_first_shift_is_yesterday() -> None:
    assert r.duty_day(bj(24, 3), RULES) == TODAY
    assert r.duty_day(bj(24, 8, 29), RULES) == TODAY
    assert r.duty_day(bj(24, 8, 30), RULES) == date(2026, 11, 24)


def slots() -> list[r.Slot]:
    out = []
    for shift, post, mid in (("day", 1, 1), ("day", 2, 2), ("night", 1, 3), (r.LEADER, 1, 4)):
        a, b = r.window(TODAY, shift, RULES)
        out.append(r.Slot(TODAY, shift, post, mid, a, b))
    return out


def test_who_is_on_at_a_moment() -> None:
    assert [s.member_id for s in r.on_at(slots(), bj(23, 10))] == [1, 2]
    assert [s.member_id for s in r.on_at(slots(), bj(23, 17, 30))] == [3]  # the end is exclusive
    assert [s.member_id for s in r.on_at(slots(), bj(24, 2))] == [3]
    assert r.on_at(slots(), bj(24, 9)) == []
    lead = r.leader_at(slots(), bj(24, 2))
    assert lead is not None and lead.member_id == 4
    assert r.leader_at(slots(), bj(24, 8, 30)) is None


def test_handover_pairs_outgoing_and_incoming() -> None:
    out, inc = r.handover_pairs(slots(), bj(23, 17, 30))
    assert [s.member_id for s in out] == [1, 2] and [s.member_id for s in inc] == [3]


def test_parse_rows_reads_a_week() -> None:
    rows = [HEADER, ["2026-11-23", "陈值班", "吴值班", "郑值班", "", "孙区长"],
            [datetime(2026, 11, 24), "#3", None, "陈值班", "吴值班", ""], ["", "", "", "", "", ""]]
    parsed = r.parse_rows(rows, RULES, PEOPLE, TODAY)
    assert parsed.errors == []
    assert parsed.days == [TODAY, date(2026, 11, 24)]
    assert r.Entry(TODAY, r.LEADER, 1, 4) in parsed.entries
    assert r.Entry(date(2026, 11, 24), "day", 1, 3) in parsed.entries
    assert len(parsed.entries) == 7


def test_parse_rows_collects_every_problem_with_its_row() -> None:
    rows = [HEADER, ["11-23", "陈值班", "无此人", "", "", "李信息"], ["明年", "", "", "", "", ""],
            ["11-23", "王同名", "离职人", "", "", ""]]
    parsed = r.parse_rows(rows, RULES, PEOPLE, TODAY)
    keys = [(row, key) for row, key, _ in parsed.errors]
    assert keys == [(2, "roster.err.unknown_name"), (2, "roster.err.leader_role"), (3, "roster.err.bad_date"),
                    (4, "roster.err.duplicate_day")]
    rows[3][0] = "11-25"
    keys = [(row, key) for row, key, _ in r.parse_rows(rows, RULES, PEOPLE, TODAY).errors]
    assert (4, "roster.err.ambiguous_name") in keys and (4, "roster.err.unknown_name") in keys


def test_parse_rows_header_problems() -> None:
    assert r.parse_rows([], RULES, PEOPLE, TODAY).errors[0][1] == "roster.err.empty"
    assert r.parse_rows([["白班一岗"]], RULES, PEOPLE, TODAY).errors[0][1] == "roster.err.no_date_column"
    bad = r.parse_rows([["日期", "早班"]], RULES, PEOPLE, TODAY)
    assert bad.errors == [(1, "roster.err.unknown_column", {"column": "早班"})]
    english = r.parse_rows([["date", "day1", "night2", "leader"], ["2026-11-23", "陈值班", "吴值班", "孙区长"]],
                           RULES, PEOPLE, TODAY)
    assert english.errors == [] and len(english.entries) == 3


def test_parse_day_forms_and_year_rollover() -> None:
    assert r.parse_day("2026年11月24日", TODAY) == date(2026, 11, 24)
    assert r.parse_day("2026/11/24", TODAY) == date(2026, 11, 24)
    assert r.parse_day("1-5", date(2026, 12, 20)) == date(2027, 1, 5)
    assert r.parse_day("12-30", date(2027, 1, 2)) == date(2026, 12, 30)
    assert r.parse_day("2-30", TODAY) is None
    assert r.parse_day("tomorrow", TODAY) is None


def test_parse_edit() -> None:
    edit = r.parse_edit(["11-24", "白班", "陈值班", "吴值班"], RULES, TODAY)
    assert edit == r.DayEdit(date(2026, 11, 24), "day", ("陈值班", "吴值班"))
    tomorrow = TODAY + timedelta(days=1)
    assert r.parse_edit(["明天", "带班", "孙区长"], RULES, TODAY) == r.DayEdit(tomorrow, r.LEADER, ("孙区长",))
    assert r.parse_edit(["今天", "night"], RULES, TODAY) == r.DayEdit(TODAY, "night", ())
    assert r.parse_edit(["11-24"], RULES, TODAY) == "roster.set_usage"
    assert r.parse_edit(["11-24", "早班", "x"], RULES, TODAY) == "roster.err.bad_shift"
    assert r.parse_edit(["某天", "白班", "x"], RULES, TODAY) == "roster.err.bad_date_arg"
    assert r.parse_edit(["11-24", "白班", "a", "b", "c"], RULES, TODAY) == "roster.err.too_many"
    assert r.parse_edit(["11-24", "带班", "a", "b"], RULES, TODAY) == "roster.err.too_many"


def test_parse_rows_refuses_one_person_in_both_posts_and_two_columns_for_one_post() -> None:
    rows = [HEADER, ["11-23", "陈值班", "陈值班", "陈值班", "", ""]]  # day and night the same day: allowed
    assert r.parse_rows(rows, RULES, PEOPLE, TODAY).errors == [(2, "roster.err.twice", {"name": "陈值班"})]
    dup = r.parse_rows([["日期", "白班一岗", "day1"], ["11-23", "陈值班", "吴值班"]], RULES, PEOPLE, TODAY)
    assert dup.errors == [(1, "roster.err.duplicate_column", {"column": "day1"})]
