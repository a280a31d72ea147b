"""Injected time: every rule asks a Clock for "now", so tests drive time instead of sleeping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


Listener = Callable[[datetime], Awaitable[None]]


class FakeClock:
    """A clock tests move by hand; listeners (the deadline scheduler) run after each move."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
        self._listeners: list[Listener] = []

    def now(self) -> datetime:
        return self._now

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def advance(self, delta: timedelta | None = None, **kw: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kw)
        for listener in list(self._listeners):
            await listener(self._now)
        return self._now

    async def set(self, when: datetime) -> datetime:
        return await self.advance(when - self._now)


def utc(dt: datetime) -> datetime:
    """Normalise to aware UTC (naive values are taken to be UTC already)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
