"""The channel outbox (group robots, SMS) and members' phone numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.conn import Conn, Row
from storage.db import from_db, to_db

ROBOT, SMS = "robot", "sms"
CANCELLED = "cancelled:"  # the reason of a message not sent because what it asked for was done meanwhile


@dataclass(frozen=True)
class ChannelRow:
    id: int
    channel: str
    target: str
    member_id: int | None
    ref_kind: str
    ref_id: int
    tag: str
    payload: dict[str, Any]
    status: str
    attempts: int
    not_before: float
    error: str | None
    created_at: datetime | None
    sent_at: datetime | None


def _row(r: Row) -> ChannelRow:
    return ChannelRow(r["id"], r["channel"], r["target"], r["member_id"], r["ref_kind"], r["ref_id"], r["tag"],
                      json.loads(r["payload"]), r["status"], r["attempts"], r["not_before"], r["error"],
                      from_db(r["created_at"]), from_db(r["sent_at"]))


def member_target(member_id: int) -> str:
    return f"member:{member_id}"


async def enqueue(
    conn: Conn, channel: str, target: str, payload: dict[str, Any], now: datetime, *,
    member_id: int | None = None, ref_kind: str = "", ref_id: int = 0, tag: str = "",
) -> bool:
    """Queue one message; False when the same message (channel, recipient, thing, tag) is queued or sent already."""
    cur = await conn.execute(
        "INSERT INTO channel_outbox(channel, target, member_id, ref_kind, ref_id, tag, payload, created_at)"
        " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        (channel, target, member_id, ref_kind, ref_id, tag, json.dumps(payload, ensure_ascii=False), to_db(now)),
    )
    return cur.rowcount == 1


async def pending(conn: Conn, limit: int = 500) -> list[ChannelRow]:
    rows = await conn.execute_fetchall(
        "SELECT * FROM channel_outbox WHERE status='pending' ORDER BY id LIMIT ?", (limit,))
    return [_row(r) for r in rows]


async def mark_sent(conn: Conn, row_id: int, now: datetime) -> None:
    await conn.execute("UPDATE channel_outbox SET status='sent', sent_at=?, attempts=attempts+1, error=NULL "
                       "WHERE id=?", (to_db(now), row_id))


async def mark_retry(conn: Conn, row_id: int, not_before: float, error: str, *,
                     count: bool = True) -> None:
    await conn.execute("UPDATE channel_outbox SET attempts=attempts+?, not_before=?, error=? WHERE id=?",
                       (1 if count else 0, not_before, error[:500], row_id))


async def mark_failed(conn: Conn, row_id: int, error: str) -> None:
    await conn.execute("UPDATE channel_outbox SET status='failed', attempts=attempts+1, error=? WHERE id=?",
                       (error[:500], row_id))


async def mark_cancelled(conn: Conn, row_id: int, reason: str) -> None:
    """Not sent, and never will be: kept with its reason (the history of who was told what stays)."""
    await conn.execute("UPDATE channel_outbox SET status='cancelled', error=? WHERE id=? AND status='pending'",
                       (reason[:500], row_id))


async def cancel_pending(conn: Conn, ref_kind: str, ref_id: int, tag_prefix: str,
                         reason: str) -> int:
    """The messages about a thing still waiting (held by backoff or pace) whose tag starts with
    `tag_prefix`: cancelled, not deleted. How many."""
    cur = await conn.execute(
        "UPDATE channel_outbox SET status='cancelled', error=? WHERE ref_kind=? AND ref_id=? AND status='pending' "
        "AND substr(tag, 1, ?) = ?", (reason[:500], ref_kind, ref_id, len(tag_prefix), tag_prefix))
    return cur.rowcount


async def for_ref(conn: Conn, ref_kind: str, ref_id: int) -> list[ChannelRow]:
    rows = await conn.execute_fetchall(
        "SELECT * FROM channel_outbox WHERE ref_kind=? AND ref_id=? ORDER BY id", (ref_kind, ref_id))
    return [_row(r) for r in rows]


async def set_phone(conn: Conn, member_id: int, phone: str | None) -> bool:
    cur = await conn.execute("UPDATE members SET phone=? WHERE id=?", (phone, member_id))
    return cur.rowcount == 1


async def phones(conn: Conn, member_ids: list[int]) -> dict[int, str]:
    """The phone numbers of those members who have one and are active: a deactivated member is sent nothing."""
    if not member_ids:
        return {}
    marks = ",".join("?" * len(member_ids))
    rows = await conn.execute_fetchall(
        f"SELECT id, phone FROM members WHERE id IN ({marks}) AND active = 1 AND phone IS NOT NULL AND phone != ''",
        member_ids)
    return {r[0]: r[1] for r in rows}


async def telegram_deliveries(conn: Conn, ref_kind: str, ref_id: int,
                              tags: tuple[str, ...]) -> list[tuple[int, str, datetime | None]]:
    """(chat_id, status, sent_at) of the Telegram messages of these tags about a thing, in the order queued."""
    marks = ",".join("?" * len(tags))
    # The outbox's CHECK knows no 'cancelled': a row stopped by an acknowledgement is 'failed' with that reason.
    rows = await conn.execute_fetchall(
        f"SELECT chat_id, CASE WHEN status='failed' AND error LIKE '{CANCELLED}%' THEN 'cancelled' ELSE status END,"
        f" sent_at FROM outbox WHERE ref_kind=? AND ref_id=? AND tag IN ({marks}) "
        "AND method='send_message' ORDER BY id", (ref_kind, ref_id, *tags))
    return [(r[0], r[1], from_db(r[2])) for r in rows]
