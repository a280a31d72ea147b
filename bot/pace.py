"""The seconds Telegram's limits are counted in, injected like the clock.

The outbox paces itself to Telegram's limits (a message a second per chat, ~30 a second
overall) and backs off after a failure. In production those waits are real seconds
(`WallPace`). The test harness hands it a `SkipPace`: a wait moves a timeline of its own
forward instead of sleeping, so a test that queues ten messages to one person does not
spend ten seconds of wall time, while the pacers still see the gaps they asked for and
the emulator's opt-in flood limits, read on the same timeline, still judge them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Pace(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (outbox `not_before` values are on this timeline)."""
        ...

    def monotonic(self) -> float:
        """A clock that never goes back (the pacers' token buckets)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let `seconds` pass."""
        ...

    async def wait(self, event: asyncio.Event, timeout: float) -> None:
        """Until `event` is set or `timeout` seconds have passed, whichever is first."""
        ...


class WallPace:
    """Real seconds: what Telegram counts."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, timeout: float) -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass


class SkipPace:
    """Real seconds plus an offset that each wait moves forward to the moment it waited for.

    Waits that overlap (two chats each paced for a second) move the timeline to the later of
    their ends, not by their sum, as real time would. A wait yields to the event loop once,
    so whatever else is ready runs first, and never blocks."""

    def __init__(self) -> None:
        self.skipped = 0.0  # seconds this timeline is ahead of the wall clock

    def time(self) -> float:
        return time.time() + self.skipped

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def _skip(self, seconds: float) -> None:
        if seconds > 0:
            target = self.monotonic() + seconds
            self.skipped = max(self.skipped, target - time.monotonic())

    async def sleep(self, seconds: float) -> None:
        self._skip(seconds)
        await asyncio.sleep(0)

    async def wait(self, event: asyncio.Event, timeout: float) -> None:
        if not event.is_set():
            await asyncio.sleep(0)
        if not event.is_set():
            self._skip(timeout)
