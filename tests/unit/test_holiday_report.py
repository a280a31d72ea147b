"""节假日离京报备 rules: a trip must cover a statutory holiday (when the calendar can tell), not be
over, not be absurdly long; one sent after departure is late."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.holiday_report import HolidayDraft, check_trip, holidays_covered, is_late
from bot.domain.holidays import STATE_COUNCIL as CAL
from bot.domain.holidays import HolidayCalendar
from bot.domain.leave import DayPoint, LeaveInputError

BJ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 28, 10, 0, tzinfo=BJ).astimezone(UTC)


def trip(first: date, last: date) -> tuple[datetime, datetime]:
    return DayPoint(first).start(BJ), DayPoint(last).end(BJ)


def test_a_trip_over_national_day_names_it() -> None:
    assert check_trip(*trip(date(2026, 9, 30), date(2026, 10, 4)), NOW, BJ, CAL) == ["National Day"]


@pytest.mark.parametrize(("first", "last", "code"), [
    (date(2026, 11, 25), date(2026, 11, 26), "holiday_none"),  # ordinary days
    (date(2026, 10, 4), date(2026, 10, 1), "end_before_start"),
    (date(2025, 10, 1), date(2025, 10, 3), "holiday_trip_over"),
    (date(2026, 10, 1), date(2026, 11, 30), "too_long"),
])
def test_refused_trips(first: date, last: date, code: str) -> None:
    with pytest.raises(LeaveInputError) as err:
        check_trip(*trip(first, last), NOW, BJ, CAL)
    assert err.value.code == code


def test_a_year_the_calendar_lacks_is_taken_without_names() -> None:
    assert holidays_covered(date(2030, 1, 1), date(2030, 1, 2), HolidayCalendar()) is None  # cannot tell
    entered = HolidayCalendar([("元旦", date(2030, 1, 1), date(2030, 1, 1))])
    assert holidays_covered(date(2030, 1, 1), date(2030, 1, 2), entered) == ["New Year's Day"]
    assert check_trip(*trip(date(2030, 1, 1), date(2030, 1, 2)), NOW, BJ, CAL) is None


def test_late_after_departure_by_the_day() -> None:
    start = DayPoint(date(2026, 10, 1)).start(BJ)
    assert not is_late(start, datetime(2026, 10, 1, 20, 0, tzinfo=BJ), BJ)  # a whole day: leaving that day is fine
    assert is_late(start, datetime(2026, 10, 2, 8, 0, tzinfo=BJ), BJ)
    assert is_late(DayPoint(date(2026, 10, 1), "pm").start(BJ), datetime(2026, 10, 1, 13, 0, tzinfo=BJ), BJ)


def test_draft_round_trip() -> None:
    d = HolidayDraft(start_at="2026-09-29T16:00:00+00:00", destination="上海")
    assert HolidayDraft.from_dict({**d.to_dict(), "junk": 1}) == d and not d.complete()
