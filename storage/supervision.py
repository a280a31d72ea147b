"""Supervision tasks, their per-unit assignments, events, attachments and extension requests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.supervision import Assignment, AssignmentState, Source, Task
from storage import sql as dialect
from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


def _dt(v: str | None) -> datetime:
    d = from_db(v)
    assert d is not None
    return d


def _assignment(r: Row) -> Assignment:
    return Assignment(
        id=r["id"], task_id=r["task_id"], unit_code=r["unit_code"], state=AssignmentState(r["state"]),
        due_at=_dt(r["due_at"]), accepted_at=from_db(r["accepted_at"]), submitted_at=from_db(r["submitted_at"]),
        summary=r["summary"], done_at=from_db(r["done_at"]), overdue_at=from_db(r["overdue_at"]),
        returned_count=r["returned_count"], late=bool(r["late"]),
    )


async def _assignments(conn: Conn, task_id: int) -> tuple[Assignment, ...]:
    async with conn.execute("SELECT * FROM supervision_assignments WHERE task_id=? ORDER BY id", (task_id,)) as cur:
        return tuple(_assignment(r) for r in await cur.fetchall())


async def _task(conn: Conn, r: Row) -> Task:
    return Task(
        id=r["id"], title=r["title"], source=Source(r["source"]), requirement=r["requirement"],
        leader_id=r["leader_id"], created_by=r["created_by"], created_at=_dt(r["created_at"]),
        due_at=_dt(r["due_at"]), chase_plan=tuple(timedelta(seconds=s) for s in json.loads(r["chase_plan"])),
        status=r["status"], done_at=from_db(r["done_at"]), assignments=await _assignments(conn, r["id"]),
    )


async def get(conn: Conn, task_id: int) -> Task | None:
    async with conn.execute("SELECT * FROM supervision_tasks WHERE id=?", (task_id,)) as cur:
        row = await cur.fetchone()
    return await _task(conn, row) if row else None


async def assignment(conn: Conn, assignment_id: int) -> Assignment | None:
    async with conn.execute("SELECT * FROM supervision_assignments WHERE id=?", (assignment_id,)) as cur:
        row = await cur.fetchone()
    return _assignment(row) if row else None


async def list_tasks(conn: Conn, *, unit_code: str | None = None,
                     include_done: bool = False) -> list[Task]:
    """Tasks (newest first) with at least one assignment of `unit_code` if given."""
    sql = "SELECT * FROM supervision_tasks t WHERE 1=1"
    params: list[object] = []
    if not include_done:
        sql += " AND t.status='open'"
    if unit_code:
        sql += " AND EXISTS (SELECT 1 FROM supervision_assignments a WHERE a.task_id=t.id AND a.unit_code=?)"
        params.append(unit_code)
    async with conn.execute(sql + " ORDER BY t.id DESC", params) as cur:
        rows = await cur.fetchall()
    return [await _task(conn, r) for r in rows]


async def create(conn: Conn, *, title: str, source: Source, requirement: str,
                 leader_id: int | None, created_by: int, now: datetime, due_at: datetime,
                 chase_plan: tuple[timedelta, ...], units: list[str]) -> int:
    task_id = await insert_id(
        conn, "INSERT INTO supervision_tasks(title, source, requirement, leader_id, created_by, created_at, due_at, "
        "chase_plan) VALUES (?,?,?,?,?,?,?,?)",
        (title, source.value, requirement, leader_id, created_by, to_db(now), to_db(due_at),
         json.dumps([int(p.total_seconds()) for p in chase_plan])),
    )
    await conn.executemany(
        "INSERT INTO supervision_assignments(task_id, unit_code, due_at) VALUES (?,?,?)",
        [(task_id, u, to_db(due_at)) for u in units],
    )
    return task_id


async def move(conn: Conn, assignment_id: int, from_states: tuple[AssignmentState, ...],
               to_state: AssignmentState, **fields: Any) -> bool:
    """Change state only from one of `from_states` (a double tap acts once); set `fields` too."""
    allowed = {"accepted_at", "accepted_by", "submitted_at", "submitted_by", "summary", "done_at", "done_by",
               "due_at", "overdue_at", "late"}
    bad = set(fields) - allowed
    if bad:
        raise ValueError(f"not an assignment field: {bad}")
    sets = ["state=?"] + [f"{k}=?" for k in fields]
    values = [to_state.value] + [to_db(v) if isinstance(v, datetime) else v for v in fields.values()]
    marks = ",".join("?" * len(from_states))
    cur = await conn.execute(
        f"UPDATE supervision_assignments SET {', '.join(sets)} WHERE id=? AND state IN ({marks})",
        (*values, assignment_id, *[s.value for s in from_states]),
    )
    return cur.rowcount == 1


async def returned(conn: Conn, assignment_id: int, due_at: datetime, keep_overdue: bool) -> bool:
    """退回: open again (办理中) with its deadline or a new one."""
    cur = await conn.execute(
        "UPDATE supervision_assignments SET state='accepted', due_at=?, returned_count=returned_count+1, "
        "submitted_at=NULL, submitted_by=NULL" + ("" if keep_overdue else ", overdue_at=NULL")
        + " WHERE id=? AND state='submitted'",
        (to_db(due_at), assignment_id),
    )
    return cur.rowcount == 1


async def set_due(conn: Conn, assignment_id: int, due_at: datetime) -> None:
    """A new deadline clears the overdue flag (chasing starts afresh); `late` stays."""
    await conn.execute("UPDATE supervision_assignments SET due_at=?, overdue_at=NULL WHERE id=?",
                       (to_db(due_at), assignment_id))


async def flag_overdue(conn: Conn, assignment_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE supervision_assignments SET overdue_at=?, late=1 WHERE id=? AND overdue_at IS NULL",
        (to_db(now), assignment_id)
    )
    return cur.rowcount == 1


async def withdraw_overdue(conn: Conn, assignment_id: int) -> None:
    """The overdue flag was raised in error (the completion had been sent in time): it goes, and so
    does `late` unless an earlier deadline was missed too (another 逾期 not withdrawn, or a
    completion sent late). Call before recording this withdrawal's event."""
    await conn.execute(
        "UPDATE supervision_assignments SET overdue_at=NULL, late=(SELECT CASE WHEN"
        " coalesce(sum(CASE WHEN e.kind = 'overdue' THEN 1 WHEN e.kind = 'overdue_withdrawn' THEN -1 ELSE 0 END),"
        " 0) > 1"
        f" OR coalesce(max(CASE WHEN e.kind = 'submitted' AND {dialect.json_true(conn, 'e.detail', 'late')} THEN 1"
        " ELSE 0 END), 0) = 1 THEN 1 ELSE 0 END"
        " FROM supervision_events e WHERE e.assignment_id = supervision_assignments.id) WHERE id=?",
        (assignment_id,),
    )


async def close_task(conn: Conn, task_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE supervision_tasks SET status='done', done_at=? WHERE id=? AND status='open'", (to_db(now), task_id)
    )
    return cur.rowcount == 1


async def add_event(conn: Conn, task_id: int, assignment_id: int | None, now: datetime,
                    actor_id: int | None, kind: str, **detail: Any) -> int:
    return await insert_id(conn,
        "INSERT INTO supervision_events(task_id, assignment_id, at, actor_id, kind, detail) VALUES (?,?,?,?,?,?)",
        (task_id, assignment_id, to_db(now), actor_id, kind, json.dumps(detail, ensure_ascii=False)),
    )


@dataclass(frozen=True)
class Event:
    id: int
    assignment_id: int | None
    at: datetime
    actor_id: int | None
    kind: str
    detail: dict[str, Any]


async def events(conn: Conn, task_id: int) -> list[Event]:
    async with conn.execute(
        "SELECT id, assignment_id, at, actor_id, kind, detail FROM supervision_events WHERE task_id=? ORDER BY id",
        (task_id,),
    ) as cur:
        return [Event(r[0], r[1], _dt(r[2]), r[3], r[4], json.loads(r[5])) for r in await cur.fetchall()]


@dataclass(frozen=True)
class Attachment:
    kind: str  # photo / document
    file_id: str
    file_name: str | None = None


async def add_attachments(conn: Conn, event_id: int, files: list[Attachment]) -> None:
    await conn.executemany(
        "INSERT INTO supervision_attachments(event_id, kind, file_id, file_name) VALUES (?,?,?,?)",
        [(event_id, f.kind, f.file_id, f.file_name) for f in files],
    )


async def attachment_count(conn: Conn, task_id: int) -> int:
    async with conn.execute(
        "SELECT count(*) FROM supervision_attachments x JOIN supervision_events e ON e.id=x.event_id "
        "WHERE e.task_id=?", (task_id,),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Extension:
    id: int
    assignment_id: int
    requested_by: int
    requested_at: datetime
    old_due_at: datetime
    new_due_at: datetime
    reason: str
    status: str
    decided_by: int | None
    decided_at: datetime | None


def _extension(r: Row) -> Extension:
    return Extension(r["id"], r["assignment_id"], r["requested_by"], _dt(r["requested_at"]), _dt(r["old_due_at"]),
                     _dt(r["new_due_at"]), r["reason"], r["status"], r["decided_by"], from_db(r["decided_at"]))


async def add_extension(conn: Conn, assignment_id: int, member_id: int, now: datetime,
                        old_due: datetime, new_due: datetime, reason: str) -> int:
    return await insert_id(conn,
        "INSERT INTO supervision_extensions(assignment_id, requested_by, requested_at, old_due_at, new_due_at, reason) "
        "VALUES (?,?,?,?,?,?)",
        (assignment_id, member_id, to_db(now), to_db(old_due), to_db(new_due), reason),
    )


async def extension(conn: Conn, extension_id: int) -> Extension | None:
    async with conn.execute("SELECT * FROM supervision_extensions WHERE id=?", (extension_id,)) as cur:
        row = await cur.fetchone()
    return _extension(row) if row else None


async def pending_extension(conn: Conn, assignment_id: int) -> Extension | None:
    async with conn.execute(
        "SELECT * FROM supervision_extensions WHERE assignment_id=? AND status='pending' ORDER BY id DESC LIMIT 1",
        (assignment_id,),
    ) as cur:
        row = await cur.fetchone()
    return _extension(row) if row else None


async def decide_extension(conn: Conn, extension_id: int, approved: bool, member_id: int,
                           now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE supervision_extensions SET status=?, decided_by=?, decided_at=? WHERE id=? AND status='pending'",
        ("approved" if approved else "refused", member_id, to_db(now), extension_id),
    )
    return cur.rowcount == 1


async def extensions_of_task(conn: Conn, task_id: int) -> list[Extension]:
    async with conn.execute(
        "SELECT x.* FROM supervision_extensions x JOIN supervision_assignments a ON a.id=x.assignment_id "
        "WHERE a.task_id=? ORDER BY x.id", (task_id,),
    ) as cur:
        return [_extension(r) for r in await cur.fetchall()]
