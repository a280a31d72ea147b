"""Roster slots (who holds which post of which shift of a duty day) and the days found empty."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from bot.domain.roster import LEADER, Slot
from storage.conn import Conn, Row
from storage.db import from_db, to_db


def _slot(r: Row) -> Slot:
    return Slot(day=date.fromisoformat(r["day"]), shift=r["shift"], post=r["post"], member_id=r["member_id"],
                starts_at=from_db(r["starts_at"]), ends_at=from_db(r["ends_at"]))  # type: ignore[arg-type]


async def replace_shift(conn: Conn, day: date, shift: str, slots: Iterable[Slot],
                        now: datetime, by: int | None) -> None:
    """The holders of one shift of one day become exactly `slots`."""
    await conn.execute("DELETE FROM roster_slots WHERE day=? AND shift=?", (day.isoformat(), shift))
    await conn.executemany(
        "INSERT INTO roster_slots(day, shift, post, member_id, starts_at, ends_at, updated_at, updated_by) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [(s.day.isoformat(), s.shift, s.post, s.member_id, to_db(s.starts_at), to_db(s.ends_at), to_db(now), by)
         for s in slots],
    )


async def clear_day(conn: Conn, day: date) -> None:
    await conn.execute("DELETE FROM roster_slots WHERE day=?", (day.isoformat(),))


async def between(conn: Conn, first: date, last: date) -> list[Slot]:
    async with conn.execute(
        "SELECT * FROM roster_slots WHERE day BETWEEN ? AND ? ORDER BY day, starts_at, post",
        (first.isoformat(), last.isoformat()),
    ) as cur:
        return [_slot(r) for r in await cur.fetchall()]


async def covering(conn: Conn, at: datetime) -> list[Slot]:
    """Every slot (officers and leader) whose window holds `at`."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM roster_slots WHERE starts_at <= ? AND ends_at > ? ORDER BY starts_at, post",
        (to_db(at), to_db(at)),
    )
    return [_slot(r) for r in rows]


async def ending_or_covering(conn: Conn, at: datetime) -> list[Slot]:
    """Slots that end exactly at `at` or hold it (for the handover)."""
    async with conn.execute(
        "SELECT * FROM roster_slots WHERE shift != ? AND starts_at <= ? AND ends_at >= ? ORDER BY starts_at, post",
        (LEADER, to_db(at), to_db(at)),
    ) as cur:
        return [_slot(r) for r in await cur.fetchall()]


async def note_gap(conn: Conn, day: date, now: datetime) -> bool:
    """Record that `day` had an alert and nobody rostered; True the first time that day."""
    cur = await conn.execute("INSERT INTO roster_gaps(day, found_at) VALUES (?,?) ON CONFLICT DO NOTHING",
                             (day.isoformat(), to_db(now)))
    return cur.rowcount > 0


async def mark_told(conn: Conn, day: date, now: datetime) -> None:
    await conn.execute("UPDATE roster_gaps SET told_at=? WHERE day=?", (to_db(now), day.isoformat()))


async def set_meta(conn: Conn, values: dict[str, str]) -> None:
    await conn.executemany("INSERT INTO roster_meta(key, value) VALUES (?,?) "
                           "ON CONFLICT(key) DO UPDATE SET value=excluded.value", list(values.items()))


async def meta(conn: Conn) -> dict[str, str]:
    return {r[0]: r[1] for r in await conn.execute_fetchall("SELECT key, value FROM roster_meta")}
