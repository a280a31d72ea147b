"""The office's side of emergency reporting as plain rules (issue #24): sources and 未报, fact
versions, findings and the forward clock, the 通报's figures. No fixtures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.accountability import (
    ForwardClock,
    Mark,
    MarkKind,
    MarkRefusal,
    MarkRow,
    failures_by_unit,
    first_report_delay,
    mark_refusal,
    plan_forward,
    whole_minutes,
)
from bot.domain.casualties import Casualties
from bot.domain.fact_versions import Facts, Version, diff, needs_version, revisions
from bot.domain.record import (
    RecordTimeProblem,
    Source,
    deadline_base,
    first_report_at,
    match_unit,
    office_time,
    parse_phone,
    parse_source,
    record_time_problem,
    unit_reported,
    unreported_gap,
)
from bot.domain.reporting_bulletin import MONTHLY, WEEKLY, ClockRow, bulletin_period, compile_bulletin
from bot.domain.stats import IncidentRow, StageRow, period_of

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Beijing
BJ = ZoneInfo("Asia/Shanghai")
MIN = timedelta(minutes=1)


# --- sources and 未报 -----------------------------------------------------------------


def test_only_the_units_own_report_or_its_call_counts_as_reported() -> None:
    assert unit_reported(Source.UNIT) and unit_reported(Source.PHONE)
    for src in (Source.HOTLINE, Source.MEDIA, Source.SUPERIOR, Source.PUBLIC, Source.OTHER):
        assert not unit_reported(src)
        assert first_report_at(src, T0) is None
    assert first_report_at(Source.PHONE, T0) == T0
    assert parse_source("phone") is Source.PHONE
    assert parse_source("unit") is None and parse_source("x") is None  # the duty room never records "unit"


def test_deadlines_count_from_the_units_learning_else_the_call_or_the_offices_time() -> None:
    occurred, office = T0 - 90 * MIN, T0
    assert deadline_base(Source.PHONE, occurred, None, office) == occurred  # the caller: as it happened
    assert deadline_base(Source.MEDIA, occurred, None, office) == office  # the unit has not said
    assert deadline_base(Source.MEDIA, occurred, T0 - 20 * MIN, office) == T0 - 20 * MIN


def test_impossible_record_times() -> None:
    assert record_time_problem(Source.MEDIA, T0, None, T0 - 5 * MIN) is RecordTimeProblem.OFFICE_BEFORE_OCCURRED
    assert record_time_problem(Source.PHONE, T0 - 60 * MIN, T0 + 5 * MIN, T0) is RecordTimeProblem.LEARNT_AFTER_CALL
    assert record_time_problem(Source.MEDIA, T0 - 60 * MIN, T0 + MIN, T0) is None  # learnt after the office did
    assert record_time_problem(Source.PHONE, T0 - 60 * MIN, T0 - 30 * MIN, T0) is None


def test_answers_a_moment_apart_are_the_same_moment_not_a_contradiction() -> None:
    """刚刚 for the call, then 刚刚 for the event a few seconds later (a real clock moves between
    the two answers): the office did not learn of it before it happened."""
    call, event = T0, T0 + timedelta(seconds=5)
    assert record_time_problem(Source.PHONE, event, None, call) is None
    assert office_time(event, None, call) == event
    assert record_time_problem(Source.MEDIA, T0 + 3 * MIN, None, T0) is RecordTimeProblem.OFFICE_BEFORE_OCCURRED
    assert office_time(T0 - 60 * MIN, T0 + MIN, T0) == T0 + MIN  # the caller learnt of it "just now" too


def test_unreported_gap() -> None:
    gap = unreported_gap(T0 - 60 * MIN, T0, None, None)
    assert gap.before_office == 60 * MIN and gap.after_office is None
    gap = unreported_gap(T0 - 60 * MIN, T0, T0 - 20 * MIN, T0 + 25 * MIN)
    assert gap.before_office == 20 * MIN and gap.after_office == 25 * MIN
    # The unit learnt of it only after the office did: no time before the office.
    assert unreported_gap(T0 - 60 * MIN, T0, T0 + 5 * MIN, T0 + 10 * MIN).before_office == timedelta(0)


def test_phone_numbers_as_the_office_writes_them() -> None:
    assert parse_phone("13800000000") == "138 0000 0000"
    assert parse_phone("+86 138-0000-0000") == "138 0000 0000"
    assert parse_phone("１３８００００００００") == "138 0000 0000"
    assert parse_phone("１３８0000000０") == "138 0000 0000"  # full width: digits (bot/domain/parse.py)
    assert parse_phone("¹³⁸0000000０") is None  # superscripts are not digits (issue #23): refused with the hint
    assert parse_phone("0371-6789 1234") == "0371-67891234"
    assert parse_phone("(0371)67891234转801") == "0371-67891234 转801"
    assert parse_phone("010 1234 5678") == "010-12345678"
    assert parse_phone("6789123") == "6789123"
    assert parse_phone("12345") == "12345"
    for bad in ("", "请稍等", "123", "1380000000", "138000000000", "0371678912", "abc13800000000", "①②③",
                "13800000000转1", "٣٨٠٠٠٠٠٠٠٠١"):
        assert parse_phone(bad) is None, bad


@given(st.text(max_size=30))
def test_a_phone_number_is_only_ever_digits_and_the_office_separators(text: str) -> None:
    phone = parse_phone(text)
    if phone is not None:
        assert set(phone) <= set("0123456789 -转")
        assert parse_phone(phone) == phone  # what is stored reads back as itself


UNITS = [("jianshelu", "建设路街道"), ("mianfanglu", "棉纺路街道"), ("jiaoti", "教体局"), ("jianshe", "建设局")]


def test_a_unit_typed_by_code_name_or_a_part_naming_one_unit_only() -> None:
    assert match_unit("建设路街道", UNITS) == "jianshelu"
    assert match_unit(" JIAOTI ", UNITS) == "jiaoti"
    assert match_unit("棉纺路", UNITS) == "mianfanglu"
    assert match_unit("建设", UNITS) is None  # 建设路街道 and 建设局: ambiguous
    assert match_unit("火星街道", UNITS) is None and match_unit("", UNITS) is None


# --- versions of the facts -------------------------------------------------------------


def facts(**kw: object) -> Facts:
    base: dict[str, object] = dict(category="collapse", occurred_at=T0 - 30 * MIN, learnt_at=T0 - 30 * MIN,
                                   place="中原路与文化宫路交叉口", latitude=None, longitude=None,
                                   casualties=Casualties(None, None, None), description="路面塌陷")
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


def test_diff_names_each_changed_fact_old_to_new_in_report_order() -> None:
    old = facts()
    new = old.corrected(casualties=Casualties(0, 2, 0), place="中原路", latitude=34.7, longitude=113.6)
    changes = diff(old, new)
    assert [c.field for c in changes] == ["place", "location", "casualties"]
    assert changes[0].old == "中原路与文化宫路交叉口" and changes[0].new == "中原路"
    assert changes[1].old is None and changes[1].new == (34.7, 113.6)
    assert diff(old, old) == [] and not needs_version(old, old) and needs_version(None, old)


def test_revisions_pair_each_version_with_what_it_changed() -> None:
    v1, v2, v3 = facts(), facts(casualties=Casualties(0, 2, 0)), facts(casualties=Casualties(1, 2, 0))
    found = revisions([Version(3, T0 + 2 * MIN, 7, "followup", v3), Version(1, T0, 5, "first", v1),
                       Version(2, T0 + MIN, 5, "written", v2)])
    assert [(r.version.no, [c.field for c in r.changes]) for r in found] == [(1, []), (2, ["casualties"]),
                                                                             (3, ["casualties"])]
    assert found[2].changes[0].old == Casualties(0, 2, 0) and found[2].changes[0].new == Casualties(1, 2, 0)


@given(st.one_of(st.none(), st.integers(0, 10_000)), st.text(max_size=50), st.floats(-90, 90) | st.none())
def test_facts_survive_the_database_as_json(deaths: int | None, text: str, lat: float | None) -> None:
    f = facts(casualties=Casualties(deaths, None, 3), description=text, latitude=lat,
              longitude=None if lat is None else 113.6)
    assert Facts.from_json(f.to_json()) == f


# --- findings and the forward clock ----------------------------------------------------


def mark(kind: MarkKind) -> Mark:
    return Mark(1, 1, "jianshelu", kind, "", None, "", T0, None)


def test_a_director_marks_open_incidents_each_finding_once() -> None:
    assert mark_refusal(MarkKind.WRONG, True, []) is None
    assert mark_refusal(MarkKind.CONCEALED, True, [mark(MarkKind.WRONG), mark(MarkKind.UNREPORTED)]) is None
    assert mark_refusal(MarkKind.WRONG, False, []) is MarkRefusal.CLOSED
    assert mark_refusal(MarkKind.CONCEALED, True, [mark(MarkKind.CONCEALED)]) is MarkRefusal.TWICE
    assert mark_refusal(MarkKind.LATE, True, []) is MarkRefusal.NOT_DIRECTOR_MARK  # the rules record 迟报


def test_first_report_delay_and_whole_minutes() -> None:
    assert first_report_delay(T0, T0 + 60 * MIN, timedelta(hours=1)) is None
    assert first_report_delay(T0, T0 + 90 * MIN, timedelta(hours=1)) == 30 * MIN
    assert whole_minutes(timedelta(seconds=61)) == 2 and whole_minutes(timedelta(0)) == 0
    assert whole_minutes(timedelta(milliseconds=300)) == 1  # late is late: a part of a minute counts


def test_forward_clock_overrun_and_its_checks() -> None:
    target, remind = timedelta(minutes=10), timedelta(minutes=8)
    clock = ForwardClock(1, 1, "first", T0)
    assert clock.overrun(target, T0 + 9 * MIN) is None
    assert clock.overrun(target, T0 + 13 * MIN) == 3 * MIN
    done = ForwardClock(1, 1, "written", T0, forwarded_at=T0 + 12 * MIN)
    assert done.overrun(target, T0 + 60 * MIN) == 2 * MIN and done.elapsed == 12 * MIN
    assert [(c.kind, c.due_at) for c in plan_forward(T0, T0, remind, target)] == [
        ("remind", T0 + remind), ("due", T0 + target)]
    # A phone report recorded 20 minutes after the call: no reminder in the past, the check at once.
    assert [(c.kind, c.due_at) for c in plan_forward(T0, T0 + 20 * MIN, remind, target)] == [("due", T0 + 20 * MIN)]


def row(unit: str, kind: str, number: str, at: datetime, notes: tuple[str, ...] = ()) -> MarkRow:
    return MarkRow(unit, kind, number, "first", 5, at, notes)


def test_failures_count_in_the_period_they_were_recorded_in() -> None:
    p = period_of(date(2026, 11, 1), date(2026, 11, 30), BJ)
    marks = [row("a", "late", "2026-0001", T0), row("a", "late", "2026-0002", T0 + MIN),
             row("a", "unreported", "2026-0002", T0), row("b", "concealed", "2026-0003", T0),
             row("b", "wrong", "2026-0004", datetime(2026, 12, 1, 1, tzinfo=UTC)),
             row("a", "forward_late", "2026-0001", T0)]
    found = failures_by_unit(marks, p.start, p.end)
    assert {u: {k: [m.number for m in v] for k, v in kinds.items()} for u, kinds in found.items()} == {
        "a": {"late": ["2026-0001", "2026-0002"]}, "b": {"concealed": ["2026-0003"]}}


# --- the 通报 --------------------------------------------------------------------------


def test_the_bulletin_lists_units_with_failures_first_most_first() -> None:
    p = period_of(date(2026, 11, 1), date(2026, 11, 30), BJ)
    incs = [IncidentRow(1, "2026-0001", "a", "fire", T0, T0 - 30 * MIN, T0 + 5 * MIN, "open"),
            IncidentRow(2, "2026-0002", "b", "fire", T0, T0 - 90 * MIN, None, "closed"),
            IncidentRow(3, "2026-0003", "c", "fire", T0, T0, None, "open")]
    stages = [StageRow(1, "first", T0 + 30 * MIN, T0, False), StageRow(1, "written", T0 + 90 * MIN, None, False),
              StageRow(2, "first", T0 - 30 * MIN, T0, False), StageRow(2, "written", T0 + 30 * MIN, None, True),
              StageRow(3, "first", T0 + 60 * MIN, T0, False)]
    marks = [row("b", "late", "2026-0002", T0), row("b", "missed", "2026-0002", T0 + MIN),
             row("c", "concealed", "2026-0003", T0, ("约谈",)), row("c", "unreported", "2026-0003", T0)]
    clocks = [ClockRow("a", "2026-0001", "first", T0, T0 + 5 * MIN, False),
              ClockRow("b", "2026-0002", "first", T0, None, True),
              ClockRow("b", "2026-0002", "written", T0 + MIN, T0 + 14 * MIN, True)]
    b = compile_bulletin(["a", "b", "c", "d"], p, T0 + 2 * 60 * MIN, incidents=incs, stages=stages, marks=marks,
                         clocks=clocks)
    assert [u.unit for u in b.units] == ["b", "c", "a", "d"]
    rb, rc, ra, rd = b.units
    assert (rb.count(MarkKind.LATE), rb.count(MarkKind.MISSED), rb.failure_total) == (1, 1, 2)
    assert rc.failures["concealed"][0].notes == ("约谈",) and [m.number for m in rc.unreported] == ["2026-0003"]
    assert (ra.incidents, ra.on_time, ra.late, ra.missed) == (1, 1, 1, 0)  # written past due, not filed
    assert (rb.on_time, rb.late, rb.missed) == (0, 1, 1)
    assert ra.first_minutes == 30 and ra.forward_minutes == 5 and rb.first_minutes == 90
    assert rd.empty and b.with_failures == (rb, rc)
    assert b.office.forwarded == 2 and b.office.mean_minutes == 9
    assert [c.stage for c in b.office.breaches] == ["first", "written"]


def test_the_bulletins_period() -> None:
    sent = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 1 December, 09:00 Beijing
    monthly = bulletin_period(MONTHLY, sent, BJ)
    assert (monthly.first, monthly.last) == (date(2026, 11, 1), date(2026, 11, 30))
    january = bulletin_period(MONTHLY, datetime(2027, 1, 1, 1, 0, tzinfo=UTC), BJ)
    assert (january.first, january.last) == (date(2026, 12, 1), date(2026, 12, 31))
    weekly = bulletin_period(WEEKLY, datetime(2026, 11, 30, 1, 0, tzinfo=UTC), BJ)  # a Monday
    assert (weekly.first, weekly.last) == (date(2026, 11, 23), date(2026, 11, 29))
