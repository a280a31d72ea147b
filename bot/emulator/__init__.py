"""Local Telegram Bot API emulator for tests, the demo and benchmarks.

Run the unmodified python-telegram-bot ``Application`` against it::

    async with BotApiEmulator(token="123456:TEST") as emu:
        app = (Application.builder().token(emu.token)
               .base_url(emu.base_url).base_file_url(emu.base_file_url).build())
        alice = emu.user(1001, "Alice")
        await alice.send_command("/start")
        reply = await alice.wait_for("欢迎")
"""

from .control import SimGroup, SimUser
from .emulator import TINY_PNG, BotApiEmulator, CallbackAnswer
from .htmlcheck import HtmlParseError, parse_html
from .limits import FAULT_KINDS, Faults, RateLimits
from .models import ApiError, EmulatorStats, SimMessage, TranscriptEntry

__all__ = [
    "FAULT_KINDS",
    "TINY_PNG",
    "ApiError",
    "BotApiEmulator",
    "CallbackAnswer",
    "EmulatorStats",
    "Faults",
    "HtmlParseError",
    "RateLimits",
    "SimGroup",
    "SimMessage",
    "SimUser",
    "TranscriptEntry",
    "parse_html",
]
