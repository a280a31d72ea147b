"""Answers given so far in a dialogue, committed at every step so a restart keeps them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import to_db


async def load(conn: aiosqlite.Connection, telegram_id: int, kind: str) -> dict[str, Any]:
    # execute_fetchall: one trip to the database thread (every dialogue step reads its draft).
    rows = list(await conn.execute_fetchall(
        "SELECT payload FROM drafts WHERE telegram_id=? AND kind=?", (telegram_id, kind)))
    return json.loads(rows[0][0]) if rows else {}


async def load_many(conn: aiosqlite.Connection, telegram_id: int, kinds: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Several of the person's drafts in one trip; a kind without a row maps to {}."""
    rows = await conn.execute_fetchall(
        f"SELECT kind, payload FROM drafts WHERE telegram_id=? AND kind IN ({','.join('?' * len(kinds))})",
        (telegram_id, *kinds))
    found = {str(r[0]): json.loads(r[1]) for r in rows}
    return {k: found.get(k, {}) for k in kinds}


async def save(conn: aiosqlite.Connection, telegram_id: int, kind: str, payload: dict[str, Any], now: datetime) -> None:
    await save_many(conn, telegram_id, {kind: payload}, now)


async def save_many(conn: aiosqlite.Connection, telegram_id: int, payloads: dict[str, dict[str, Any]],
                    now: datetime) -> None:
    """Several of the person's drafts (kind → payload) in one statement."""
    at = to_db(now)
    await conn.execute(
        "INSERT INTO drafts(telegram_id, kind, payload, updated_at) VALUES "
        + ",".join(["(?,?,?,?)"] * len(payloads))
        + " ON CONFLICT(telegram_id, kind) DO UPDATE SET payload=excluded.payload, updated_at=excluded.updated_at",
        [v for kind, payload in payloads.items() for v in (telegram_id, kind, json.dumps(payload, ensure_ascii=False), at)],
    )


async def drop(conn: aiosqlite.Connection, telegram_id: int, kind: str | None = None) -> None:
    if kind is None:
        await conn.execute("DELETE FROM drafts WHERE telegram_id=?", (telegram_id,))
    else:
        await conn.execute("DELETE FROM drafts WHERE telegram_id=? AND kind=?", (telegram_id, kind))


# A dialogue's draft once its last step committed: {"done_as": <id of what it made>}. Written in
# that step's own transaction and kept until the dialogue starts again, so the step pressed again
# after a crash (its commit made, the dialogue's end not yet saved) says it was done instead of
# doing it twice. (The report keeps its own marker, bot/services/incidents.py FILED.)
DONE = "done_as"


async def mark_done(conn: aiosqlite.Connection, telegram_id: int, kind: str, ref_id: int, now: datetime) -> None:
    await save(conn, telegram_id, kind, {DONE: ref_id}, now)


def done_as(payload: dict[str, Any]) -> int | None:
    ref = payload.get(DONE)
    return ref if isinstance(ref, int) else None
