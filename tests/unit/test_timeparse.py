from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.timeparse import TimeBounds, TimeInputError, parse_event_time

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 15:00 Beijing, Monday


def local(y: int, mo: int, d: int, h: int, mi: int) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:30", local(2026, 11, 23, 14, 30)),
        ("14：30", local(2026, 11, 23, 14, 30)),
        ("今天14:30", local(2026, 11, 23, 14, 30)),
        ("昨天 22:10", local(2026, 11, 22, 22, 10)),
        ("前天 8:05", local(2026, 11, 21, 8, 5)),
        ("11-22 14:30", local(2026, 11, 22, 14, 30)),
        ("11月22日 14点30分", local(2026, 11, 22, 14, 30)),
        ("2026-11-20 09:00", local(2026, 11, 20, 9, 0)),
        ("下午2点", local(2026, 11, 23, 14, 0)),
        ("刚刚", NOW),
        ("30分钟前", NOW - timedelta(minutes=30)),
        ("1小时前", NOW - timedelta(hours=1)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert parse_event_time(text, NOW, TZ) == expected


def test_bare_time_later_today_means_yesterday() -> None:
    # 23:50 typed at 15:00 cannot be tonight: it was last night.
    assert parse_event_time("23:50", NOW, TZ) == local(2026, 11, 22, 23, 50)


@pytest.mark.parametrize("text", ["", "abc", "25:00", "14:61", "13-45 10:00", "DROP TABLE", "１４：９９"])
def test_bad_format(text: str) -> None:
    with pytest.raises(TimeInputError) as err:
        parse_event_time(text, NOW, TZ)
    assert err.value.code == "bad_format"


def test_future_refused() -> None:
    with pytest.raises(TimeInputError) as err:
        parse_event_time("今天16:00", NOW, TZ)
    assert err.value.code == "future"


def test_more_than_seven_days_back_refused() -> None:
    with pytest.raises(TimeInputError) as err:
        parse_event_time("11-10 10:00", NOW, TZ)
    assert err.value.code == "too_old"
    assert parse_event_time("11-17 10:00", NOW, TZ, TimeBounds(timedelta(days=7))) == local(2026, 11, 17, 10, 0)


def test_new_year_rollover() -> None:
    jan1 = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)
    assert parse_event_time("12-31 23:00", jan1, TZ) == local(2026, 12, 31, 23, 0)
