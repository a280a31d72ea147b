"""Findings the rules record as they happen (迟报, 漏报), and the start of the office's forward
clocks: called inside the transaction of the event that causes them. Storage and domain only,
so every incident use case can call it."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import incidents as rules
from bot.domain.accountability import MarkKind, plan_forward, whole_minutes
from bot.domain.incidents import Incident, Stage
from bot.services.base import Services
from storage import incident_forwards, incident_marks
from storage.uow import Tx


async def start_clock(s: Services, tx: Tx, incident_id: int, stage: str, at: datetime) -> int:
    """A forward clock for `stage`, received at `at`, with its reminder and its breach check."""
    clock_id = await incident_forwards.start(tx.conn, incident_id, stage, at)
    for check in plan_forward(at, tx.now, s.policy.forward_remind, s.policy.forward_target):
        kind = rules.FORWARD_REMIND if check.kind == "remind" else rules.FORWARD_DUE
        await tx.add_deadline(kind, incident_id, check.due_at, str(clock_id))
    return clock_id


async def overdue(tx: Tx, inc: Incident, stage: Stage) -> None:
    """At a stage's deadline, not filed: 迟报 on record (how late is known once it is filed)."""
    await incident_marks.add(tx.conn, inc.id, inc.unit_code, MarkKind.LATE, tx.now, stage=stage.value)


async def filed(tx: Tx, inc: Incident, stage: Stage, delay: timedelta | None) -> None:
    """A stage filed: if after its deadline, 迟报 by this much (recorded now if the deadline's
    check had not already)."""
    if delay is None:
        return
    await incident_marks.add(tx.conn, inc.id, inc.unit_code, MarkKind.LATE, tx.now, stage=stage.value)
    await incident_marks.set_minutes(tx.conn, inc.id, MarkKind.LATE, stage.value, whole_minutes(delay))


async def withdrawn(tx: Tx, inc: Incident, stage: Stage) -> None:
    """The stage was sent before its deadline after all (handled late): no 迟报 on record for it."""
    await incident_marks.withdraw(tx.conn, inc.id, MarkKind.LATE, stage.value)


async def closed(tx: Tx, inc: Incident, missed: list[Stage]) -> None:
    """Stages never filed at closing: 漏报 — one finding per stage (a 迟报 on record becomes it)."""
    for stage in missed:
        if not await incident_marks.late_to_missed(tx.conn, inc.id, stage.value, tx.now):
            await incident_marks.add(tx.conn, inc.id, inc.unit_code, MarkKind.MISSED, tx.now, stage=stage.value)
