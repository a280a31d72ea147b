"""Fixtures for integration tests that need a Bot API to talk to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.emulator import BotApiEmulator
from bot.harness import TOKEN


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """The project's emulator with one private chat open: user 501 (甲) has started the bot."""
    e = BotApiEmulator(token=TOKEN, bot_username="t_bot", record_transcript=False)
    await e.start()
    e.user(501, "甲", started=True)
    yield e
    await e.stop()
