"""The roster's time, kept as rows of the deadline table: the shift changes (交接班, recurring:
each occurrence plants the next in the same transaction as its messages; see services/handover.py)
and the check that somebody took over."""

from __future__ import annotations

from functools import partial

from bot.domain import roster as rules
from bot.services import handover, roster_gaps
from bot.services.base import Services
from reminders.kinds import On
from storage import deadlines


async def ensure_recurring(s: Services) -> None:
    """At start-up: one pending row per configured shift change; rows of times no longer configured
    dropped; idempotent. Also keeps what alert routing needs of the config (see roster_gaps)."""
    await roster_gaps.remember_config(s)
    want = handover.change_times(s)
    async with s.uow() as tx:
        stages = {stage for _kind, stage in await deadlines.pending_recurring(tx.conn, [rules.HANDOVER])}
        for stage in stages:
            if handover.schedule_of(stage) not in want:
                await deadlines.cancel(tx.conn, rules.HANDOVER, handover.RECURRING_REF, tx.now, stage)
        pending = {handover.schedule_of(stage) for stage in stages}
        for line in want:
            if line not in pending:
                await tx.add_deadline(rules.HANDOVER, handover.RECURRING_REF, handover.next_at(s, tx.now, line), line)


def register(s: Services, on: On) -> None:
    """The shift change's handover draft asks for 交班 now and 接班 within takeover_within: once that
    has passed (the bot was down through it) it is not sent, no takeover is checked, and the next
    change is planted (`handover.skip`)."""
    for kind, fn in handover.HANDLERS.items():
        if kind == rules.HANDOVER:
            on(kind, partial(fn, s), warns_of=partial(handover.takeover_due, s), outdated=partial(handover.skip, s))
        else:
            on(kind, partial(fn, s))
