"""Fires due rows of the deadline table exactly once, and sleeps until the next one.

Only the earliest pending deadline is ever armed in APScheduler (through PTB's
JobQueue), read from a partial index: a hundred thousand pending rows cost one job,
and a restart rebuilds everything from the table. A row's effects (outbox messages,
state changes) commit in the same transaction that marks it fired.

Two rules hold for every feature here, not in each handler:
- **Held at start-up.** Deadlines that came due while the bot was down wait until the updates
  Telegram queued meanwhile were handled (`release`, called by bot/app.py): an answer sent before
  its deadline and waiting in Telegram's queue is on time, and the 迟报 must not go out first.
- **A reminder never says what is no longer true.** A kind registered with `warns_of` (the moment
  it warns of: the stage's deadline, the meeting's start …) is dropped, not sent, when that moment
  has passed by the time it fires (the bot was down); the overdue effect, a row of its own, still
  goes out. Nor is it sent when a later reminder of the same thing is due as well ("还剩 3天" and
  "还剩 1天" at once): that one says it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import ContextTypes, Job, JobQueue

from reminders.kinds import DeadlineHandler, WarnsOf
from storage import deadlines
from storage.deadlines import Deadline
from storage.engine import AnyDatabase
from storage.uow import Tx, UnitOfWork

log = logging.getLogger(__name__)


class DeadlineScheduler:
    def __init__(self, db: AnyDatabase, uow: UnitOfWork, now: Callable[[], datetime]) -> None:
        self.db, self.uow, self._now = db, uow, now
        self._handlers: dict[str, DeadlineHandler] = {}
        self._warns_of: dict[str, WarnsOf] = {}
        self._outdated_handlers: dict[str, DeadlineHandler] = {}
        self._held = False
        self.released = asyncio.Event()  # set once the deadlines due at start-up have fired
        self._job_queue: JobQueue[Any] | None = None
        self._job: Job[Any] | None = None
        self._armed_for: datetime | None = None
        self._lock = asyncio.Lock()
        self._pending: asyncio.Task[int] | None = None
        self.fired = 0
        self.on_fired: Callable[[Deadline], None] | None = None

    def on(self, kind: str, handler: DeadlineHandler, *, warns_of: WarnsOf | None = None,
           outdated: DeadlineHandler | None = None) -> None:
        """`handler` fires rows of `kind`; a reminder names the moment it `warns_of`, and what to do
        instead when that has passed (`outdated`: e.g. plant a recurring row's next occurrence)."""
        self._handlers[kind] = handler
        if warns_of is not None:
            self._warns_of[kind] = warns_of
        if outdated is not None:
            self._outdated_handlers[kind] = outdated

    @property
    def reminder_kinds(self) -> frozenset[str]:
        """The kinds registered as reminders (with `warns_of`)."""
        return frozenset(self._warns_of)

    async def start(self, job_queue: JobQueue[Any] | None, *, hold: bool = False) -> None:
        """Handle everything already due (e.g. while the process was down), then arm the next.
        `hold`: not before `release()` — once the updates queued while down were handled."""
        self._job_queue = job_queue
        self._held = hold
        await self.run_due()
        if not hold:
            self.released.set()

    async def release(self) -> None:
        """Start firing: what came due while held fires now, each row once; then `released` is set."""
        if not self._held:
            return
        self._held = False
        await self.run_due()
        self.released.set()

    @property
    def idle(self) -> bool:
        """No firing under way (with a FakeClock, rows found due at a commit fire in a task)."""
        return self._pending is None or self._pending.done()

    def stop(self) -> None:
        if self._job is not None:
            self._job.schedule_removal()
            self._job = None

    async def run_due(self, now: datetime | None = None) -> int:
        """Fire every due row, each once; re-arm for the next. Returns how many fired."""
        if self._held:
            return 0  # release() runs it
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
                elif await self._outdated(tx, d):
                    log.info("reminder %s (%s) not sent: what it warns of has passed", d.id, d.kind)
                    if (instead := self._outdated_handlers.get(d.kind)) is not None:
                        await instead(tx, d)
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

    async def _outdated(self, tx: Tx, d: Deadline) -> bool:
        """A reminder whose moment passed (it came due while the bot was down: "还剩 0分钟" is untrue),
        or one a later reminder of the same moment, due as well, supersedes."""
        warns_of = self._warns_of.get(d.kind)
        if warns_of is None:
            return False
        target = await warns_of(tx, d)
        if target is None:
            return False
        if target <= tx.now:
            return True
        for later in await deadlines.due_after(tx.conn, d, tx.now):
            if await warns_of(tx, later) == target:
                return True
        return False

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
