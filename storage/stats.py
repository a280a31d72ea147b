"""Read-only rows for statistics and exports, across the feature tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.stats import IncidentRow, InfoRow, LeaveRow, Period, ReceiptRow, StageRow, TaskRow
from storage.conn import Conn, Row
from storage.db import from_db, to_db


def _dt(text: str | None) -> datetime | None:
    return from_db(text)


async def _rows(conn: Conn, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


def _window(p: Period) -> tuple[str | None, str | None]:
    return to_db(p.start), to_db(p.end)


async def incidents(conn: Conn, p: Period) -> list[IncidentRow]:
    rows = await _rows(conn, "SELECT * FROM incidents WHERE created_at >= ? AND created_at < ? ORDER BY id", _window(p))
    return [IncidentRow(r["id"], r["number"], r["unit_code"], r["category"], _dt(r["created_at"]),  # type: ignore[arg-type]
                        _dt(r["learnt_at"]), _dt(r["forwarded_at"]), r["status"]) for r in rows]  # type: ignore[arg-type]


async def stages(conn: Conn, p: Period) -> list[StageRow]:
    rows = await _rows(conn, "SELECT s.* FROM incident_stages s JOIN incidents i ON i.id = s.incident_id"
                             " WHERE i.created_at >= ? AND i.created_at < ? ORDER BY s.incident_id, s.due_at",
                       _window(p))
    return [StageRow(r["incident_id"], r["stage"], _dt(r["due_at"]), _dt(r["filed_at"]), bool(r["missed"]))  # type: ignore[arg-type]
            for r in rows]


async def leave(conn: Conn, p: Period) -> list[LeaveRow]:
    """Approved leave overlapping the period, plus anyone away now."""
    rows = await _rows(conn, "SELECT * FROM leave_requests WHERE status='approved' AND ((start_at < ? AND end_at > ?) "
                             "OR on_leave = 1)", (to_db(p.end), to_db(p.start)))
    return [LeaveRow(r["unit_code"], _dt(r["start_at"]), _dt(r["end_at"]), r["status"], bool(r["on_leave"]))  # type: ignore[arg-type]
            for r in rows]


async def leave_detail(conn: Conn, p: Period) -> list[Row]:
    return await _rows(conn, "SELECT l.*, m.name AS member_name, s.name AS standin_name FROM leave_requests l "
                             "JOIN members m ON m.id = l.member_id LEFT JOIN members s ON s.id = l.standin_id "
                             "WHERE l.start_at < ? AND l.end_at > ? ORDER BY l.start_at, l.id",
                       (to_db(p.end), to_db(p.start)))


async def receipts(conn: Conn, p: Period) -> list[ReceiptRow]:
    rows = await _rows(conn, "SELECT r.unit_code, n.created_at, r.acked_at FROM notice_recipients r "
                             "JOIN notices n ON n.id = r.notice_id WHERE n.receipt_required = 1 "
                             "AND n.created_at >= ? AND n.created_at < ?", _window(p))
    return [ReceiptRow(r["unit_code"], _dt(r["created_at"]), _dt(r["acked_at"])) for r in rows]  # type: ignore[arg-type]


async def receipt_detail(conn: Conn, p: Period) -> list[Row]:
    return await _rows(conn, "SELECT n.id, n.kind, n.title, n.urgent, n.created_at, n.due_at, s.name AS sender, "
                             "r.unit_code, m.name AS receiver, r.acked_at FROM notices n "
                             "JOIN members s ON s.id = n.sender_id JOIN notice_recipients r ON r.notice_id = n.id "
                             "JOIN members m ON m.id = r.member_id WHERE n.created_at >= ? AND n.created_at < ? "
                             "ORDER BY n.id, r.unit_code, m.id", _window(p))


async def tasks(conn: Conn, p: Period) -> list[TaskRow]:
    rows = await _rows(conn, "SELECT unit_code, due_at, state, submitted_at, late FROM supervision_assignments "
                             "WHERE due_at >= ? AND due_at < ?", _window(p))
    return [task_row(r) for r in rows]


def task_row(r: Row) -> TaskRow:
    return TaskRow(r["unit_code"], _dt(r["due_at"]), r["state"], _dt(r["submitted_at"]), bool(r["late"]))  # type: ignore[arg-type]


async def task_detail(conn: Conn, p: Period) -> list[Row]:
    return await _rows(conn, "SELECT t.id, t.title, t.source, t.created_at, a.unit_code, a.state, a.due_at, "
                             "a.accepted_at, a.submitted_at, a.done_at, a.late FROM supervision_assignments a "
                             "JOIN supervision_tasks t ON t.id = a.task_id WHERE a.due_at >= ? AND a.due_at < ? "
                             "ORDER BY a.due_at, t.id, a.unit_code", _window(p))


async def info(conn: Conn, p: Period) -> list[InfoRow]:
    rows = await _rows(conn, "SELECT unit_code, submitted_at, mark FROM info_items "
                             "WHERE submitted_at >= ? AND submitted_at < ?", _window(p))
    return [InfoRow(r["unit_code"], _dt(r["submitted_at"]), r["mark"]) for r in rows]  # type: ignore[arg-type]


async def info_detail(conn: Conn, p: Period) -> list[Row]:
    return await _rows(conn, "SELECT i.id, i.unit_code, i.kind, i.title, i.submitted_at, i.mark, i.marked_at, "
                             "m.name AS author FROM info_items i JOIN members m ON m.id = i.author_id "
                             "WHERE i.submitted_at >= ? AND i.submitted_at < ? ORDER BY i.id", _window(p))


async def reporter_names(conn: Conn) -> dict[int, str]:
    return {r[0]: r[1] for r in await _rows(conn, "SELECT id, name FROM members")}
