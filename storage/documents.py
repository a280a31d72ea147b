"""Documents (办文): registration, the routing's state changes (each conditional on the state it
leaves, so two presses at once cannot both win), files, the trail."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.documents import Classification, DocState, Document, Urgency
from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db

_SELECT = ("SELECT d.*, (SELECT count(*) FROM document_files f WHERE f.document_id = d.id) AS files "
           "FROM documents d")


def _dt(v: str) -> datetime:
    d = from_db(v)
    assert d is not None
    return d


def _doc(r: Row) -> Document:
    return Document(
        id=r["id"], number=r["number"], title=r["title"], issuer=r["issuer"], doc_no=r["doc_no"],
        classification=Classification(r["classification"]), urgency=Urgency(r["urgency"]),
        received_at=_dt(r["received_at"]), registered_by=r["registered_by"], registered_at=_dt(r["registered_at"]),
        state=DocState(r["state"]), summary=r["summary"], due_at=from_db(r["due_at"]), proposal=r["proposal"],
        proposed_by=r["proposed_by"], proposed_at=from_db(r["proposed_at"]), leader_id=r["leader_id"],
        handler_id=r["handler_id"], handler_unit=r["handler_unit"], assigned_by=r["assigned_by"],
        assigned_at=from_db(r["assigned_at"]), phone_at=from_db(r["phone_at"]), sign_due_at=from_db(r["sign_due_at"]),
        signed_at=from_db(r["signed_at"]), done_by=r["done_by"], done_at=from_db(r["done_at"]), result=r["result"],
        overdue_at=from_db(r["overdue_at"]), files=r["files"],
    )


async def create(conn: Conn, *, year: int, title: str, issuer: str, doc_no: str,
                 classification: Classification, urgency: Urgency, received_at: datetime, summary: str,
                 registered_by: int, due_at: datetime, now: datetime) -> int:
    rows = list(await conn.execute_fetchall("SELECT coalesce(max(seq), 0) + 1 FROM documents WHERE year=?", (year,)))
    seq = int(rows[0][0])
    return await insert_id(conn,
        "INSERT INTO documents(number, year, seq, title, issuer, doc_no, classification, urgency, received_at, "
        "registered_by, registered_at, summary, due_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (f"{year}-{seq:04d}", year, seq, title, issuer, doc_no, classification.value, urgency.value,
         to_db(received_at), registered_by, to_db(now), summary, to_db(due_at)))


async def get(conn: Conn, doc_id: int) -> Document | None:
    rows = list(await conn.execute_fetchall(f"{_SELECT} WHERE d.id=?", (doc_id,)))
    return _doc(rows[0]) if rows else None


async def by_number(conn: Conn, number: str) -> Document | None:
    rows = list(await conn.execute_fetchall(f"{_SELECT} WHERE d.number=?", (number,)))
    return _doc(rows[0]) if rows else None


async def open_docs(conn: Conn, handler_id: int | None = None) -> list[Document]:
    sql, params = f"{_SELECT} WHERE d.state != 'done'", []
    if handler_id is not None:
        sql += " AND d.handler_id = ?"
        params.append(handler_id)
    return [_doc(r) for r in await conn.execute_fetchall(sql + " ORDER BY d.id", params)]


async def waiting_on(conn: Conn, member_id: int) -> list[Document]:
    """Open documents that only `member_id` can move: the leader named to 批办 (or to 补签 a phone
    approval), or the handler named (before or after 批办)."""
    sql = (f"{_SELECT} WHERE d.state IN ('proposed', 'assigned') AND (d.handler_id = ? "
           "OR (d.state = 'proposed' AND d.leader_id = ?) "
           "OR (d.phone_at IS NOT NULL AND d.signed_at IS NULL AND d.leader_id = ?)) ORDER BY d.id")
    return [_doc(r) for r in await conn.execute_fetchall(sql, (member_id, member_id, member_id))]


async def registered_between(conn: Conn, start: datetime, end: datetime) -> list[Document]:
    rows = await conn.execute_fetchall(f"{_SELECT} WHERE d.registered_at >= ? AND d.registered_at < ? ORDER BY d.id",
                                       (to_db(start), to_db(end)))
    return [_doc(r) for r in rows]


async def add_files(conn: Conn, doc_id: int, files: Iterable[tuple[str, str, str]]) -> None:
    """(kind, file_id, name); the database refuses them for a classified document (trigger)."""
    await conn.executemany("INSERT INTO document_files(document_id, kind, file_id, file_name) VALUES (?,?,?,?)",
                           [(doc_id, k, f, n) for k, f, n in files])


async def files(conn: Conn, doc_id: int) -> list[tuple[str, str, str]]:
    rows = await conn.execute_fetchall("SELECT kind, file_id, file_name FROM document_files WHERE document_id=? "
                                       "ORDER BY id", (doc_id,))
    return [(r[0], r[1], r[2]) for r in rows]


async def propose(conn: Conn, doc_id: int, *, proposal: str, handler_id: int, handler_unit: str,
                  leader_id: int, due_at: datetime, by: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE documents SET state='proposed', proposal=?, handler_id=?, handler_unit=?, leader_id=?, due_at=?, "
        "proposed_by=?, proposed_at=? WHERE id=? AND state='registered'",
        (proposal, handler_id, handler_unit, leader_id, to_db(due_at), by, to_db(now), doc_id))
    return cur.rowcount == 1


async def send_back(conn: Conn, doc_id: int) -> bool:
    """退回拟办: waiting for a new proposal (the old one stays in the trail)."""
    cur = await conn.execute("UPDATE documents SET state='registered', leader_id=NULL WHERE id=? AND state='proposed'",
                             (doc_id,))
    return cur.rowcount == 1


async def reopen(conn: Conn, doc_id: int) -> bool:
    """Back to 待拟办 from 待批办 or 办理中, its routing void (the leader or handler named is gone): a new
    proposal names a new handler and a leader signs again (无签批不办). The trail keeps the old one."""
    cur = await conn.execute(
        "UPDATE documents SET state='registered', leader_id=NULL, handler_id=NULL, handler_unit=NULL, "
        "assigned_by=NULL, assigned_at=NULL, phone_at=NULL, sign_due_at=NULL, signed_at=NULL "
        "WHERE id=? AND state IN ('proposed', 'assigned')", (doc_id,))
    return cur.rowcount == 1


async def assign(conn: Conn, doc_id: int, by: int, now: datetime, *,
                 sign_due_at: datetime | None = None) -> bool:
    """批办 (signed now), or 电话请示 (sign_due_at given: signed later)."""
    phone = sign_due_at is not None
    cur = await conn.execute(
        "UPDATE documents SET state='assigned', assigned_by=?, assigned_at=?, signed_at=?, phone_at=?, sign_due_at=? "
        "WHERE id=? AND state='proposed'",
        (by, to_db(now), None if phone else to_db(now), to_db(now) if phone else None, to_db(sign_due_at), doc_id))
    return cur.rowcount == 1


async def sign(conn: Conn, doc_id: int, now: datetime) -> bool:
    cur = await conn.execute("UPDATE documents SET signed_at=? WHERE id=? AND phone_at IS NOT NULL "
                             "AND signed_at IS NULL", (to_db(now), doc_id))
    return cur.rowcount == 1


async def finish(conn: Conn, doc_id: int, by: int, result: str, now: datetime) -> bool:
    cur = await conn.execute("UPDATE documents SET state='done', done_by=?, done_at=?, result=? "
                             "WHERE id=? AND state='assigned'", (by, to_db(now), result, doc_id))
    return cur.rowcount == 1


async def flag_overdue(conn: Conn, doc_id: int, now: datetime) -> bool:
    cur = await conn.execute("UPDATE documents SET overdue_at=? WHERE id=? AND overdue_at IS NULL AND state != 'done'",
                             (to_db(now), doc_id))
    return cur.rowcount == 1


async def withdraw_overdue(conn: Conn, doc_id: int) -> None:
    """The overdue flag was raised in error (it was done in time): it goes (the 逾期 event stays)."""
    await conn.execute("UPDATE documents SET overdue_at=NULL WHERE id=?", (doc_id,))


async def add_event(conn: Conn, doc_id: int, at: datetime, actor_id: int | None, kind: str,
                    **detail: Any) -> None:
    await conn.execute("INSERT INTO document_events(document_id, at, actor_id, kind, detail) VALUES (?,?,?,?,?)",
                       (doc_id, to_db(at), actor_id, kind, json.dumps(detail, ensure_ascii=False)))


async def events(conn: Conn, doc_id: int) -> list[tuple[datetime, int | None, str, dict[str, Any]]]:
    rows = await conn.execute_fetchall("SELECT at, actor_id, kind, detail FROM document_events WHERE document_id=? "
                                       "ORDER BY id", (doc_id,))
    return [(_dt(r[0]), r[1], r[2], json.loads(r[3])) for r in rows]
