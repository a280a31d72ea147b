"""The bot's one pacing budget for the Bot API: every call the bot makes passes through `Pacing`.

Dialogue replies, callback answers, edits and uploads (PTB's typed methods, `DeskBot.send_text`) and
outbox rows (bot/delivery.py, through `DeskBot.call`) all go through this one rate limiter, PTB's
`BaseRateLimiter` interface installed on the bot. Telegram's published limits are about new messages
(send*, copy*, forward*): ~30 a second per bot, one a second per chat, 20 a minute per group; those are
held here, each counted from Telegram's answer (see `Window`). Any call Telegram answers with 429 pauses
every call until its `retry_after` has passed; an interactive call is then tried again, an outbox row
goes back to the outbox, which retries it durably (`bulk`).

Outbox rows take the global budget in the order they were queued (an emergency alert queued first
goes first); a person's reply is not queued behind a broadcast: it takes the next free token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

BULK = "bulk"  # rate_limit_args of an outbox row: a 429 goes back to the outbox instead of being retried here
_CHATS_KEPT = 50_000  # per-chat windows remembered (least recently used dropped first)


@dataclass(frozen=True)
class Limits:
    """Telegram's limits; 0 turns one off (a local Bot API server, or the emulator without limits)."""

    global_per_second: int = 30
    per_chat_per_second: int = 1
    group_per_minute: int = 20

    @property
    def off(self) -> bool:
        return not (self.global_per_second or self.per_chat_per_second or self.group_per_minute)


class Window:
    """At most `limit` calls in any `span` seconds, counted from Telegram's answers.

    A token comes back `span` seconds after the call that spent it was answered, and calls in flight
    count as spent: the server, which counts from when each request reached it, then sees at most
    `limit` in any window of its own. (A classic bucket with burst B and refill r lets B + r through
    in one second, which Telegram's sliding window refuses.)"""

    def __init__(self, limit: int, span: float = 1.0) -> None:
        self.limit, self.span = limit, span
        self._spent: deque[float] = deque()  # answer times of recent calls
        self._in_flight = 0

    def acquire(self, now: float) -> float:
        """Take a token and return 0, or return how long to wait before asking again."""
        wait = self.ready_in(now)
        if wait == 0:
            self._in_flight += 1
        return wait

    def ready_in(self, now: float) -> float:
        """0 if a token is free now, else how long until one may be."""
        while self._spent and self._spent[0] <= now - self.span:
            self._spent.popleft()
        if len(self._spent) + self._in_flight < self.limit:
            return 0.0
        if self._spent:
            return self._spent[0] + self.span - now
        return 0.01  # every token is in flight: one comes back when its answer does

    def release(self, now: float) -> None:
        """The call that took a token was answered (or failed) at `now`."""
        self._in_flight = max(0, self._in_flight - 1)
        self._spent.append(now)

    def give_back(self) -> None:
        """A token taken but not used (another window made the call wait)."""
        self._in_flight = max(0, self._in_flight - 1)

    @property
    def idle(self) -> bool:
        return not self._in_flight and not self._spent


class Windows:
    """Several windows a call must pass together (a group: 20 a minute and one a second): a token is
    taken from all of them at once or from none."""

    def __init__(self, *windows: Window) -> None:
        self.windows = windows

    def acquire(self, now: float) -> float:
        wait = self.ready_in(now)
        if wait == 0:
            for w in self.windows:
                w.acquire(now)
        return wait

    def ready_in(self, now: float) -> float:
        return max(w.ready_in(now) for w in self.windows)

    def release(self, now: float) -> None:
        for w in self.windows:
            w.release(now)

    def give_back(self) -> None:
        for w in self.windows:
            w.give_back()

    @property
    def idle(self) -> bool:
        return all(w.idle for w in self.windows)


def counts_as_message(endpoint: str) -> bool:
    """Telegram's per-bot, per-chat and per-group limits are about new messages."""
    return endpoint.startswith(("send", "copy", "forward")) and endpoint != "sendChatAction"


def retry_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asked for, in seconds (PTB gives an int today, a timedelta when opted in)."""
    ra = exc.retry_after
    return ra.total_seconds() if isinstance(ra, timedelta) else float(ra)


class Pacing(BaseRateLimiter[str]):
    """Telegram's limits for every call of one bot (see the module docstring)."""

    def __init__(self, limits: Limits = Limits(), *, max_retries: int = 3,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        self.max_retries = max_retries
        self._clock, self._sleep = clock, sleep
        self._chats: OrderedDict[int, Window | Windows] = OrderedDict()
        self._paused_until = 0.0  # a 429 holds every call until then
        self._bulk_turn: asyncio.Lock | None = None  # FIFO among outbox rows
        self.configure(limits)

    def configure(self, limits: Limits) -> None:
        """Set the limits (the test harness follows what its emulator enforces)."""
        self.limits = limits
        # One below Telegram's figure (a spare for the call whose answer is late), but never none at all.
        self.overall = Window(max(1, limits.global_per_second - 1)) if limits.global_per_second else None
        self._chats.clear()

    def chat_ready_in(self, chat_id: int, endpoint: str = "sendMessage") -> float:
        """How long until `endpoint` to `chat_id` may go (0: now). The outbox leaves a busy chat's row
        for its next pass instead of holding the rows of a whole pass behind it."""
        window = self._chats.get(chat_id) if counts_as_message(endpoint) else None
        pause = max(0.0, self._paused_until - self._clock())
        return max(pause, window.ready_in(self._clock()) if window is not None else 0.0)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self, callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any], rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        bulk = rate_limit_args == BULK
        chat_id = data.get("chat_id")
        chat = self._chat_window(chat_id) if counts_as_message(endpoint) and isinstance(chat_id, int) else None
        overall = self.overall if counts_as_message(endpoint) else None
        for attempt in range(self.max_retries + 1):
            await self._take(chat, overall, bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                self._paused_until = max(self._paused_until, self._clock() + wait)
                log.warning("Telegram asked to wait %.0f s (429 on %s): every call waits", wait, endpoint)
                if bulk or attempt == self.max_retries:
                    raise
            finally:
                now = self._clock()
                for spent in (chat, overall):
                    if spent is not None:
                        spent.release(now)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _chat_window(self, chat_id: int) -> Window | Windows | None:
        per_chat, per_group = self.limits.per_chat_per_second, self.limits.group_per_minute
        if not (per_group if chat_id < 0 else per_chat):
            return None
        window = self._chats.get(chat_id)
        if window is None:
            # A group (negative id) is held to its per-minute limit and to the per-chat one: 20 in one
            # second would be a 429, and a 429 pauses every call, incident alerts too.
            if chat_id >= 0:
                window = Window(per_chat)
            elif per_chat:
                window = Windows(Window(per_group, 60.0), Window(per_chat))
            else:
                window = Window(per_group, 60.0)
            self._chats[chat_id] = window
            while len(self._chats) > _CHATS_KEPT:
                _old, dropped = self._chats.popitem(last=False)
                if not dropped.idle:  # still counting: keep it (put back at the young end)
                    self._chats[_old] = dropped
                    break
        self._chats.move_to_end(chat_id)
        return window

    async def _take(self, chat: Window | Windows | None, overall: Window | None, bulk: bool) -> None:
        """Wait for a 429's pause, then the chat's token, then one of the bot's (outbox rows in turn)."""
        while (pause := self._paused_until - self._clock()) > 0:
            await self._sleep(pause)
        if chat is not None:
            await self._acquire(chat)
        if overall is None:
            return
        try:
            if not bulk:
                await self._acquire(overall)
                return
            if self._bulk_turn is None:
                self._bulk_turn = asyncio.Lock()
            async with self._bulk_turn:
                await self._acquire(overall)
        except BaseException:  # cancelled while waiting: the chat's token was not used
            if chat is not None:
                chat.give_back()
            raise

    async def _acquire(self, window: Window | Windows) -> None:
        while (wait := window.acquire(self._clock())) > 0:
            await self._sleep(wait)
