"""Findings against incidents (incident_marks) and the directors' notes on them."""

from __future__ import annotations

from datetime import datetime

from bot.domain.accountability import Mark, MarkKind, MarkRow, Note
from storage.conn import Conn
from storage.db import from_db, to_db


def _dt(text: str) -> datetime:
    at = from_db(text)
    assert at is not None
    return at


async def _notes(conn: Conn, mark_ids: list[int]) -> dict[int, list[Note]]:
    if not mark_ids:
        return {}
    marks = ",".join("?" * len(mark_ids))
    out: dict[int, list[Note]] = {}
    for r in await conn.execute_fetchall(
            f"SELECT * FROM incident_mark_notes WHERE mark_id IN ({marks}) ORDER BY id", mark_ids):
        out.setdefault(r["mark_id"], []).append(Note(r["text"], _dt(r["at"]), r["by_id"]))
    return out


async def of(conn: Conn, incident_id: int) -> list[Mark]:
    rows = list(await conn.execute_fetchall(
        "SELECT * FROM incident_marks WHERE incident_id=? ORDER BY id", (incident_id,)))
    notes = await _notes(conn, [r["id"] for r in rows])
    return [Mark(r["id"], r["incident_id"], r["unit_code"], MarkKind(r["kind"]), r["stage"], r["minutes"],
                 r["reason"], _dt(r["at"]), r["by_id"], r["ref"], tuple(notes.get(r["id"], ())))
            for r in rows]


async def get(conn: Conn, mark_id: int) -> Mark | None:
    rows = list(await conn.execute_fetchall("SELECT incident_id FROM incident_marks WHERE id=?", (mark_id,)))
    if not rows:
        return None
    return next((m for m in await of(conn, rows[0][0]) if m.id == mark_id), None)


async def add(conn: Conn, incident_id: int, unit_code: str, kind: MarkKind, now: datetime, *,
              stage: str = "", ref: int = 0, minutes: int | None = None, reason: str = "",
              by_id: int | None = None) -> bool:
    """Record the finding; False when it is on record already (each kind once per stage and clock)."""
    cur = await conn.execute(
        "INSERT INTO incident_marks(incident_id, unit_code, kind, stage, ref, minutes, reason, at, by_id) "
        "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        (incident_id, unit_code, kind.value, stage, ref, minutes, reason, to_db(now), by_id),
    )
    return cur.rowcount == 1


async def set_minutes(conn: Conn, incident_id: int, kind: MarkKind, stage: str, minutes: int,
                      ref: int = 0) -> None:
    """How late it finally was (a 迟报 recorded at the deadline, then filed; 超时上报, then forwarded)."""
    await conn.execute(
        "UPDATE incident_marks SET minutes=? WHERE incident_id=? AND kind=? AND stage=? AND ref=?",
        (minutes, incident_id, kind.value, stage, ref),
    )


async def withdraw(conn: Conn, incident_id: int, kind: MarkKind, stage: str,
                   ref: int | None = None) -> None:
    """A finding that turned out not to hold (a 迟报 whose answer was sent in time; a 超时上报 of clock
    `ref` forwarded in time), with its notes."""
    where = "incident_id=? AND kind=? AND stage=?" + ("" if ref is None else " AND ref=?")
    args = (incident_id, kind.value, stage, *(() if ref is None else (ref,)))
    await conn.execute(
        f"DELETE FROM incident_mark_notes WHERE mark_id IN (SELECT id FROM incident_marks WHERE {where})", args)
    await conn.execute(f"DELETE FROM incident_marks WHERE {where}", args)


async def late_to_missed(conn: Conn, incident_id: int, stage: str, now: datetime) -> bool:
    """At closing, a stage recorded 迟报 and never filed is 漏报 (one finding, not two; its notes stay)."""
    cur = await conn.execute(
        "UPDATE incident_marks SET kind='missed', minutes=NULL, at=? WHERE incident_id=? AND kind='late' AND stage=?",
        (to_db(now), incident_id, stage),
    )
    return cur.rowcount == 1


async def add_note(conn: Conn, mark_id: int, text: str, by_id: int, now: datetime) -> None:
    await conn.execute("INSERT INTO incident_mark_notes(mark_id, text, at, by_id) VALUES (?,?,?,?)",
                       (mark_id, text, to_db(now), by_id))


async def rows(conn: Conn, start: datetime, end: datetime) -> list[MarkRow]:
    """Marks recorded in [start, end), with their incident numbers and notes (the 通报, /stats)."""
    found = list(await conn.execute_fetchall(
        "SELECT m.*, i.number FROM incident_marks m JOIN incidents i ON i.id = m.incident_id "
        "WHERE m.at >= ? AND m.at < ? ORDER BY m.at, m.id", (to_db(start), to_db(end))))
    notes = await _notes(conn, [r["id"] for r in found])
    return [MarkRow(r["unit_code"], r["kind"], r["number"], r["stage"], r["minutes"], _dt(r["at"]),
                    tuple(n.text for n in notes.get(r["id"], ()))) for r in found]
