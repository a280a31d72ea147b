"""The bot's one pacing budget (bot/pacing.py): per chat one a second, per group 20 a minute, overall
Telegram's ~30 a second, each counted from Telegram's answer; a 429 holds every call. No real sleeps:
the limiter runs on a fake clock whose sleep moves it."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.pacing import BULK, Limits, Pacing, Window


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _run(window: Window, count: int, call_time: float = 0.004) -> list[float]:
    """Send `count` calls one after another as the sender would; return the start times."""
    now, starts = 0.0, []
    for _ in range(count):
        while (wait := window.acquire(now)) > 0:
            now += wait
        starts.append(now)
        now += call_time
        window.release(now)
    return starts


def test_small_fan_out_goes_at_once() -> None:
    window = Window(limit=28)
    assert [window.acquire(0.0) for _ in range(28)] == [0.0] * 28
    assert window.acquire(0.0) > 0  # the 29th waits, even with every call still in flight


def test_broadcast_never_exceeds_the_limit_in_any_second() -> None:
    window = Window(limit=28)
    starts = _run(window, 1000)
    recent: deque[float] = deque()
    worst = 0
    for t in starts:
        recent.append(t)
        while recent[0] <= t - 1.0:
            recent.popleft()
        worst = max(worst, len(recent))
    assert worst == 28
    # ... and still goes at about the limit: 1,000 calls in about 36 seconds, not 40 (25/s).
    assert 34.0 < starts[-1] < 37.0


def test_tokens_come_back_a_window_after_the_answer() -> None:
    window = Window(limit=2, span=1.0)
    assert window.acquire(0.0) == 0.0
    assert window.acquire(0.0) == 0.0
    assert window.acquire(0.1) == 0.01  # both in flight: poll until an answer comes
    window.release(0.5)
    window.release(0.7)
    assert window.acquire(0.8) == 0.5 + 1.0 - 0.8
    assert window.acquire(1.5) == 0.0
    assert window.acquire(1.5) == 0.7 + 1.0 - 1.5


class Api:
    """The calls that reached 'Telegram', with the fake time each started; 429 on demand."""

    def __init__(self, clock: FakeTime, answer_time: float = 0.05) -> None:
        self.clock, self.answer_time = clock, answer_time
        self.calls: list[tuple[float, str, Any]] = []
        self.refuse: list[int] = []  # retry_after of the next calls to refuse

    async def post(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((self.clock.now, endpoint, data.get("chat_id")))
        await self.clock.sleep(self.answer_time)
        if self.refuse:
            raise RetryAfter(self.refuse.pop(0))
        return {"ok": endpoint}


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def api(clock: FakeTime) -> Api:
    return Api(clock)


async def _call(pacing: Pacing, api: Api, endpoint: str, chat_id: int | None = None,
                limit_args: str | None = None) -> Any:
    data = {"chat_id": chat_id} if chat_id is not None else {}
    return await pacing.process_request(api.post, (endpoint, data), {}, endpoint, data, limit_args)


def _pacing(clock: FakeTime, limits: Limits = Limits()) -> Pacing:
    return Pacing(limits, clock=clock, sleep=clock.sleep)


async def test_a_private_chat_gets_one_message_a_second_counted_from_the_answer(clock: FakeTime, api: Api) -> None:
    pacing = _pacing(clock)
    for _ in range(3):
        await _call(pacing, api, "sendMessage", 501)
    await _call(pacing, api, "sendMessage", 502)  # another chat is not held up by 501's
    starts = [t for t, _e, chat in api.calls if chat == 501]
    assert starts == pytest.approx([0.0, 1.05, 2.10])  # each a second after the previous answer
    assert api.calls[-1][0] == pytest.approx(2.15)


async def test_edits_and_callback_answers_are_not_held_to_the_message_limits(clock: FakeTime, api: Api) -> None:
    pacing = _pacing(clock)
    await _call(pacing, api, "sendMessage", 501)
    await _call(pacing, api, "editMessageText", 501)
    await _call(pacing, api, "answerCallbackQuery")
    await _call(pacing, api, "sendChatAction", 501)
    assert clock.slept == pytest.approx([0.05] * 4)  # only the answers' own time


async def test_a_group_gets_twenty_a_minute(clock: FakeTime, api: Api) -> None:
    pacing = _pacing(clock, Limits(per_chat_per_second=0))
    for _ in range(21):
        await _call(pacing, api, "sendMessage", -100)
    starts = [t for t, _e, _c in api.calls]
    assert starts[19] < 1.1 and starts[20] == pytest.approx(60.05)  # the 21st a minute after the first answer


async def test_a_group_also_gets_one_a_second(clock: FakeTime, api: Api) -> None:
    """20 in one second to a group would draw a 429, which pauses every call (alerts too)."""
    pacing = _pacing(clock)
    for _ in range(21):
        await _call(pacing, api, "sendMessage", -100)
    starts = [t for t, _e, _c in api.calls]
    assert all(b - a >= 1.0 for a, b in zip(starts, starts[1:20], strict=False))
    assert starts[20] >= 60.0  # and still 20 a minute


@pytest.mark.parametrize("per_second", [1, 2])
async def test_a_bot_limit_of_one_or_two_still_sends(clock: FakeTime, api: Api, per_second: int) -> None:
    pacing = _pacing(clock, Limits(global_per_second=per_second, per_chat_per_second=0))
    for chat in range(3):
        await _call(pacing, api, "sendMessage", chat)
    assert len(api.calls) == 3


async def test_the_overall_budget_is_shared_by_replies_and_outbox_rows(clock: FakeTime, api: Api) -> None:
    pacing = _pacing(clock, Limits(global_per_second=3, per_chat_per_second=0))
    await _call(pacing, api, "sendMessage", 1, BULK)
    await _call(pacing, api, "sendMessage", 2, BULK)
    await _call(pacing, api, "sendMessage", 3)  # a reply: the budget (3 - 1 spare) is spent
    assert api.calls[2][0] == pytest.approx(1.05)


async def test_a_429_holds_every_call_then_a_reply_is_tried_again(clock: FakeTime, api: Api,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    pacing = _pacing(clock)
    api.refuse = [5]
    assert await _call(pacing, api, "editMessageText", 501) == {"ok": "editMessageText"}
    assert [t for t, _e, _c in api.calls] == pytest.approx([0.0, 5.05])  # waited the 5 s asked for
    assert "429 on editMessageText" in caplog.text


async def test_after_a_429_an_outbox_row_goes_back_to_the_outbox_and_others_wait(clock: FakeTime, api: Api) -> None:
    pacing = _pacing(clock)
    api.refuse = [7]
    with pytest.raises(RetryAfter):
        await _call(pacing, api, "sendMessage", 601, BULK)
    await _call(pacing, api, "answerCallbackQuery")
    assert api.calls[-1][0] == pytest.approx(7.05)


async def test_a_reply_that_keeps_drawing_429s_fails_after_the_retries(clock: FakeTime, api: Api) -> None:
    pacing = _pacing(clock)
    api.refuse = [1] * 10
    with pytest.raises(RetryAfter):
        await _call(pacing, api, "sendMessage", 501)
    assert len(api.calls) == pacing.max_retries + 1


async def test_with_no_limits_nothing_waits(clock: FakeTime, api: Api) -> None:
    pacing = _pacing(clock, Limits(0, 0, 0))
    for _ in range(50):
        await _call(pacing, api, "sendMessage", 501)
    assert clock.slept == [0.05] * 50


async def test_the_outbox_can_ask_whether_a_chat_is_free_without_taking_its_turn(clock: FakeTime, api: Api) -> None:
    pacing = _pacing(clock)
    assert pacing.chat_ready_in(501) == 0.0
    await _call(pacing, api, "sendMessage", 501)
    assert pacing.chat_ready_in(501) == pytest.approx(1.0)  # a second after the answer (at 0.05)
    assert pacing.chat_ready_in(501, "editMessageText") == 0.0  # edits are not held to it
    assert pacing.chat_ready_in(502) == 0.0
    clock.now = 1.05
    assert pacing.chat_ready_in(501) == 0.0
    api.refuse = [3]
    with pytest.raises(RetryAfter):
        await _call(pacing, api, "sendMessage", 502, BULK)
    assert pacing.chat_ready_in(501) == pytest.approx(3.0)  # a 429 holds every chat
