"""The outbox table: messages committed with the change that caused them, sent later."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.conn import Conn, Row
from storage.db import to_db

SEND_MESSAGE = "send_message"
SEND_LOCATION = "send_location"
SEND_PHOTO = "send_photo"
SEND_DOCUMENT = "send_document"
EDIT_TEXT = "edit_message_text"
EDIT_MARKUP = "edit_message_reply_markup"
PIN = "pin_chat_message"

_PER_INSERT = 500  # rows per multi-row INSERT: 3,500 parameters, well under SQLite's limit


@dataclass(frozen=True)
class OutboxRow:
    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    ref_kind: str | None
    ref_id: int | None
    tag: str | None
    attempts: int
    not_before: float
    message_id: int | None = None


async def enqueue_many(
    conn: Conn,
    chat_ids: Sequence[int],
    *,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    ref_kind: str | None = None,
    ref_id: int | None = None,
    tag: str | None = None,
) -> list[OutboxRow]:
    """The same message to several chats in one INSERT: one trip to the database thread, not one per chat."""
    text, at = json.dumps(payload, ensure_ascii=False), to_db(now)
    out: list[OutboxRow] = []
    for start in range(0, len(chat_ids), _PER_INSERT):
        chunk = chat_ids[start:start + _PER_INSERT]
        marks = ",".join(["(?,?,?,?,?,?,?)"] * len(chunk))
        params = [v for c in chunk for v in (c, method, text, ref_kind, ref_id, tag, at)]
        ids = sorted(r[0] for r in await conn.execute_fetchall(
            f"INSERT INTO outbox(chat_id, method, payload, ref_kind, ref_id, tag, created_at) VALUES {marks}"
            " RETURNING id", params,
        ))
        # One statement inside the writer's transaction: its new ids are consecutive, in VALUES order.
        out += [OutboxRow(i, c, method, payload, ref_kind, ref_id, tag, 0, 0.0)
                for i, c in zip(ids, chunk, strict=True)]
    return out


def _row(r: Row) -> OutboxRow:
    return OutboxRow(
        id=r["id"], chat_id=r["chat_id"], method=r["method"], payload=json.loads(r["payload"]),
        ref_kind=r["ref_kind"], ref_id=r["ref_id"], tag=r["tag"], attempts=r["attempts"],
        not_before=r["not_before"], message_id=r["message_id"],
    )


async def pending(conn: Conn, limit: int = 500, urgent: tuple[str, ...] = ()) -> list[OutboxRow]:
    """Rows to send: those about the `urgent` ref kinds first, then in the order queued."""
    marks = ",".join("?" * len(urgent)) or "NULL"
    rows = await conn.execute_fetchall(
        f"SELECT * FROM outbox WHERE status='pending' ORDER BY CASE WHEN ref_kind IN ({marks}) THEN 0 ELSE 1 END, id"
        " LIMIT ?",
        (*urgent, limit),
    )
    return [_row(r) for r in rows]


async def sent_messages(
    conn: Conn, ref_kind: str, ref_id: int, tag: str
) -> list[OutboxRow]:
    """Messages already delivered for a thing (e.g. every alert of an incident), to edit them."""
    async with conn.execute(
        "SELECT * FROM outbox WHERE ref_kind=? AND ref_id=? AND tag=? AND method=? ORDER BY id",
        (ref_kind, ref_id, tag, SEND_MESSAGE),
    ) as cur:
        return [_row(r) for r in await cur.fetchall()]


async def message_id_of(conn: Conn, outbox_id: int) -> tuple[str, int | None]:
    # One trip, the statement run to its end: a cursor left open between trips would hold the
    # reader connection's snapshot for every read interleaved there (the sender's pass among them).
    rows = list(await conn.execute_fetchall("SELECT status, message_id FROM outbox WHERE id=?", (outbox_id,)))
    return (rows[0][0], rows[0][1]) if rows else ("failed", None)


async def chat_of(conn: Conn, outbox_id: int) -> int | None:
    rows = list(await conn.execute_fetchall("SELECT chat_id FROM outbox WHERE id=?", (outbox_id,)))
    return int(rows[0][0]) if rows else None


async def mark_sent(conn: Conn, outbox_id: int, message_id: int | None, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET status='sent', sent_at=?, message_id=?, attempts=attempts+1 WHERE id=?",
        (to_db(now), message_id, outbox_id),
    )


async def mark_retry(conn: Conn, outbox_id: int, not_before: float, error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET attempts=attempts+1, not_before=?, error=? WHERE id=?",
        (not_before, error[:500], outbox_id),
    )


async def retarget(conn: Conn, old_chat_id: int, new_chat_id: int) -> int:
    """Messages not yet delivered to a chat that changed its id go to the new one."""
    cur = await conn.execute("UPDATE outbox SET chat_id=? WHERE chat_id=? AND status='pending'",
                             (new_chat_id, old_chat_id))
    return cur.rowcount


async def mark_failed(conn: Conn, outbox_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET status='failed', attempts=attempts+1, error=? WHERE id=?", (error[:500], outbox_id)
    )


async def cancel_pending(conn: Conn, ref_kind: str, ref_id: int, tag: str, reason: str) -> int:
    """The messages of `tag` about a thing still waiting (held by a retry): not sent any more. Their table
    knows no 'cancelled' status, so they are 'failed' with `reason` (which should say "cancelled: …"), not
    deleted. How many."""
    cur = await conn.execute(
        "UPDATE outbox SET status='failed', error=? WHERE ref_kind=? AND ref_id=? AND tag=? AND status='pending'",
        (reason[:500], ref_kind, ref_id, tag))
    return cur.rowcount


async def counts(conn: Conn) -> dict[str, int]:
    async with conn.execute("SELECT status, count(*) FROM outbox GROUP BY status") as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}
