"""The office's forward clocks to the city (incident_forwards): one per stage received."""

from __future__ import annotations

from datetime import datetime

from bot.domain.accountability import ForwardClock
from bot.domain.reporting_bulletin import ClockRow
from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


def _clock(r: Row) -> ForwardClock:
    started = from_db(r["started_at"])
    assert started is not None
    return ForwardClock(r["id"], r["incident_id"], r["stage"], started, from_db(r["forwarded_at"]),
                        r["forwarded_by"], from_db(r["breached_at"]))


async def start(conn: Conn, incident_id: int, stage: str, at: datetime) -> int:
    return await insert_id(conn,"INSERT INTO incident_forwards(incident_id, stage, started_at) VALUES (?,?,?)",
                             (incident_id, stage, to_db(at)))


async def get(conn: Conn, clock_id: int) -> ForwardClock | None:
    rows = list(await conn.execute_fetchall("SELECT * FROM incident_forwards WHERE id=?", (clock_id,)))
    return _clock(rows[0]) if rows else None


async def of(conn: Conn, incident_id: int) -> list[ForwardClock]:
    rows = await conn.execute_fetchall("SELECT * FROM incident_forwards WHERE incident_id=? ORDER BY id",
                                       (incident_id,))
    return [_clock(r) for r in rows]


async def first_of(conn: Conn, incident_id: int) -> ForwardClock | None:
    """The clock of the first report (what the alert's 已上报市委 button stops)."""
    rows = list(await conn.execute_fetchall(
        "SELECT * FROM incident_forwards WHERE incident_id=? ORDER BY id LIMIT 1", (incident_id,)))
    return _clock(rows[0]) if rows else None


async def of_incidents(conn: Conn, incident_ids: list[int]) -> dict[int, list[ForwardClock]]:
    if not incident_ids:
        return {}
    marks = ",".join("?" * len(incident_ids))
    out: dict[int, list[ForwardClock]] = {}
    for r in await conn.execute_fetchall(
            f"SELECT * FROM incident_forwards WHERE incident_id IN ({marks}) ORDER BY id", incident_ids):
        out.setdefault(r["incident_id"], []).append(_clock(r))
    return out


async def forward(conn: Conn, clock_id: int, member_id: int, now: datetime) -> bool:
    """Stop the clock; False when someone already did (a double tap forwards once)."""
    cur = await conn.execute(
        "UPDATE incident_forwards SET forwarded_at=?, forwarded_by=? WHERE id=? AND forwarded_at IS NULL",
        (to_db(now), member_id, clock_id))
    return cur.rowcount == 1


async def breach(conn: Conn, clock_id: int, now: datetime) -> bool:
    """The clock ran out without a forward; True once."""
    cur = await conn.execute(
        "UPDATE incident_forwards SET breached_at=? WHERE id=? AND forwarded_at IS NULL AND breached_at IS NULL",
        (to_db(now), clock_id))
    return cur.rowcount == 1


async def unbreach(conn: Conn, clock_id: int) -> None:
    """The breach was recorded before a forward pressed in time was handled: it does not hold."""
    await conn.execute("UPDATE incident_forwards SET breached_at=NULL WHERE id=?", (clock_id,))


async def rows(conn: Conn, start: datetime, end: datetime) -> list[ClockRow]:
    """Clocks started in [start, end) with their incidents' units and numbers (the 通报)."""
    found = await conn.execute_fetchall(
        "SELECT f.*, i.unit_code, i.number FROM incident_forwards f JOIN incidents i ON i.id = f.incident_id "
        "WHERE f.started_at >= ? AND f.started_at < ? ORDER BY f.started_at, f.id", (to_db(start), to_db(end)))
    out = []
    for r in found:
        c = _clock(r)
        out.append(ClockRow(r["unit_code"], r["number"], c.stage, c.started_at, c.forwarded_at,
                            c.breached_at is not None))
    return out
