"""The outbox pacers: per chat about one a second, overall a burst then Telegram's ~30 a second."""

from __future__ import annotations

from collections import deque

import pytest

from bot.delivery import ChatPacer, GlobalPacer


def _run(pacer: GlobalPacer, count: int, call_time: float = 0.004) -> list[float]:
    """Send `count` calls one after another as the sender would; return the start times."""
    now, starts = 0.0, []
    for _ in range(count):
        while (wait := pacer.acquire(now)) > 0:
            now += wait
        starts.append(now)
        now += call_time
        pacer.release(now)
    return starts


def test_small_fan_out_goes_at_once() -> None:
    pacer = GlobalPacer(limit=28)
    assert [pacer.acquire(0.0) for _ in range(28)] == [0.0] * 28
    assert pacer.acquire(0.0) > 0  # the 29th waits, even with every call still in flight


def test_broadcast_never_exceeds_the_limit_in_any_second() -> None:
    pacer = GlobalPacer(limit=28)
    starts = _run(pacer, 1000)
    window: deque[float] = deque()
    worst = 0
    for t in starts:
        window.append(t)
        while window[0] <= t - 1.0:
            window.popleft()
        worst = max(worst, len(window))
    assert worst == 28
    # ... and still goes at about the limit: 1,000 calls in about 36 seconds, not 40 (25/s).
    assert 34.0 < starts[-1] < 37.0


def test_tokens_come_back_a_window_after_the_answer() -> None:
    pacer = GlobalPacer(limit=2, window=1.0)
    assert pacer.acquire(0.0) == 0.0
    assert pacer.acquire(0.0) == 0.0
    assert pacer.acquire(0.1) == 0.01  # both in flight: poll until an answer comes
    pacer.release(0.5)
    pacer.release(0.7)
    assert pacer.acquire(0.8) == 0.5 + 1.0 - 0.8
    assert pacer.acquire(1.5) == 0.0
    assert pacer.acquire(1.5) == 0.7 + 1.0 - 1.5


def test_chat_pacer_allows_a_short_burst_then_one_a_second() -> None:
    pacer = ChatPacer(burst=3, per_second=1.0)
    assert [pacer.delay(1, 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.delay(1, 0.0) == 1.0
    assert pacer.delay(2, 0.0) == 0.0  # another chat is not held up
    assert pacer.delay(1, 1.0) == 0.0


def test_chat_pacer_holds_a_group_to_twenty_a_minute() -> None:
    pacer = ChatPacer(burst=3, per_second=1.0, group_per_minute=20)
    assert [pacer.delay(-100, 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.delay(-100, 0.0) == 3.0  # one token every 3 s
    assert pacer.delay(-100, 1.0) == pytest.approx(2.0)
    assert pacer.delay(-100, 3.0) == 0.0
