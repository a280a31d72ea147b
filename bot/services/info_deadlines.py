"""The recurring times of routine information, kept as rows of the deadline table.

Each pending row is the next occurrence of one schedule (its `stage` is the crontab line,
e.g. "0 17 * * thu"; a row planted before, "thu 17:00", is read as the line it meant); when it
fires, its effects and the row for the following occurrence
commit together, so a restart loses nothing and a FakeClock drives it all in tests.
`ensure_recurring` plants the first rows at start-up and is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from bot.domain import cron
from bot.domain.cron import Crontab
from bot.domain.info import MONTHLY, RECURRING_KINDS, REMIND, WEEK_CLOSE, previous_month, quota_week
from bot.services import info as svc
from bot.services.base import Services
from reminders.kinds import On
from storage import deadlines
from storage.deadlines import Deadline
from storage.uow import Tx

log = logging.getLogger(__name__)
RECURRING_REF = 0


def schedules(s: Services) -> dict[tuple[str, str], Crontab]:
    """(kind, stage) → schedule, for every recurring row the current config wants pending."""
    pol = svc.quota_policy(s)
    out: dict[tuple[str, str], Crontab] = {(REMIND, str(r)): r for r in pol.reminders}
    out[(WEEK_CLOSE, str(pol.deadline))] = pol.deadline
    out[(MONTHLY, str(pol.bulletin))] = pol.bulletin
    return out


async def ensure_recurring(s: Services) -> None:
    """At start-up: plant the next occurrence of each schedule that has none pending; drop
    pending rows of schedules no longer configured. Running it twice changes nothing."""
    wanted = schedules(s)
    async with s.uow() as tx:
        rows = set(await deadlines.pending_recurring(tx.conn, RECURRING_KINDS))
        for kind, stage in rows:
            if (kind, _line(stage)) not in wanted:
                await deadlines.cancel(tx.conn, kind, RECURRING_REF, tx.now, stage)
        pending = {(kind, _line(stage)) for kind, stage in rows}
        for (kind, stage), sched in wanted.items():
            if (kind, stage) not in pending:
                await tx.add_deadline(kind, RECURRING_REF, _next(s, sched, tx.now), stage)


def _line(stage: str) -> str:
    """A row's schedule as a crontab line (rows planted before the crontab notation say "thu 17:00")."""
    return cron.legacy(stage) or stage


def _next(s: Services, sched: Crontab, after: datetime) -> datetime:
    return sched.after(after, s.config.tz).astimezone(UTC)


async def _plan_next(s: Services, tx: Tx, d: Deadline) -> None:
    """The following occurrence of the schedule that just fired (never one already past)."""
    stage = _line(d.stage)
    sched = schedules(s).get((d.kind, stage))
    if sched is None:
        return  # the config dropped this schedule
    if (d.kind, stage) in {(k, _line(st)) for k, st in await deadlines.pending_recurring(tx.conn, [d.kind])}:
        return
    await tx.add_deadline(d.kind, RECURRING_REF, _next(s, sched, max(d.due_at, tx.now)), stage)


async def _guarded(tx: Tx, what: str, effect: Callable[[], Awaitable[object]]) -> None:
    """Run `effect` under a savepoint: if it fails, its writes go but the next occurrence stays."""
    try:
        async with tx.savepoint("info_effect"):
            await effect()
    except Exception:
        log.exception("info: %s failed", what)


async def quota_reminder(s: Services, tx: Tx, d: Deadline) -> None:
    """Thursday 17:00 / Friday 12:00: the units still short of this week's quota are pinged."""
    await _plan_next(s, tx, d)
    await _guarded(tx, "quota reminder", partial(svc.remind_short_units, s, tx, await week_end(s, tx, d)))


async def week_end(s: Services, tx: Tx, d: Deadline) -> datetime:
    """What a quota reminder warns of: the weekly deadline. Fired after it (the bot was down), the
    scheduler drops the reminder and only plants the next occurrence (`_plan_next`)."""
    return quota_week(d.due_at, svc.quota_policy(s).deadline, s.config.tz)[1]


async def week_close(s: Services, tx: Tx, d: Deadline) -> None:
    """At the weekly deadline: record each unit's week; the short ones are kept as such."""
    await _plan_next(s, tx, d)
    await _guarded(tx, "week close", partial(svc.close_week, s, tx, d.due_at))


async def monthly_bulletin(s: Services, tx: Tx, d: Deadline) -> None:
    """On the 1st: last month's submissions, adoptions, scores and ranks to the directors."""
    await _plan_next(s, tx, d)
    year, month = previous_month(d.due_at, s.config.tz)
    await _guarded(tx, "monthly bulletin", partial(svc.send_bulletin, s, tx, year, month))


HANDLERS = {REMIND: quota_reminder, WEEK_CLOSE: week_close, MONTHLY: monthly_bulletin}


def register(s: Services, on: On) -> None:
    for kind, fn in HANDLERS.items():
        on(kind, partial(fn, s))
    on(REMIND, partial(quota_reminder, s), warns_of=partial(week_end, s), outdated=partial(_plan_next, s))


async def plant_now(s: Services, kind: str, stage: str, due_at: datetime) -> None:
    """An extra occurrence at `due_at` (the demo uses it to show a reminder without waiting a week)."""
    async with s.uow() as tx:
        await tx.add_deadline(kind, RECURRING_REF, due_at, stage)
