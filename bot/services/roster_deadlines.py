"""The roster's time, kept as rows of the deadline table: the daily handover reminder
(recurring: its next occurrence is planted in the same transaction as its messages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from bot.domain import roster as rules
from bot.fmt import esc
from bot.services import roster_gaps
from bot.services.base import Services
from bot.services.roster import roster_rules
from storage import deadlines, members, roster
from storage.deadlines import Deadline
from storage.uow import Tx

RECURRING_REF = 0


def next_handover(s: Services, after: datetime) -> datetime | None:
    """The first handover moment strictly after `after`."""
    r = roster_rules(s)
    if r.handover is None:
        return None
    local = after.astimezone(r.tz)
    at = datetime.combine(local.date(), r.handover, r.tz)
    while at <= after:
        at = datetime.combine(at.date() + timedelta(days=1), r.handover, r.tz)
    return at


async def ensure_recurring(s: Services) -> None:
    """At start-up: one pending handover row for the configured time; idempotent. Also keeps
    what alert routing needs of the config (see roster_gaps)."""
    await roster_gaps.remember_config(s)
    want = s.config.roster.handover
    async with s.uow() as tx:
        pending = [stage for _kind, stage in await deadlines.pending_recurring(tx.conn, [rules.HANDOVER])]
        for stage in set(pending) - {want}:
            await deadlines.cancel(tx.conn, rules.HANDOVER, RECURRING_REF, tx.now, stage)
        at = next_handover(s, tx.now)
        if want and want not in pending and at is not None:
            await tx.add_deadline(rules.HANDOVER, RECURRING_REF, at, want)


async def handover_items(s: Services, tx: Tx) -> list[str]:
    """Open incidents and notices still waiting for receipts: what the outgoing hand over."""
    lines: list[str] = []
    async with tx.conn.execute(
        "SELECT number, unit_code, category, created_at FROM incidents WHERE status='open' ORDER BY id"
    ) as cur:
        for r in await cur.fetchall():
            lines.append(s.texts("roster.handover_incident", number=r["number"], unit=esc(s.unit_name(r["unit_code"])),
                                 category=s.texts(f"incident.cat.{r['category']}")))
    async with tx.conn.execute(
        "SELECT n.id, n.title, count(*) AS missing FROM notices n JOIN notice_recipients r ON r.notice_id = n.id "
        "WHERE n.receipt_required = 1 AND n.finished_at IS NULL AND r.acked_at IS NULL "
        "GROUP BY n.id ORDER BY n.id"
    ) as cur:
        for r in await cur.fetchall():
            lines.append(s.texts("roster.handover_notice", title=esc(r["title"]), missing=r["missing"]))
    return lines


async def handover(s: Services, tx: Tx, d: Deadline) -> None:
    """At the handover time: tell the outgoing and incoming officers what is still open."""
    nxt = next_handover(s, max(d.due_at, tx.now))
    if nxt is not None and d.stage == s.config.roster.handover:
        await tx.add_deadline(rules.HANDOVER, RECURRING_REF, nxt, d.stage)
    at = d.due_at
    slots = await roster.ending_or_covering(tx.conn, at)
    outgoing, incoming = rules.handover_pairs(slots, at)
    if not outgoing and not incoming:
        return
    names = {m.id: m.name for m in await members.all_members(tx.conn)}
    sep = s.texts("core.list_sep")
    items = await handover_items(s, tx)
    text = s.texts(
        "roster.handover", time=s.fmt.dt(at),
        outgoing=esc(sep.join(names.get(x.member_id, "?") for x in outgoing)) or s.texts("roster.nobody"),
        incoming=esc(sep.join(names.get(x.member_id, "?") for x in incoming)) or s.texts("roster.nobody"),
        items="\n".join(items) if items else s.texts("roster.handover_nothing"),
    )
    told: set[int] = set()
    for slot in outgoing + incoming:
        if slot.member_id in told:
            continue
        told.add(slot.member_id)
        m = await members.by_id(tx.conn, slot.member_id)
        if m is not None and m.active:
            await tx.send_text(m.telegram_id, text, ref_kind="roster", ref_id=0, tag="handover")


HANDLERS = {rules.HANDOVER: handover}


def register(s: Services, on: Callable[[str, Callable[[Tx, Deadline], Awaitable[None]]], None]) -> None:
    for kind, fn in HANDLERS.items():
        on(kind, partial(fn, s))

