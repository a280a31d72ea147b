"""bot/domain/parse.py — one helper per kind of typed input — and every feature parser built on it:
whatever is typed, the answer is a value or the feature's own typed error, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import (
    casualties,
    duty_log,
    incidents,
    info,
    leave,
    notices,
    parse,
    record,
    roster,
    stats,
    supervision,
    timeparse,
)
from tests.hostile import NASTY, typed

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)  # 20:00 on New Year's Eve in Beijing
TODAY = date(2026, 12, 31)

# --- the helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("12", 12), ("#12", 12), ("＃１２", 12), ("١٢", 12), ("𝟏𝟐", 12), (" 7 ", 7), ("000012", 12),
    ("²", None), ("①", None), ("#²", None), ("0", None), ("-1", None), ("+1", None), ("1 2", None), ("", None),
    ("99999999999999999999", None), ("999999999999", 999_999_999_999), ("1000000000000", None), ("9" * 5000, None),
])
def test_record_id(text: str, expected: int | None) -> None:
    assert parse.record_id(text) == expected


def test_normalise_maps_decimal_digits_and_fullwidth_only() -> None:
    assert parse.normalise("１２：３０　２０２６－１１／２５") == "12:30 2026-11/25"
    assert parse.normalise("٠١٢٣٤٥٦٧٨٩ ०१२ 𝟎𝟏𝟐") == "0123456789 012 012"
    assert parse.normalise("²①Ⅻ½") == "²①Ⅻ½"  # numeric, but not decimal digits: left for the parser to refuse


@pytest.mark.parametrize(("args", "expected"), [
    ((2026, 2, 28), date(2026, 2, 28)), ((2028, 2, 29), date(2028, 2, 29)),
    ((2027, 2, 29), None), ((1, 1, 1), None), ((9999, 12, 31), None), ((2026, 13, 1), None), ((2026, 0, 1), None),
])
def test_calendar_day(args: tuple[int, int, int], expected: date | None) -> None:
    assert parse.calendar_day(*args) == expected


@pytest.mark.parametrize(("month", "day", "ref", "resolve", "expected"), [
    (12, 31, date(2027, 1, 1), "past", date(2026, 12, 31)),
    (1, 1, date(2027, 1, 1), "past", date(2027, 1, 1)),
    (1, 15, date(2026, 12, 20), "future", date(2027, 1, 15)),
    (12, 20, date(2026, 12, 20), "future", date(2026, 12, 20)),
    (1, 5, date(2026, 12, 28), "nearest", date(2027, 1, 5)),
    (12, 28, date(2027, 1, 5), "nearest", date(2026, 12, 28)),
    (6, 1, date(2026, 11, 1), "nearest", date(2026, 6, 1)),
    # A leap day placed in a year without one is refused, never moved to another year.
    (2, 29, date(2026, 3, 1), "future", None),
    (2, 29, date(2027, 2, 1), "nearest", None),
    (2, 29, date(2028, 1, 10), "nearest", date(2028, 2, 29)),
    (2, 29, date(2028, 3, 1), "past", date(2028, 2, 29)),
    (2, 30, date(2028, 1, 1), "nearest", None), (13, 1, TODAY, "nearest", None), (0, 1, TODAY, "past", None),
])
def test_month_day(month: int, day: int, ref: date, resolve: parse.Resolve, expected: date | None) -> None:
    assert parse.month_day(month, day, ref, resolve) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2h", timedelta(hours=2)), ("45m", timedelta(minutes=45)), ("1.5h", timedelta(minutes=90)),
    ("90 分钟", timedelta(minutes=90)), ("3天", timedelta(days=3)), ("１周", timedelta(days=7)),
    ("2H", timedelta(hours=2)),
    ("99999999999d", None), ("999999d", None), ("0h", None), ("-1h", None), ("²h", None), ("h", None), ("2", None),
])
def test_duration(text: str, expected: timedelta | None) -> None:
    assert parse.duration(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11", (2026, 11)), ("2026年11月", (2026, 11)), ("202611", (2026, 11)), ("11", (2026, 11)),
    ("１１月", (2026, 11)), ("9999-12", None), ("0001-01", None), ("2026-13", None), ("²", None), ("2026-①", None),
])
def test_year_month(text: str, expected: tuple[int, int] | None) -> None:
    assert parse.year_month(text, TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-0007", "2026-0007"), ("2026-7", "2026-0007"), ("２０２６－７", "2026-0007"), ("2026—7", "2026-0007"),
    ("2026-²", None), ("9999-0001", None), ("0001-0001", None), ("2026-0", None), ("7", None), ("2026-1234567", None),
])
def test_incident_number(text: str, expected: str | None) -> None:
    assert incidents.parse_incident_number(text) == expected


@settings(max_examples=300, deadline=None)
@given(text=typed)
def test_helpers_never_raise(text: str) -> None:
    for helper in (parse.record_id, parse.count, parse.duration, parse.incident_number,
                   lambda t: parse.integer(t, hi=999), lambda t: parse.year_month(t, TODAY)):
        helper(text)
    got = parse.duration(text)
    assert got is None or timedelta(seconds=1) <= got <= parse.MAX_SPAN
    n = parse.record_id(text)
    assert n is None or 1 <= n <= parse.MAX_ID


@settings(max_examples=300, deadline=None)
@given(y=st.integers(-10, 10**6), m=st.integers(-5, 20), d=st.integers(-5, 40), h=st.integers(-5, 30),
       mi=st.integers(-5, 70), ref=st.dates(), resolve=st.sampled_from(["past", "future", "nearest"]))
def test_date_helpers_never_raise(y: int, m: int, d: int, h: int, mi: int, ref: date, resolve: parse.Resolve) -> None:
    day = parse.calendar_day(y, m, d)
    assert day is None or parse.MIN_YEAR <= day.year <= parse.MAX_YEAR
    if parse.MIN_YEAR <= ref.year <= parse.MAX_YEAR:
        parse.month_day(m, d, ref, resolve)
    at = parse.clock(h, mi)
    if day is not None and at is not None:
        assert parse.moment(day, at, TZ) is not None


# --- every feature parser: a value or its own typed error ---------------------------------

TYPED_ERRORS = (timeparse.TimeInputError, casualties.CasualtyInputError, leave.LeaveInputError,
                notices.MeetingTimeError, supervision.DueInputError, duty_log.EntryTimeError)
LEAP_YEAR_NOW = datetime(2028, 1, 10, 2, 0, tzinfo=UTC)  # a day typed without its year may fall in 2027 or 2028
FEATURE_PARSERS: dict[str, Callable[[str], object]] = {
    "report time": lambda t: timeparse.parse_event_time(t, NOW, TZ),
    "casualties": casualties.parse_casualties,
    "one count": casualties.parse_count,
    "leave day": lambda t: leave.parse_day(t, TODAY).end(TZ),
    "leave end day": lambda t: leave.parse_day(t, TODAY, date(2027, 2, 28)).start(TZ),
    "meeting time": lambda t: notices.parse_meeting_time(t, NOW, TZ),
    "task deadline": lambda t: supervision.parse_due(t, NOW, TZ),
    "chase plan": supervision.parse_chase_plan,
    "stats period": lambda t: stats.parse_period(t, NOW, TZ),
    "info month": lambda t: info.parse_month(t, TODAY),
    "roster day": lambda t: roster.parse_day(t, TODAY),
    "incident number": incidents.parse_incident_number,
    "duty log time": lambda t: duty_log.parse_entry_time(t, NOW, TZ),
    "duty log time, leap year": lambda t: duty_log.parse_entry_time(t, LEAP_YEAR_NOW, TZ),
    "document received": lambda t: duty_log.parse_entry_time(t, NOW, TZ, timedelta(days=7)),
    "caller's phone": record.parse_phone,
}


def _answer_or_refuse(name: str, text: str) -> None:
    try:
        FEATURE_PARSERS[name](text)
    except TYPED_ERRORS:
        pass


@pytest.mark.parametrize("name", FEATURE_PARSERS)
@settings(max_examples=150, deadline=None)
@given(text=typed)
def test_feature_parsers_answer_or_refuse(name: str, text: str) -> None:
    _answer_or_refuse(name, text)


@pytest.mark.parametrize("name", FEATURE_PARSERS)
def test_feature_parsers_on_what_outsiders_typed(name: str) -> None:
    for text in NASTY:
        _answer_or_refuse(name, text)


def test_superscript_and_circled_digits_are_refused_fullwidth_read() -> None:
    with pytest.raises(casualties.CasualtyInputError):
        casualties.parse_count("²")
    with pytest.raises(casualties.CasualtyInputError):
        casualties.parse_casualties("①/0/0")
    assert casualties.parse_count("１２") == 12
    assert not casualties.is_lone_number("²") and casualties.is_lone_number("１２")
    with pytest.raises(timeparse.TimeInputError):
        timeparse.parse_event_time("²:00", NOW, TZ)
    assert timeparse.parse_event_time("１９：３０", NOW, TZ) == datetime(2026, 12, 31, 11, 30, tzinfo=UTC)
    with pytest.raises(duty_log.EntryTimeError, match="time_bad"):
        duty_log.parse_entry_time("²:00", NOW, TZ)
    assert duty_log.parse_entry_time("١٩:٣٠", NOW, TZ) == datetime(2026, 12, 31, 11, 30, tzinfo=UTC)
    # A phone number is digits: ² or ① in it is not a number the caller gave (NFKC read them as 2 and 1).
    for phone in ("①3800000000", "138²0000000", "¹³⁸⁰⁰⁰⁰⁰⁰⁰⁰", "0371-6789 123④"):
        assert record.parse_phone(phone) is None, phone
    assert record.parse_phone("１３８ ００００ ００００") == "138 0000 0000"
    assert record.parse_phone("０３７１－６７８９１２３４ 转８０１") == "0371-67891234 转801"


def test_years_that_cannot_be_meant_are_the_steps_hint() -> None:
    with pytest.raises(timeparse.TimeInputError, match="bad_format"):
        timeparse.parse_event_time("0001年1月1日 1:00", NOW, TZ)
    with pytest.raises(leave.LeaveInputError, match="year_out_of_range"):
        leave.parse_day("9999-12-31", TODAY)
    with pytest.raises(supervision.DueInputError, match="due_bad"):
        supervision.parse_due("9999-12-31", NOW, TZ)
    with pytest.raises(notices.MeetingTimeError, match="bad_format"):
        notices.parse_meeting_time("0001-01-01 10:00", NOW, TZ)


def test_a_leap_day_in_a_common_year_is_refused() -> None:
    with pytest.raises(leave.LeaveInputError, match="bad_date"):
        leave.parse_day("2-29", date(2027, 2, 1))
    with pytest.raises(supervision.DueInputError, match="due_bad"):
        supervision.parse_due("2-29", NOW, TZ)  # resolves to 2027, which has none
    with pytest.raises(notices.MeetingTimeError, match="bad_format"):
        notices.parse_meeting_time("02-29 10:00", NOW, TZ)
    assert leave.parse_day("2-29", date(2028, 2, 1)).day == date(2028, 2, 29)
    # Typed on 2028-01-10, 2-29 is last year's (a common year): no such day, not a crash.
    with pytest.raises(duty_log.EntryTimeError, match="time_bad"):
        duty_log.parse_entry_time("2-29 10:00", LEAP_YEAR_NOW, TZ)
    on_march_first = datetime(2028, 3, 1, 2, 0, tzinfo=UTC)
    assert duty_log.parse_entry_time("2-29 10:00", on_march_first, TZ) == datetime(2028, 2, 29, 2, 0, tzinfo=UTC)


def test_lengths_of_time_that_overflow_are_refused() -> None:
    with pytest.raises(supervision.DueInputError, match="chase_bad"):
        supervision.parse_chase_plan("99999999999d")
    with pytest.raises(supervision.DueInputError, match="due_bad"):
        supervision.parse_due("99999999999天", NOW, TZ)
    assert parse.duration("99999999999d") is None


def test_meeting_more_than_a_year_ahead_is_refused_like_a_leave_date() -> None:
    assert notices.parse_meeting_time("2027-12-30 09:00", NOW, TZ) == datetime(2027, 12, 30, 1, 0, tzinfo=UTC)
    for text in ("2028-01-02 09:00", "2028-01-01 21:00", "2099-01-01 09:00"):
        with pytest.raises(notices.MeetingTimeError, match="too_far"):
            notices.parse_meeting_time(text, NOW, TZ)
    # 01-05 typed on New Year's Eve is next week, not last January.
    assert notices.parse_meeting_time("01-05 09:00", NOW, TZ) == datetime(2027, 1, 5, 1, 0, tzinfo=UTC)


def test_clock() -> None:
    assert parse.clock(23, 59) == time(23, 59)
    assert parse.clock(24, 0) is None and parse.clock(12, 60) is None and parse.clock(-1, 0) is None
