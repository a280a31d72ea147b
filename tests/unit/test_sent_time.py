"""When a person acted (bot/domain/sent_time.py): a message's own date, a press's latest known bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.sent_time import TELEGRAM_KEEPS, pressed_at, sent_at

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def test_a_message_counts_from_its_own_date() -> None:
    assert sent_at(NOW - timedelta(minutes=20), NOW) == NOW - timedelta(minutes=20)


def test_a_date_ahead_of_our_clock_is_now() -> None:
    assert sent_at(NOW + timedelta(seconds=2), NOW) == NOW


def test_a_date_older_than_telegram_keeps_updates_is_not_believed() -> None:
    assert sent_at(NOW - TELEGRAM_KEEPS - timedelta(minutes=1), NOW) == NOW
    assert sent_at(None, NOW) == NOW


def test_a_press_counts_from_the_latest_thing_it_came_after() -> None:
    shown, answered = NOW - timedelta(hours=2), NOW - timedelta(minutes=30)
    assert pressed_at((shown, answered, None), NOW) == answered
    assert pressed_at((), NOW) == NOW - TELEGRAM_KEEPS  # nothing known: as early as it can have been


moments = st.one_of(st.none(), st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                                            timezones=st.just(UTC)))


@given(st.lists(moments, max_size=4), moments)
def test_a_press_is_never_after_now_nor_before_a_bound_nor_older_than_telegram_keeps(
        bounds: list[datetime | None], date: datetime | None) -> None:
    got = pressed_at(bounds, NOW)
    assert NOW - TELEGRAM_KEEPS <= got <= NOW
    assert all(got >= b for b in bounds if b is not None and b <= NOW)
    assert NOW - TELEGRAM_KEEPS <= sent_at(date, NOW) <= NOW
