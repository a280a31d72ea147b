"""Crontab lines read as cron reads them (1 = Monday, 0 and 7 = Sunday), checked against APScheduler's
cron trigger given the same days as names, which both read alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import cron

BEIJING = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
THURSDAY = datetime(2026, 12, 3, 12, 0, tzinfo=BEIJING)
NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _next(line: str, after: datetime = THURSDAY) -> datetime:
    return cron.parse(line).at_or_after(after, BEIJING)


@pytest.mark.parametrize(("field", "days"), [
    ("1", {1}), ("0", {0}), ("7", {0}), ("1-5", {1, 2, 3, 4, 5}), ("0,6", {0, 6}),
    ("5-7", {5, 6, 0}), ("5-sun", {5, 6, 0}), ("*/2", {0, 2, 4, 6}), ("1/2", {1, 3, 5}),
    ("mon-fri", {1, 2, 3, 4, 5}), ("MON,3", {1, 3}), ("*", set(range(7))),
])
def test_weekday_fields(field: str, days: set[int]) -> None:
    assert cron.parse(f"0 9 * * {field}").weekdays == frozenset(days)


def test_monday_means_monday() -> None:
    assert _next("0 9 * * 1") == datetime(2026, 12, 7, 9, 0, tzinfo=BEIJING)  # not Tuesday the 8th
    assert _next("0 9 * * mon") == _next("0 9 * * 1")
    assert _next("30 17 * * 5") == datetime(2026, 12, 4, 17, 30, tzinfo=BEIJING)
    assert _next("0 8 * * 0") == _next("0 8 * * 7") == datetime(2026, 12, 6, 8, 0, tzinfo=BEIJING)


def test_days_of_the_month_and_months() -> None:
    assert _next("0 9 1 * *") == datetime(2027, 1, 1, 9, 0, tzinfo=BEIJING)
    assert _next("0 9 29 feb *") == datetime(2028, 2, 29, 9, 0, tzinfo=BEIJING)
    assert _next("*/15 9-10 * jan-mar,dec *") == datetime(2026, 12, 4, 9, 0, tzinfo=BEIJING)


def test_at_or_after_after_and_before() -> None:
    tab = cron.parse("0 17 * * fri")
    friday = datetime(2026, 12, 4, 17, 0, tzinfo=BEIJING)
    assert tab.at_or_after(friday, BEIJING) == friday
    assert tab.after(friday, BEIJING) == friday + timedelta(days=7)
    assert tab.after(friday - timedelta(seconds=30), BEIJING) == friday
    assert tab.before(friday, BEIJING) == friday - timedelta(days=7)
    assert tab.before(friday + timedelta(seconds=1), BEIJING) == friday
    assert tab.after(friday.astimezone(UTC), BEIJING).utcoffset() == timedelta(hours=8)


def test_clock_changes() -> None:
    # 29 March 2026: Berlin skips 02:00–03:00; 25 October 2026: 02:00–03:00 comes twice.
    skipped = cron.parse("30 2 * * *")
    assert skipped.after(datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN), BERLIN) == datetime(
        2026, 3, 30, 2, 30, tzinfo=BERLIN)
    first = skipped.after(datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN), BERLIN)
    assert first.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30, once
    assert skipped.after(first, BERLIN).date() == datetime(2026, 10, 26).date()


@pytest.mark.parametrize("line", [
    "0 9 * *", "0 9 * * 8", "0 9 * * 5-1", "0 9 * * x", "0 9 * * */0", "61 9 * * 1", "0 9 1 * 1",
    "0 24 * * *", "0 9 0 * *", "0 9 * 13 *", "0 9 30 feb *", "0 9 31 apr,jun *", "0 9 * * 1,", "fri 17:00",
    "0 ² * * *", "① 9 * * *", "0 9 * * */²", "0 9 ¹-5 * *",
])
def test_what_cron_would_not_take_is_refused(line: str) -> None:
    with pytest.raises(cron.CronError):
        cron.parse(line)


def _field(draw: st.DrawFn, low: int, high: int) -> str:
    kind = draw(st.sampled_from(["*", "n", "range", "step", "list"]))
    if kind == "*":
        return "*"
    a = draw(st.integers(low, high))
    b = draw(st.integers(a, high))
    if kind == "n":
        return str(a)
    if kind == "range":
        return f"{a}-{b}"
    if kind == "step":
        return f"{draw(st.sampled_from(['*', f'{a}-{b}']))}/{draw(st.integers(1, 5))}"
    return ",".join(str(n) for n in sorted(set(draw(st.lists(st.integers(low, high), min_size=1, max_size=4)))))


@st.composite
def lines(draw: st.DrawFn) -> str:
    minute, hour, month = _field(draw, 0, 59), _field(draw, 0, 23), _field(draw, 1, 12)
    if draw(st.booleans()):
        return f"{minute} {hour} {_field(draw, 1, 28)} {month} *"
    return f"{minute} {hour} * {month} {_field(draw, 0, 6)}"


@pytest.mark.parametrize(("line", "minutes", "days"), [
    ("*/20 9 1-10/3 * *", {0, 20, 40}, {1, 4, 7, 10}), ("5,7-8 9 28/2 * *", {5, 7, 8}, {28, 30}),
    ("0 9 ? * *", {0}, set(range(1, 32))),
])
def test_fields(line: str, minutes: set[int], days: set[int]) -> None:
    tab = cron.parse(line)
    assert (tab.minutes, tab.days) == (frozenset(minutes), frozenset(days))


@settings(max_examples=150, deadline=None)
@given(line=lines(), start=st.datetimes(datetime(2020, 1, 1), datetime(2035, 1, 1)))
def test_the_same_times_as_apscheduler(line: str, start: datetime) -> None:
    tab = cron.parse(line)
    def listed(values: frozenset[int]) -> str:  # APScheduler refuses some steps cron takes ("1-1/2")
        return ",".join(str(v) for v in sorted(values))

    trigger = CronTrigger(minute=listed(tab.minutes), hour=listed(tab.hours), day=listed(tab.days),
                          month=listed(tab.months), day_of_week=",".join(NAMES[d] for d in sorted(tab.weekdays)),
                          timezone=BEIJING)
    moment = start.replace(tzinfo=BEIJING)
    mine = tab.after(moment, BEIJING)
    assert mine == trigger.get_next_fire_time(None, moment.replace(second=0, microsecond=0) + timedelta(minutes=1))
    assert tab.before(mine, BEIJING) <= moment < mine
