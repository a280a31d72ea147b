"""The weekly look at the holiday calendar: when a coming year is described by neither
`chinese-calendar` nor [calendar] in the config, the admins are told to enter the State
Council's notice — until then the holiday rule cannot see that year's holidays and return
days count Monday to Friday. Recurring: the next look is planted with the current one."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from bot.domain import cron
from bot.domain.holidays import CHECK
from bot.domain.members import Role
from bot.fmt import one_line
from bot.services.base import Services
from storage import deadlines, members
from storage.deadlines import Deadline
from storage.uow import Tx

log = logging.getLogger(__name__)

RECURRING_REF = 0


def missing_years(s: Services, tx: Tx) -> list[int]:
    today = tx.now.astimezone(s.config.tz).date()
    return s.calendar.missing_years(today, s.config.calendar.warn_ahead)


async def ensure_recurring(s: Services) -> None:
    """At start-up: one pending look at the configured weekly time; idempotent."""
    want = s.config.calendar.check
    async with s.uow() as tx:
        pending = [stage for _kind, stage in await deadlines.pending_recurring(tx.conn, [CHECK])]
        for stage in pending:
            if _line(stage) != want:
                await deadlines.cancel(tx.conn, CHECK, RECURRING_REF, tx.now, stage)
        if want not in map(_line, pending):
            await tx.add_deadline(CHECK, RECURRING_REF, _next(s, want, tx.now), want)
        if years := missing_years(s, tx):  # the operator's log, in the configured language like the admins' message
            listed = s.texts("core.list_sep").join(map(str, years))
            log.warning(one_line(s.texts("leave.calendar_missing", years=listed)))


def _line(stage: str) -> str:
    """A row's crontab line (rows planted before the crontab notation say "mon 09:00")."""
    return cron.legacy(stage) or stage


def _next(s: Services, line: str, after: datetime) -> datetime:
    return cron.parse(line).after(after, s.config.tz).astimezone(UTC)


async def check(s: Services, tx: Tx, d: Deadline) -> None:
    if (want := s.config.calendar.check) == _line(d.stage):
        await tx.add_deadline(CHECK, RECURRING_REF, _next(s, want, max(d.due_at, tx.now)), want)
    years = missing_years(s, tx)
    if not years:
        return
    text = s.texts("leave.calendar_missing", years=s.texts("core.list_sep").join(str(y) for y in years))
    for m in await members.with_roles(tx.conn, [Role.ADMIN]):
        await tx.send_text(m.telegram_id, text, ref_kind="calendar", ref_id=0, tag="missing")


HANDLERS = {CHECK: check}


def register(s: Services, on: Callable[[str, Callable[[Tx, Deadline], Awaitable[None]]], None]) -> None:
    for kind, fn in HANDLERS.items():
        on(kind, partial(fn, s))
