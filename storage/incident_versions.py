"""Every version of an incident's facts (incident_versions): appended, never updated."""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain.fact_versions import Facts, Version
from storage.conn import Conn, Row
from storage.db import from_db, to_db


def _version(r: Row) -> Version:
    at = from_db(r["at"])
    assert at is not None
    return Version(r["no"], at, r["actor_id"], r["via"], Facts.from_json(json.loads(r["facts"])))


async def of(conn: Conn, incident_id: int) -> list[Version]:
    rows = await conn.execute_fetchall(
        "SELECT * FROM incident_versions WHERE incident_id=? ORDER BY no", (incident_id,))
    return [_version(r) for r in rows]


async def latest(conn: Conn, incident_id: int) -> Version | None:
    rows = list(await conn.execute_fetchall(
        "SELECT * FROM incident_versions WHERE incident_id=? ORDER BY no DESC LIMIT 1", (incident_id,)))
    return _version(rows[0]) if rows else None


async def add(conn: Conn, incident_id: int, facts: Facts, actor_id: int | None, via: str,
              now: datetime) -> int:
    """The next version (number taken in the same statement); its number."""
    await conn.execute(
        "INSERT INTO incident_versions(incident_id, no, at, actor_id, via, facts) "
        "SELECT ?, coalesce(max(no), 0) + 1, ?, ?, ?, ? FROM incident_versions WHERE incident_id=?",
        (incident_id, to_db(now), actor_id, via, json.dumps(facts.to_json(), ensure_ascii=False), incident_id),
    )
    rows = list(await conn.execute_fetchall("SELECT max(no) FROM incident_versions WHERE incident_id=?",
                                            (incident_id,)))
    return int(rows[0][0])


async def counts(conn: Conn, incident_ids: list[int]) -> dict[int, int]:
    if not incident_ids:
        return {}
    marks = ",".join("?" * len(incident_ids))
    rows = await conn.execute_fetchall(
        f"SELECT incident_id, count(*) FROM incident_versions WHERE incident_id IN ({marks}) GROUP BY incident_id",
        incident_ids)
    return {r[0]: r[1] for r in rows}


async def in_window(conn: Conn, start: datetime, end: datetime) -> list[tuple[int, Version]]:
    """(incident_id, version) of every version of the incidents created in [start, end) — the export."""
    rows = await conn.execute_fetchall(
        "SELECT v.* FROM incident_versions v JOIN incidents i ON i.id = v.incident_id "
        "WHERE i.created_at >= ? AND i.created_at < ? ORDER BY v.incident_id, v.no", (to_db(start), to_db(end)))
    return [(r["incident_id"], _version(r)) for r in rows]
