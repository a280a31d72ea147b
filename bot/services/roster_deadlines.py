"""The roster's time, kept as rows of the deadline table: the shift changes (交接班, recurring:
each occurrence plants the next in the same transaction as its messages; see services/handover.py)
and the check that somebody took over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from bot.domain import roster as rules
from bot.services import handover, roster_gaps
from bot.services.base import Services
from storage import deadlines
from storage.deadlines import Deadline
from storage.uow import Tx


async def ensure_recurring(s: Services) -> None:
    """At start-up: one pending row per configured shift change; rows of times no longer configured
    dropped; idempotent. Also keeps what alert routing needs of the config (see roster_gaps)."""
    await roster_gaps.remember_config(s)
    want = handover.change_times(s)
    async with s.uow() as tx:
        pending = {stage for _kind, stage in await deadlines.pending_recurring(tx.conn, [rules.HANDOVER])}
        for stage in pending - set(want):
            await deadlines.cancel(tx.conn, rules.HANDOVER, handover.RECURRING_REF, tx.now, stage)
        for hhmm in want:
            if hhmm not in pending:
                await tx.add_deadline(rules.HANDOVER, handover.RECURRING_REF, handover.next_at(s, tx.now, hhmm), hhmm)


def register(s: Services, on: Callable[[str, Callable[[Tx, Deadline], Awaitable[None]]], None]) -> None:
    for kind, fn in handover.HANDLERS.items():
        on(kind, partial(fn, s))
