"""Different people's updates handled side by side; each person's strictly in the order sent.

PTB's own processor (`concurrent_updates=N`) runs any N updates at once, so one officer's answer
could overtake the press before it and land on the wrong question. Here every sender has a lock:
the next update from the same person waits for the one before, others go ahead — up to `slots`
at a time. Transactions stay one at a time (storage/db.py), so each sees the one before it; what
concurrency changes is that another person's update may run between a service's reads and its
transaction, which is why decisions are taken inside the transaction (bot/services).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class SenderOrder(BaseUpdateProcessor):
    def __init__(self, slots: int) -> None:
        super().__init__(slots)
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}  # sender → (lock, updates holding or waiting)

    @staticmethod
    def sender(update: object) -> object:
        """The person (or, without one, the chat) whose updates must stay in order."""
        if isinstance(update, Update):
            user, chat = update.effective_user, update.effective_chat
            if user is not None:
                return ("user", user.id)
            if chat is not None:
                return ("chat", chat.id)
        return None

    # PTB marks process_update final; wrapping it is how the order per sender is kept (see above).
    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:  # type: ignore[misc]
        # Tasks start in the order the updates were fetched and asyncio.Lock wakes its waiters
        # first come, first served: one sender's updates enter in the order Telegram gave them.
        key = self.sender(update)
        lock, waiting = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, waiting + 1)
        try:
            async with lock:
                await super().process_update(update, coroutine)  # the slots (PTB's semaphore)
        finally:
            lock, waiting = self._locks[key]
            if waiting <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, waiting - 1)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
