"""bot/fmt.Fmt, the one place dates are shown: a date outside the current year carries its year."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.fmt import Fmt
from bot.i18n import Texts

TZ = ZoneInfo("Asia/Shanghai")
NEW_YEARS_EVE = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # 23:30 in Beijing


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dates_outside_the_current_year_show_it_around_new_year(lang: str) -> None:
    clock = FakeClock(NEW_YEARS_EVE)
    fmt = Fmt(Texts(lang), TZ, clock.now)
    tonight, tomorrow = datetime(2026, 12, 31, 14, 0, tzinfo=UTC), datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    assert fmt.dt(tonight) == "12-31 22:00"
    assert fmt.dt(tomorrow) == "2027-01-01 09:00"
    assert fmt.day(date(2026, 12, 31)) == "12-31"
    assert fmt.day(date(2027, 1, 1)) == "2027-01-01"
    assert fmt.day(date(2025, 6, 1)) == "2025-06-01"
    asyncio.run(clock.advance(timedelta(hours=1)))  # 00:30 on 1 January in Beijing (16:30 UTC on the 31st)
    assert fmt.dt(tonight) == "2026-12-31 22:00"
    assert fmt.dt(tomorrow) == "01-01 09:00"
    assert fmt.day(date(2026, 12, 31)) == "2026-12-31"


def test_long_dates_too() -> None:
    fmt = Fmt(Texts("zh"), TZ, FakeClock(NEW_YEARS_EVE).now)
    assert fmt.day(date(2026, 12, 31), long=True) == "12月31日"
    assert fmt.day(date(2027, 1, 1), long=True) == "2027年1月1日"


def test_year_may_still_be_asked_for() -> None:
    fmt = Fmt(Texts("zh"), TZ, FakeClock(NEW_YEARS_EVE).now)
    assert fmt.dt(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), year=True) == "2026-12-01 18:00"
