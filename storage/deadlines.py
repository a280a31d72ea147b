"""The deadline table: one row per reminder or due check; fired exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


@dataclass(frozen=True)
class Deadline:
    id: int
    kind: str
    ref_id: int
    stage: str
    due_at: datetime
    payload: dict[str, Any]


def _row(r: Row) -> Deadline:
    due = from_db(r["due_at"])
    assert due is not None
    return Deadline(r["id"], r["kind"], r["ref_id"], r["stage"], due, json.loads(r["payload"]))


async def add(
    conn: Conn, kind: str, ref_id: int, due_at: datetime, stage: str = "",
    payload: dict[str, Any] | None = None,
) -> int:
    return await insert_id(conn,
        "INSERT INTO deadlines(kind, ref_id, stage, due_at, payload) VALUES (?,?,?,?,?)",
        (kind, ref_id, stage, to_db(due_at), json.dumps(payload or {}, ensure_ascii=False)),
    )


async def add_many(conn: Conn, rows: Sequence[tuple[str, int, datetime, str]]) -> None:
    """(kind, ref_id, due_at, stage) rows without payload, in one statement."""
    await conn.executemany(
        "INSERT INTO deadlines(kind, ref_id, stage, due_at, payload) VALUES (?,?,?,?,'{}')",
        [(kind, ref_id, stage, to_db(due_at)) for kind, ref_id, due_at, stage in rows],
    )


async def due(conn: Conn, now: datetime, limit: int = 500) -> list[Deadline]:
    async with conn.execute(
        "SELECT * FROM deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= ? "
        "ORDER BY due_at, id LIMIT ?",
        (to_db(now), limit),
    ) as cur:
        return [_row(r) for r in await cur.fetchall()]


async def due_after(conn: Conn, d: Deadline, now: datetime) -> list[Deadline]:
    """Pending rows of `d`'s kind and reference planned after it and due by `now` (a later reminder)."""
    async with conn.execute(
        "SELECT * FROM deadlines WHERE kind=? AND ref_id=? AND fired_at IS NULL AND cancelled_at IS NULL "
        "AND due_at <= ? AND (due_at > ? OR (due_at = ? AND id > ?)) ORDER BY due_at, id",
        (d.kind, d.ref_id, to_db(now), to_db(d.due_at), to_db(d.due_at), d.id),
    ) as cur:
        return [_row(r) for r in await cur.fetchall()]


async def next_due_at(conn: Conn) -> datetime | None:
    async with conn.execute(
        "SELECT min(due_at) FROM deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL"
    ) as cur:
        row = await cur.fetchone()
    return from_db(row[0]) if row else None


async def claim(conn: Conn, deadline_id: int, now: datetime) -> bool:
    """Mark fired; True only once per row, so a deadline's effects happen once."""
    cur = await conn.execute(
        "UPDATE deadlines SET fired_at=? WHERE id=? AND fired_at IS NULL AND cancelled_at IS NULL",
        (to_db(now), deadline_id),
    )
    return cur.rowcount == 1


async def cancel(
    conn: Conn, kind: str, ref_id: int, now: datetime, stage: str | None = None
) -> int:
    sql = "UPDATE deadlines SET cancelled_at=? WHERE kind=? AND ref_id=? AND fired_at IS NULL AND cancelled_at IS NULL"
    params: list[object] = [to_db(now), kind, ref_id]
    if stage is not None:
        sql += " AND stage=?"
        params.append(stage)
    cur = await conn.execute(sql, params)
    return cur.rowcount


async def fired_count(conn: Conn, kind: str | None = None) -> int:
    sql = "SELECT count(*) FROM deadlines WHERE fired_at IS NOT NULL"
    params: tuple[object, ...] = ()
    if kind:
        sql += " AND kind=?"
        params = (kind,)
    async with conn.execute(sql, params) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def is_pending(conn: Conn, kind: str, ref_id: int, stage: str) -> bool:
    """Is a row of this kind, thing and stage still waiting to fire?"""
    async with conn.execute(
        "SELECT 1 FROM deadlines WHERE kind=? AND ref_id=? AND stage=? AND fired_at IS NULL AND cancelled_at IS NULL",
        (kind, ref_id, stage),
    ) as cur:
        return await cur.fetchone() is not None


async def pending_recurring(conn: Conn, kinds: Iterable[str]) -> list[tuple[str, str]]:
    """(kind, stage) of the pending rows of these kinds in the deadline table."""
    ks = list(kinds)
    marks = ",".join("?" * len(ks))
    async with conn.execute(
        f"SELECT kind, stage FROM deadlines WHERE kind IN ({marks}) AND fired_at IS NULL AND cancelled_at IS NULL",
        ks,
    ) as cur:
        return [(r[0], r[1]) for r in await cur.fetchall()]
