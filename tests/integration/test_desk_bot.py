"""DeskBot.send_text against the emulator: the message arrives as sent, only its id comes back,
and it goes through the bot's one rate limiter (a 429 is waited out and retried, not lost)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.desk_bot import DeskBot, UpdateBacklog
from bot.emulator import BotApiEmulator
from bot.harness import TOKEN
from bot.pacing import Limits, Pacing
from bot.telegram_http import DeskRequest


class _Watched(UpdateBacklog):
    """The Application's update queue, saying when a poll starts waiting on it and when it lets one go."""

    def __init__(self) -> None:
        super().__init__()
        self.holding, self.released = asyncio.Event(), asyncio.Event()

    async def until_handled(self) -> None:
        self.holding.set()
        await super().until_handled()
        self.released.set()


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[DeskBot]:
    b = DeskBot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url, request=DeskRequest(4),
                rate_limiter=Pacing(Limits(), max_retries=1))
    await b.initialize()
    yield b
    await b.shutdown()


async def test_send_text_delivers_html_and_keyboards_and_returns_the_message_id(emu: BotApiEmulator,
                                                                                bot: DeskBot) -> None:
    first = await bot.send_text(501, "<b>请核对</b> &amp; 确认", parse_mode="HTML",
                                reply_markup={"inline_keyboard": [[{"text": "✅ 确认上报", "callback_data": "r:ok"}]]})
    second = await bot.send_text(501, "第二条", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("收到", callback_data="n:a:1")]]))
    third = await bot.send_text(501, "第三条", reply_markup=ReplyKeyboardRemove())
    sent = emu.messages(501)
    assert [m.message_id for m in sent] == [first, second, third]
    assert [m.text for m in sent] == ["请核对 & 确认", "第二条", "第三条"]
    assert sent[0].buttons == [("✅ 确认上报", "r:ok")]
    assert sent[1].buttons == [("收到", "n:a:1")]


async def test_send_text_waits_out_a_429_through_the_rate_limiter(emu: BotApiEmulator, bot: DeskBot) -> None:
    emu.fail_next("429", methods=["sendMessage"])
    t0 = time.monotonic()
    mid = await bot.send_text(501, "稍后送达")
    assert [m.text for m in emu.messages(501)] == ["稍后送达"]  # once, after the retry
    assert emu.messages(501)[0].message_id == mid
    assert time.monotonic() - t0 >= 1.0  # not before the retry_after (1 s) Telegram asked for


async def test_an_outbox_row_and_a_typed_call_share_the_pause_after_a_429(emu: BotApiEmulator, bot: DeskBot) -> None:
    """The outbox (`call(bulk=True)`) and PTB's typed methods pass the same limiter: a 429 on a row
    comes back to the outbox (which retries it durably) and holds the next call, a typed one too."""
    emu.fail_next("429", methods=["sendMessage"])
    t0 = time.monotonic()
    with pytest.raises(RetryAfter):
        await bot.call("sendMessage", {"chat_id": 501, "text": "通知"}, bulk=True)
    assert emu.messages(501) == []
    await bot.send_message(501, "类型化的调用")
    assert time.monotonic() - t0 >= 1.0 and [m.text for m in emu.messages(501)] == ["类型化的调用"]


async def test_send_text_raises_telegram_errors_as_ptb_exceptions(bot: DeskBot) -> None:
    with pytest.raises(BadRequest):
        await bot.send_text(999_999, "没有这个聊天")


async def test_long_polls_wait_until_the_fetched_updates_are_handled(emu: BotApiEmulator, bot: DeskBot) -> None:
    """A poll confirms what came before it: the next long poll waits until every update fetched
    so far has been handled (PTB's `task_done`), so a kill -9 mid-update leaves it with Telegram
    to deliver again. Then it fetches everything that arrived meanwhile in one call."""
    backlog = _Watched()
    bot.poll_after(backlog)
    user = emu.get_user(501)
    assert user is not None
    backlog.put_nowait("甲")
    backlog.put_nowait("乙")
    polls = emu.stats.requests["getUpdates"]
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await user.send_text("一")
    await user.send_text("二")
    await asyncio.wait_for(backlog.holding.wait(), 2)
    assert not poll.done() and emu.stats.requests["getUpdates"] == polls  # held back, nothing sent
    # A call without a long poll (the Updater's last one, at shutdown) is never held back.
    assert len(await asyncio.wait_for(bot.get_updates(timeout=0), 1)) == 2
    await backlog.get()
    await backlog.get()
    await asyncio.sleep(0)  # one turn of the loop: a poll let go now would have said so
    assert not backlog.released.is_set()  # taken off the queue, not handled yet
    backlog.task_done()
    await asyncio.sleep(0)
    assert not backlog.released.is_set()  # one still being handled
    backlog.task_done()
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates] == ["一", "二"]  # both, in one call


async def test_catching_up_takes_what_waited_without_a_long_poll_then_says_so(emu: BotApiEmulator,
                                                                            bot: DeskBot) -> None:
    """At start-up the polls only take what Telegram queued while the bot was down (no 10 s wait for
    something new), until one comes back short; once all of it was handled, `caught_up` is set (the
    deadline scheduler waits for it) and polls are long again. Those updates are `queued`; the ones
    after are not, until a poll fails (Telegram unreachable: updates queue there meanwhile)."""
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    backlog, caught_up = _Watched(), asyncio.Event()
    bot.poll_after(backlog, lambda: now)
    bot.catch_up(caught_up)
    user = emu.get_user(501)
    assert user is not None
    for i in range(130):
        await user.send_text(f"第{i}条")
    first = await asyncio.wait_for(bot.get_updates(timeout=5, limit=100), 1)
    assert len(first) == 100 and bot.queued and bot.queued_since is None
    second = await asyncio.wait_for(bot.get_updates(offset=first[-1].update_id + 1, timeout=5, limit=100), 1)
    assert len(second) == 30 and bot.queued and not caught_up.is_set()
    backlog.put_nowait("未处理")
    backlog.holding.clear()
    polls = emu.stats.requests["getUpdates"]
    third = asyncio.create_task(bot.get_updates(offset=second[-1].update_id + 1, timeout=5, limit=100))
    await asyncio.wait_for(backlog.holding.wait(), 2)
    assert not caught_up.is_set()  # one still being handled
    await backlog.get()
    backlog.task_done()
    await asyncio.wait_for(caught_up.wait(), 2)
    await emu.wait_until(lambda: emu.stats.requests["getUpdates"] > polls, 2)
    assert not third.done()  # caught up; now a long poll, waiting
    await user.send_text("新消息")
    assert len(await asyncio.wait_for(third, 2)) == 1 and not bot.queued
    emu.fail_next("500", methods=["getUpdates"])
    with pytest.raises(TelegramError):
        await bot.get_updates(timeout=1)
    answered = now
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    await user.send_text("断网期间")
    after = await asyncio.wait_for(bot.get_updates(timeout=1), 2)
    assert len(after) >= 1 and bot.queued and bot.queued_since == answered
