"""Leave requests, the approvers asked at each step, and the trail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.leave import LeaveStatus
from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


@dataclass(frozen=True)
class LeaveRequest:
    id: int
    member_id: int
    unit_code: str
    kind: str
    start_at: datetime
    end_at: datetime
    destination: str
    leaves_city: bool
    reason: str
    standin_id: int | None
    chain: str
    holidays: str
    status: LeaveStatus
    step: int
    on_leave: bool
    created_at: datetime
    decided_at: datetime | None
    returned_at: datetime | None
    back_alerted_at: datetime | None
    filing: str = "request"  # or "report": in effect at once, approved by nobody

    @property
    def reported(self) -> bool:
        return self.filing == "report"

    @property
    def pending(self) -> bool:
        return self.status is LeaveStatus.PENDING


@dataclass(frozen=True)
class StepApprover:
    request_id: int
    step: int
    member_id: int
    on_behalf_of: int | None
    asked_at: datetime
    decision: str | None
    comment: str | None
    decided_at: datetime | None


def _dt(v: str | None) -> datetime:
    d = from_db(v)
    assert d is not None
    return d


def _request(r: Row) -> LeaveRequest:
    return LeaveRequest(
        id=r["id"], member_id=r["member_id"], unit_code=r["unit_code"], kind=r["kind"],
        start_at=_dt(r["start_at"]), end_at=_dt(r["end_at"]), destination=r["destination"],
        leaves_city=bool(r["leaves_city"]), reason=r["reason"], standin_id=r["standin_id"], chain=r["chain"],
        holidays=r["holidays"], status=LeaveStatus(r["status"]), step=r["step"], on_leave=bool(r["on_leave"]),
        created_at=_dt(r["created_at"]), decided_at=from_db(r["decided_at"]), returned_at=from_db(r["returned_at"]),
        back_alerted_at=from_db(r["back_alerted_at"]), filing=r["filing"],
    )


async def create(
    conn: Conn, *, member_id: int, unit_code: str, kind: str, start_at: datetime, end_at: datetime,
    destination: str, leaves_city: bool, reason: str, standin_id: int | None, chain: str, holidays: str,
    now: datetime, filing: str = "request",
) -> int:
    return await insert_id(conn,
        "INSERT INTO leave_requests(member_id, unit_code, kind, start_at, end_at, destination, leaves_city, reason, "
        "standin_id, chain, holidays, created_at, filing) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (member_id, unit_code, kind, to_db(start_at), to_db(end_at), destination, int(leaves_city), reason,
         standin_id, chain, holidays, to_db(now), filing),
    )


async def get(conn: Conn, request_id: int) -> LeaveRequest | None:
    async with conn.execute("SELECT * FROM leave_requests WHERE id=?", (request_id,)) as cur:
        row = await cur.fetchone()
    return _request(row) if row else None


async def for_member(conn: Conn, member_id: int, limit: int = 20) -> list[LeaveRequest]:
    async with conn.execute(
        "SELECT * FROM leave_requests WHERE member_id=? ORDER BY start_at DESC, id DESC LIMIT ?", (member_id, limit)
    ) as cur:
        return [_request(r) for r in await cur.fetchall()]


async def live_for_member(conn: Conn, member_id: int) -> list[LeaveRequest]:
    """Pending requests and approved leave not yet reported back: what a new request must not overlap."""
    async with conn.execute(
        "SELECT * FROM leave_requests WHERE member_id=? AND (status='pending' OR (status='approved' "
        "AND returned_at IS NULL)) ORDER BY start_at", (member_id,)
    ) as cur:
        return [_request(r) for r in await cur.fetchall()]


async def approved_between(conn: Conn, start: datetime, end: datetime,
                           unit_code: str | None = None) -> list[LeaveRequest]:
    """Approved leave overlapping [start, end) whose member has not reported back before `start`."""
    sql = ("SELECT * FROM leave_requests WHERE status='approved' AND start_at < ? AND end_at > ? "
           "AND (returned_at IS NULL OR returned_at > ?)")
    params: list[object] = [to_db(end), to_db(start), to_db(start)]
    if unit_code:
        sql += " AND unit_code=?"
        params.append(unit_code)
    async with conn.execute(sql + " ORDER BY unit_code, start_at", params) as cur:
        return [_request(r) for r in await cur.fetchall()]


async def overdue_back(conn: Conn, unit_code: str | None = None) -> list[LeaveRequest]:
    """Approved leave whose member was alerted as not having reported back, and still has not."""
    sql = "SELECT * FROM leave_requests WHERE status='approved' AND returned_at IS NULL AND back_alerted_at IS NOT NULL"
    params: list[object] = []
    if unit_code:
        sql += " AND unit_code=?"
        params.append(unit_code)
    async with conn.execute(sql + " ORDER BY unit_code, end_at", params) as cur:
        return [_request(r) for r in await cur.fetchall()]


async def away_now(conn: Conn) -> dict[int, int | None]:
    """Members whose approved leave is under way → their stand-in (or None)."""
    rows = await conn.execute_fetchall(
        "SELECT member_id, standin_id FROM leave_requests WHERE on_leave=1 ORDER BY start_at"
    )
    return {r[0]: r[1] for r in rows}


async def set_status(conn: Conn, request_id: int, status: LeaveStatus, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE leave_requests SET status=?, decided_at=? WHERE id=? AND status='pending'",
        (status.value, to_db(now), request_id),
    )
    return cur.rowcount == 1


async def withdraw(conn: Conn, request_id: int) -> bool:
    """撤回: pending or approved and not reported back becomes cancelled (False if it was not)."""
    cur = await conn.execute(
        "UPDATE leave_requests SET status='cancelled', on_leave=0 WHERE id=? "
        "AND (status='pending' OR (status='approved' AND returned_at IS NULL))", (request_id,))
    return cur.rowcount == 1


async def set_step(conn: Conn, request_id: int, step: int) -> None:
    await conn.execute("UPDATE leave_requests SET step=? WHERE id=?", (step, request_id))


async def set_on_leave(conn: Conn, request_id: int, on_leave: bool) -> None:
    await conn.execute("UPDATE leave_requests SET on_leave=? WHERE id=?", (int(on_leave), request_id))


async def mark_returned(conn: Conn, request_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE leave_requests SET returned_at=?, on_leave=0 WHERE id=? AND status='approved' AND returned_at IS NULL",
        (to_db(now), request_id),
    )
    return cur.rowcount == 1


async def mark_back_alerted(conn: Conn, request_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE leave_requests SET back_alerted_at=? WHERE id=? AND back_alerted_at IS NULL AND returned_at IS NULL",
        (to_db(now), request_id),
    )
    return cur.rowcount == 1


# --- approvers ---------------------------------------------------------------------------


async def add_approver(conn: Conn, request_id: int, step: int, member_id: int,
                       on_behalf_of: int | None, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO leave_approvers(request_id, step, member_id, on_behalf_of, asked_at)"
        " VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
        (request_id, step, member_id, on_behalf_of, to_db(now)),
    )


def _approver(r: Row) -> StepApprover:
    return StepApprover(r["request_id"], r["step"], r["member_id"], r["on_behalf_of"], _dt(r["asked_at"]),
                        r["decision"], r["comment"], from_db(r["decided_at"]))


async def approvers(conn: Conn, request_id: int, step: int | None = None) -> list[StepApprover]:
    sql = "SELECT * FROM leave_approvers WHERE request_id=?"
    params: list[object] = [request_id]
    if step is not None:
        sql += " AND step=?"
        params.append(step)
    async with conn.execute(sql + " ORDER BY step, asked_at, member_id", params) as cur:
        return [_approver(r) for r in await cur.fetchall()]


async def decide(conn: Conn, request_id: int, step: int, member_id: int, decision: str,
                 comment: str | None, now: datetime) -> bool:
    """Record one approver's decision, once."""
    cur = await conn.execute(
        "UPDATE leave_approvers SET decision=?, comment=?, decided_at=? "
        "WHERE request_id=? AND step=? AND member_id=? AND decision IS NULL",
        (decision, comment, to_db(now), request_id, step, member_id),
    )
    return cur.rowcount == 1


async def pending_for(conn: Conn, member_id: int) -> list[int]:
    """Requests waiting for this member's decision at their current step."""
    async with conn.execute(
        "SELECT r.id FROM leave_requests r JOIN leave_approvers a ON a.request_id=r.id AND a.step=r.step "
        "WHERE r.status='pending' AND a.member_id=? AND a.decision IS NULL ORDER BY r.created_at", (member_id,)
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


# --- trail ----------------------------------------------------------------------------------


async def add_event(conn: Conn, request_id: int, now: datetime, actor_id: int | None, kind: str,
                    **detail: Any) -> None:
    await conn.execute(
        "INSERT INTO leave_events(request_id, at, actor_id, kind, detail) VALUES (?,?,?,?,?)",
        (request_id, to_db(now), actor_id, kind, json.dumps(detail, ensure_ascii=False)),
    )


async def events(conn: Conn, request_id: int) -> list[tuple[datetime, int | None, str, dict[str, Any]]]:
    async with conn.execute(
        "SELECT at, actor_id, kind, detail FROM leave_events WHERE request_id=? ORDER BY id", (request_id,)
    ) as cur:
        return [(_dt(r[0]), r[1], r[2], json.loads(r[3])) for r in await cur.fetchall()]


EXPORT_BY = ("created", "period")


async def export(conn: Conn, start: datetime, end: datetime,
                 by: str = "created") -> list[dict[str, Any]]:
    """Requests for the statistics export, flat (times as stored, UTC ISO text).

    by="created": asked in [start, end); by="period": the leave itself overlaps [start, end)
    (any status: filter on `status` for days actually away).
    """
    if by not in EXPORT_BY:
        raise ValueError(f"by must be one of {EXPORT_BY}")
    where = "r.created_at >= ? AND r.created_at < ?" if by == "created" else "r.start_at < ? AND r.end_at > ?"
    params = (to_db(start), to_db(end)) if by == "created" else (to_db(end), to_db(start))
    async with conn.execute(
        "SELECT r.*, m.name AS member_name, s.name AS standin_name FROM leave_requests r "
        "JOIN members m ON m.id=r.member_id LEFT JOIN members s ON s.id=r.standin_id "
        f"WHERE {where} ORDER BY r.id", params
    ) as cur:
        rows = await cur.fetchall()
    return [dict(r) for r in rows]
