"""The duty log's written entries and photos, the handovers, and what reached the duty room by
itself (read from the incidents, notices and their events, never copied)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.duty_log import AutoKind, Handover, LogLine
from bot.domain.members import Role
from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    kind: str
    source: str
    content: str
    action: str
    pending: str
    pending_done_at: datetime | None
    author_id: int
    author: str
    photos: int = 0

    @property
    def open_pending(self) -> bool:
        return bool(self.pending) and self.pending_done_at is None


def _dt(v: str) -> datetime:
    d = from_db(v)
    assert d is not None
    return d


_ENTRY = ("SELECT l.*, m.name AS author, (SELECT count(*) FROM duty_log_photos p WHERE p.entry_id = l.id) AS photos "
          "FROM duty_log l JOIN members m ON m.id = l.author_id")


def _entry(r: Row) -> Entry:
    return Entry(id=r["id"], at=_dt(r["at"]), kind=r["kind"], source=r["source"], content=r["content"],
                 action=r["action"], pending=r["pending"], pending_done_at=from_db(r["pending_done_at"]),
                 author_id=r["author_id"], author=r["author"], photos=r["photos"])


async def add_entry(conn: Conn, *, at: datetime, kind: str, source: str, content: str, action: str,
                    pending: str, author_id: int, photos: Iterable[str], now: datetime) -> int:
    entry_id = await insert_id(
        conn, "INSERT INTO duty_log(at, kind, source, content, action, pending, author_id, created_at) "
        "VALUES (?,?,?,?,?,?,?,?)", (to_db(at), kind, source, content, action, pending, author_id, to_db(now)))
    await conn.executemany("INSERT INTO duty_log_photos(entry_id, file_id) VALUES (?,?)",
                           [(entry_id, f) for f in photos])
    return entry_id


async def entry(conn: Conn, entry_id: int) -> Entry | None:
    rows = list(await conn.execute_fetchall(f"{_ENTRY} WHERE l.id=?", (entry_id,)))
    return _entry(rows[0]) if rows else None


async def entries_between(conn: Conn, start: datetime, end: datetime) -> list[Entry]:
    rows = await conn.execute_fetchall(f"{_ENTRY} WHERE l.at >= ? AND l.at < ? ORDER BY l.at, l.id",
                                       (to_db(start), to_db(end)))
    return [_entry(r) for r in rows]


async def open_pending(conn: Conn) -> list[Entry]:
    rows = await conn.execute_fetchall(f"{_ENTRY} WHERE l.pending != '' AND l.pending_done_at IS NULL "
                                       "ORDER BY l.at, l.id")
    return [_entry(r) for r in rows]


async def mark_done(conn: Conn, entry_id: int, member_id: int, now: datetime) -> bool:
    cur = await conn.execute("UPDATE duty_log SET pending_done_at=?, pending_done_by=? WHERE id=? AND pending != '' "
                             "AND pending_done_at IS NULL", (to_db(now), member_id, entry_id))
    return cur.rowcount == 1


async def photos(conn: Conn, entry_id: int) -> list[str]:
    rows = await conn.execute_fetchall("SELECT file_id FROM duty_log_photos WHERE entry_id=? ORDER BY id", (entry_id,))
    return [r[0] for r in rows]


# --- what reached the duty room by itself ---------------------------------------------------


async def automatic(conn: Conn, start: datetime, end: datetime) -> list[LogLine]:
    """Incidents reported, escalations (迟报, 漏报, the forward reminder), forwards to the city office,
    and notices to or from the duty room, within [start, end)."""
    a, b = to_db(start), to_db(end)
    out: list[LogLine] = []
    for r in await conn.execute_fetchall(
        "SELECT i.id, i.number, i.unit_code, i.category, i.created_at, m.name AS reporter FROM incidents i "
        "JOIN members m ON m.id = i.reporter_id WHERE i.created_at >= ? AND i.created_at < ?", (a, b)):
        out.append(LogLine(_dt(r["created_at"]), AutoKind.INCIDENT, {
            "number": r["number"], "unit": r["unit_code"], "category": r["category"], "name": r["reporter"]}))
    for r in await conn.execute_fetchall(
        "SELECT i.number, i.unit_code, i.forwarded_at, m.name FROM incidents i LEFT JOIN members m "
        "ON m.id = i.forwarded_by WHERE i.forwarded_at >= ? AND i.forwarded_at < ?", (a, b)):
        out.append(LogLine(_dt(r["forwarded_at"]), AutoKind.FORWARDED, {
            "number": r["number"], "unit": r["unit_code"], "name": r["name"] or "?"}))
    for r in await conn.execute_fetchall(
        "SELECT e.at, e.kind, e.detail, i.number, i.unit_code FROM incident_events e JOIN incidents i "
        "ON i.id = e.incident_id WHERE e.kind IN ('late', 'missed', 'forward_reminded') AND e.at >= ? AND e.at < ?",
            (a, b)):
        detail = json.loads(r["detail"] or "{}")
        out.append(LogLine(_dt(r["at"]), AutoKind.ESCALATION, {
            "number": r["number"], "unit": r["unit_code"], "what": r["kind"], "stage": detail.get("stage", "")}))
    for r in await conn.execute_fetchall(
        "SELECT n.id, n.title, n.urgent, n.created_at, m.name AS sender FROM notices n JOIN members m "
        "ON m.id = n.sender_id WHERE n.created_at >= ? AND n.created_at < ? AND ("
        " EXISTS (SELECT 1 FROM member_roles r WHERE r.member_id = n.sender_id AND r.role = ?)"
        " OR EXISTS (SELECT 1 FROM notice_recipients nr JOIN member_roles r ON r.member_id = nr.member_id "
        "            WHERE nr.notice_id = n.id AND r.role = ?))", (a, b, Role.DUTY.value, Role.DUTY.value)):
        out.append(LogLine(_dt(r["created_at"]), AutoKind.NOTICE, {
            "id": r["id"], "title": r["title"], "urgent": bool(r["urgent"]), "name": r["sender"]}))
    for h in await handovers_between(conn, start, end):
        if h.handed_at is not None and start <= h.handed_at < end:
            out.append(LogLine(h.handed_at, AutoKind.HANDED, {"by": h.handed_by or 0, "notes": h.notes}))
        if h.taken_at is not None and start <= h.taken_at < end:
            out.append(LogLine(h.taken_at, AutoKind.TAKEN, {"by": h.taken_by or 0}))
    return sorted(out, key=lambda line: line.at)


async def unsigned_urgent_notices(conn: Conn) -> list[tuple[int, str, int, datetime | None]]:
    """Urgent notices still waiting for receipts: (id, title, how many have not signed, deadline)."""
    rows = await conn.execute_fetchall(
        "SELECT n.id, n.title, n.due_at, count(*) AS missing FROM notices n JOIN notice_recipients r "
        "ON r.notice_id = n.id WHERE n.urgent = 1 AND n.receipt_required = 1 AND n.finished_at IS NULL "
        "AND r.acked_at IS NULL GROUP BY n.id ORDER BY n.id")
    return [(r["id"], r["title"], r["missing"], from_db(r["due_at"])) for r in rows]


# --- handovers ----------------------------------------------------------------------------------


def _ids(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


def _handover(r: Row) -> Handover:
    return Handover(id=r["id"], at=_dt(r["at"]), outgoing=_ids(r["outgoing"]), incoming=_ids(r["incoming"]),
                    notes=r["notes"], handed_by=r["handed_by"], handed_at=from_db(r["handed_at"]),
                    taken_by=r["taken_by"], taken_at=from_db(r["taken_at"]), alerted_at=from_db(r["alerted_at"]))


async def create_handover(conn: Conn, at: datetime, outgoing: Iterable[int], incoming: Iterable[int],
                          now: datetime) -> Handover | None:
    """The row for the shift change at `at`; None if it already exists (fired once)."""
    rows = list(await conn.execute_fetchall(
        "INSERT INTO handovers(at, outgoing, incoming, created_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING"
        " RETURNING id", (to_db(at), ",".join(map(str, outgoing)), ",".join(map(str, incoming)), to_db(now))))
    return await handover(conn, int(rows[0][0])) if rows else None


async def waiting_to_be_taken(conn: Conn, member_id: int) -> list[Handover]:
    """Handovers not yet taken over with `member_id` among the incoming officers."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM handovers WHERE taken_at IS NULL AND ',' || incoming || ',' LIKE ? ORDER BY id",
        (f"%,{member_id},%",))
    return [_handover(r) for r in rows]


async def handover(conn: Conn, handover_id: int) -> Handover | None:
    rows = list(await conn.execute_fetchall("SELECT * FROM handovers WHERE id=?", (handover_id,)))
    return _handover(rows[0]) if rows else None


async def latest_handover(conn: Conn) -> Handover | None:
    rows = list(await conn.execute_fetchall("SELECT * FROM handovers ORDER BY id DESC LIMIT 1"))
    return _handover(rows[0]) if rows else None


async def handovers_between(conn: Conn, start: datetime, end: datetime) -> list[Handover]:
    """Handovers whose shift change, 交班 or 接班 falls within [start, end)."""
    a, b = to_db(start), to_db(end)
    rows = await conn.execute_fetchall(
        "SELECT * FROM handovers WHERE (at >= ? AND at < ?) OR (handed_at >= ? AND handed_at < ?) "
        "OR (taken_at >= ? AND taken_at < ?) ORDER BY at", (a, b, a, b, a, b))
    return [_handover(r) for r in rows]


async def add_notes(conn: Conn, handover_id: int, line: str) -> bool:
    """Appended while not yet handed over."""
    cur = await conn.execute("UPDATE handovers SET notes = CASE WHEN notes = '' THEN ? ELSE notes || ? END "
                             "WHERE id=? AND handed_at IS NULL", (line, "\n" + line, handover_id))
    return cur.rowcount == 1


async def set_handed(conn: Conn, handover_id: int, member_id: int, now: datetime) -> bool:
    cur = await conn.execute("UPDATE handovers SET handed_by=?, handed_at=? WHERE id=? AND handed_at IS NULL",
                             (member_id, to_db(now), handover_id))
    return cur.rowcount == 1


async def set_taken(conn: Conn, handover_id: int, member_id: int, now: datetime) -> bool:
    cur = await conn.execute("UPDATE handovers SET taken_by=?, taken_at=? WHERE id=? AND taken_at IS NULL",
                             (member_id, to_db(now), handover_id))
    return cur.rowcount == 1


async def set_alerted(conn: Conn, handover_id: int, now: datetime) -> bool:
    cur = await conn.execute("UPDATE handovers SET alerted_at=? WHERE id=? AND alerted_at IS NULL AND taken_at IS NULL",
                             (to_db(now), handover_id))
    return cur.rowcount == 1
