"""Crontab weekdays read as cron reads them (1 = Monday), not as APScheduler's from_crontab does."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain import cron

BEIJING = ZoneInfo("Asia/Shanghai")
THURSDAY = datetime(2026, 12, 3, 12, 0, tzinfo=BEIJING)


def _next(line: str, after: datetime = THURSDAY) -> datetime:
    nxt = cron.trigger(line, BEIJING).get_next_fire_time(None, after)
    assert nxt is not None
    return nxt


@pytest.mark.parametrize(("field", "names"), [
    ("1", "mon"), ("0", "sun"), ("7", "sun"), ("1-5", "mon,tue,wed,thu,fri"), ("0,6", "sun,sat"),
    ("5-7", "sun,fri,sat"), ("*/2", "sun,tue,thu,sat"), ("1/2", "mon,wed,fri"), ("mon-fri", "mon,tue,wed,thu,fri"),
    ("MON,3", "mon,wed"), ("*", "*"),
])
def test_weekday_fields_become_names(field: str, names: str) -> None:
    assert cron.weekdays(field) == names


def test_monday_means_monday() -> None:
    assert _next("0 9 * * 1") == datetime(2026, 12, 7, 9, 0, tzinfo=BEIJING)  # not Tuesday the 8th
    assert _next("0 9 * * mon") == _next("0 9 * * 1")
    assert _next("30 17 * * 5") == datetime(2026, 12, 4, 17, 30, tzinfo=BEIJING)
    assert _next("0 8 * * 0") == _next("0 8 * * 7") == datetime(2026, 12, 6, 8, 0, tzinfo=BEIJING)


def test_days_of_the_month_unchanged() -> None:
    assert _next("0 9 1 * *") == datetime(2027, 1, 1, 9, 0, tzinfo=BEIJING)


@pytest.mark.parametrize("line", [
    "0 9 * *", "0 9 * * 8", "0 9 * * 5-1", "0 9 * * x", "0 9 * * */0", "61 9 * * 1", "0 9 1 * 1",
])
def test_what_cron_would_not_take_is_refused(line: str) -> None:
    with pytest.raises(ValueError):
        cron.trigger(line, BEIJING)
