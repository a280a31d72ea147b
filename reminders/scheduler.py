"""Fires due rows of the deadline table exactly once, and sleeps until the next one.

Only the earliest pending deadline is ever armed in APScheduler (through PTB's
JobQueue), read from a partial index: a hundred thousand pending rows cost one job,
and a restart rebuilds everything from the table. A row's effects (outbox messages,
state changes) commit in the same transaction that marks it fired.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram.ext import ContextTypes, Job, JobQueue

from storage import deadlines
from storage.db import Database
from storage.deadlines import Deadline
from storage.uow import Tx, UnitOfWork

log = logging.getLogger(__name__)

DeadlineHandler = Callable[[Tx, Deadline], Awaitable[None]]


class DeadlineScheduler:
    def __init__(self, db: Database, uow: UnitOfWork, now: Callable[[], datetime]) -> None:
        self.db, self.uow, self._now = db, uow, now
        self._handlers: dict[str, DeadlineHandler] = {}
        self._job_queue: JobQueue | None = None
        self._job: Job | None = None
        self._armed_for: datetime | None = None
        self._lock = asyncio.Lock()
        self._pending: asyncio.Task[int] | None = None
        self.fired = 0
        self.on_fired: Callable[[Deadline], None] | None = None

    def on(self, kind: str, handler: DeadlineHandler) -> None:
        self._handlers[kind] = handler

    async def start(self, job_queue: JobQueue | None) -> None:
        """Handle everything already due (e.g. while the process was down), then arm the next."""
        self._job_queue = job_queue
        await self.run_due()

    def stop(self) -> None:
        if self._job is not None:
            self._job.schedule_removal()
            self._job = None

    async def run_due(self, now: datetime | None = None) -> int:
        """Fire every due row, each once; re-arm for the next. Returns how many fired."""
        count = 0
        async with self._lock:
            while True:
                moment = now or self._now()
                batch = await deadlines.due(self.db.read, moment)
                if not batch:
                    break
                for d in batch:
                    count += await self._fire(d)
        await self.rearm()
        return count

    async def _fire(self, d: Deadline) -> int:
        handler = self._handlers.get(d.kind)
        try:
            async with self.uow() as tx:
                if not await deadlines.claim(tx.conn, d.id, tx.now):
                    return 0
                if handler is None:
                    log.warning("no handler for deadline kind %s (id %s)", d.kind, d.id)
                else:
                    await handler(tx, d)
        except Exception:
            # The effects rolled back; mark it fired anyway so one bad row cannot spin the loop.
            log.exception("deadline %s (%s) failed", d.id, d.kind)
            async with self.uow() as tx:
                await deadlines.claim(tx.conn, d.id, tx.now)
            return 0
        self.fired += 1
        if self.on_fired:
            self.on_fired(d)
        return 1

    async def rearm(self) -> None:
        nxt = await deadlines.next_due_at(self.db.read)
        self._arm(nxt)

    def consider(self, due_at: datetime) -> None:
        """A transaction committed a deadline at `due_at`: arm earlier if it is the next one."""
        if self._armed_for is None or due_at < self._armed_for:
            self._arm(due_at)

    def _arm(self, when: datetime | None) -> None:
        if self._job_queue is None:
            # Driven by a FakeClock: later rows fire when the clock moves; due ones now.
            self._armed_for = when
            if when is not None and when <= self._now():
                self._pending = asyncio.create_task(self.run_due())
            return
        if self._job is not None:
            self._job.schedule_removal()
            self._job = None
        self._armed_for = when
        if when is None:
            return
        delay = max(timedelta(0), when - self._now())
        self._job = self._job_queue.run_once(self._on_job, when=delay, name="deadlines")

    async def _on_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._job = None
        self._armed_for = None
        await self.run_due()
