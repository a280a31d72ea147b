"""Opt-in flood limits and fault injection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from bot.emulator import BotApiEmulator, Faults, RateLimits
from bot.emulator.limits import RateLimiter


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    # Short read timeout so "slow" faults surface quickly when wanted.
    b = Bot(emu.token, base_url=emu.base_url, request=HTTPXRequest(read_timeout=5))
    async with b:
        yield b


async def test_per_chat_rate_limit(emu: BotApiEmulator, bot: Bot) -> None:
    emu.rate_limits = RateLimits(global_per_second=30, per_chat_per_second=1, group_per_minute=20)
    user = emu.user(3001, "Zhou", started=True)
    emu.user(3002, "Wu", started=True)
    await bot.send_message(3001, "one")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(3001, "two")
    assert "Retry in 1 second" in str(info.value)  # parameters.retry_after reached PTB
    await bot.send_message(3002, "other chat is fine")
    assert emu.stats.rate_limited == 1
    assert [m.text for m in user.inbox] == ["one"]  # the refused message was not delivered
    assert emu.sent_to(3001) == 1
    await bot.send_chat_action(3001, "typing")  # not a message: not limited


def test_rate_limiter_windows() -> None:
    lim = RateLimiter(RateLimits(global_per_second=3, per_chat_per_second=2, group_per_minute=3))
    assert lim.check(1, 0.0) is None
    assert lim.check(1, 0.1) is None
    assert lim.check(1, 0.2) == 1  # per chat
    assert lim.check(2, 0.3) is None
    assert lim.check(3, 0.4) == 1  # global 3/s
    assert lim.check(3, 1.05) is None  # window slid
    for t in (2.0, 3.0, 4.0):
        assert lim.check(-5, t) is None
    assert lim.check(-5, 5.0) == 57  # 20/min style group limit: oldest (t=2) leaves at 62


async def test_forced_faults(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(3003, "Zheng", started=True)
    emu.fail_next("500")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(3003, "a")
    emu.fail_next("502")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(3003, "b")
    emu.fail_next("429")
    with pytest.raises(RetryAfter):
        await bot.send_message(3003, "c")
    emu.fail_next("drop")
    with pytest.raises(NetworkError):
        await bot.send_message(3003, "d")
    assert user.inbox == []  # none of the failed sends were delivered
    emu.faults = Faults(rate=1.0, kinds=("slow",), slow_seconds=0.2)
    t0 = asyncio.get_running_loop().time()
    await bot.send_message(3003, "e")
    assert asyncio.get_running_loop().time() - t0 >= 0.2
    assert [m.text for m in user.inbox] == ["e"]  # slow answers are delivered
    assert emu.stats.faults == {"500": 1, "502": 1, "429": 1, "drop": 1, "slow": 1}
    assert emu.stats.faults_injected == 5
    await bot.get_me()  # getMe is not a sending method: never faulted


async def _fault_sequence(seed: int) -> list[str]:
    f = Faults(rate=0.3, seed=seed)
    return [str(f.draw("sendMessage")) for _ in range(50)]


async def test_random_faults_are_deterministic(emu: BotApiEmulator, bot: Bot) -> None:
    assert await _fault_sequence(7) == await _fault_sequence(7)
    assert await _fault_sequence(7) != await _fault_sequence(8)
    emu.user(3004, "Feng", started=True)
    emu.faults = Faults(rate=0.5, kinds=("429", "500"), seed=3)
    outcomes = {"ok": 0, "err": 0}
    for i in range(40):
        try:
            await bot.send_message(3004, f"m{i}")
            outcomes["ok"] += 1
        except (RetryAfter, NetworkError):
            outcomes["err"] += 1
    assert outcomes["err"] == emu.stats.faults_injected > 5
    assert emu.sent_to(3004) == outcomes["ok"]


async def test_faults_on_get_updates_do_not_lose_updates(emu: BotApiEmulator, running_app) -> None:  # type: ignore[no-untyped-def]
    await running_app()
    await emu.wait_idle()
    # The long poll already waiting is unaffected; the next one is dropped (PTB then
    # backs off ~1 s and polls again with the same offset).
    emu.fail_next("drop", methods={"getUpdates"})
    user = emu.user(3005, "Chen")
    await user.send_text("t0")
    await user.wait_for("echo: t0")
    for i in range(1, 4):
        await user.send_text(f"t{i}")
    for i in range(1, 4):
        await user.wait_for(f"echo: t{i}", timeout=8)
    assert emu.stats.faults == {"drop": 1}
    assert emu.stats.requests["sendMessage"] == 4  # nothing processed twice
