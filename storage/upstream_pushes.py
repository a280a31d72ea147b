"""Incident changes waiting to be pushed to an upstream system ([upstream] webhook_url), and the outcome
of each push. Rows are written in the incident change's transaction; bot/upstream.py sends them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.conn import Conn
from storage.db import to_db


@dataclass(frozen=True)
class Push:
    id: int
    incident_id: int
    event: str


async def queue(conn: Conn, incident_id: int, event: str, now: datetime) -> None:
    await conn.execute("INSERT INTO upstream_pushes(incident_id, event, created_at) VALUES (?,?,?)",
                       (incident_id, event, to_db(now)))


async def pending(conn: Conn) -> list[Push]:
    """Oldest first. Read on `db.read` (committed rows only): nothing a transaction may roll back is pushed."""
    rows = await conn.execute_fetchall(
        "SELECT id, incident_id, event FROM upstream_pushes WHERE status='pending' ORDER BY id")
    return [Push(r["id"], r["incident_id"], r["event"]) for r in rows]


async def record(conn: Conn, push_id: int, ok: bool, attempts: int, error: str | None,
                 now: datetime) -> None:
    await conn.execute("UPDATE upstream_pushes SET status=?, attempts=?, last_error=?, done_at=? WHERE id=?",
                       ("sent" if ok else "failed", attempts, error, to_db(now), push_id))
