"""Notices, their recipients and receipts, bound groups and group receipts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.domain.notices import AudienceSpec, NoticeKind, Receipt
from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


@dataclass(frozen=True)
class Notice:
    id: int
    kind: NoticeKind
    sender_id: int
    unit_code: str
    title: str
    body: str
    urgent: bool
    receipt_required: bool
    audience: AudienceSpec
    created_at: datetime
    due_at: datetime | None
    meeting_at: datetime | None
    meeting_place: str | None
    last_resend_at: datetime | None
    finished_at: datetime | None
    status_outbox_id: int | None
    classification: str = "none"  # 非密 or 秘密: content marked 机密 or above is never sent

    @property
    def is_meeting(self) -> bool:
        return self.kind is NoticeKind.MEETING


@dataclass(frozen=True)
class BoundGroup:
    chat_id: int
    title: str
    unit_code: str | None
    can_pin: bool


def _notice(r: Row) -> Notice:
    created = from_db(r["created_at"])
    assert created is not None
    return Notice(
        id=r["id"], kind=NoticeKind(r["kind"]), sender_id=r["sender_id"], unit_code=r["unit_code"],
        title=r["title"], body=r["body"], urgent=bool(r["urgent"]), receipt_required=bool(r["receipt_required"]),
        audience=AudienceSpec.from_dict(json.loads(r["audience"])), created_at=created,
        due_at=from_db(r["due_at"]), meeting_at=from_db(r["meeting_at"]), meeting_place=r["meeting_place"],
        last_resend_at=from_db(r["last_resend_at"]), finished_at=from_db(r["finished_at"]),
        status_outbox_id=r["status_outbox_id"], classification=r["classification"],
    )


async def create(
    conn: Conn, *, kind: NoticeKind, sender_id: int, unit_code: str, title: str, body: str,
    urgent: bool, receipt_required: bool, audience: AudienceSpec, now: datetime, due_at: datetime | None,
    meeting_at: datetime | None = None, meeting_place: str | None = None, classification: str = "none",
) -> int:
    return await insert_id(conn,
        "INSERT INTO notices(kind, sender_id, unit_code, title, body, urgent, receipt_required, audience, "
        "created_at, due_at, meeting_at, meeting_place, classification) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (kind.value, sender_id, unit_code, title, body, int(urgent), int(receipt_required),
         json.dumps(audience.to_dict(), ensure_ascii=False), to_db(now), to_db(due_at), to_db(meeting_at),
         meeting_place, classification),
    )


async def get(conn: Conn, notice_id: int) -> Notice | None:
    async with conn.execute("SELECT * FROM notices WHERE id=?", (notice_id,)) as cur:
        row = await cur.fetchone()
    return _notice(row) if row else None


async def recent(conn: Conn, sender_id: int | None, limit: int = 5) -> list[Notice]:
    """The latest notices of one sender (None: everyone's)."""
    sql, params = "SELECT * FROM notices", ()  # type: tuple[str, tuple[object, ...]]
    if sender_id is not None:
        sql, params = sql + " WHERE sender_id=?", (sender_id,)
    async with conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit)) as cur:
        return [_notice(r) for r in await cur.fetchall()]


async def set_status_message(conn: Conn, notice_id: int, outbox_id: int) -> None:
    await conn.execute("UPDATE notices SET status_outbox_id=? WHERE id=?", (outbox_id, notice_id))


async def set_resent(conn: Conn, notice_id: int, now: datetime) -> None:
    await conn.execute("UPDATE notices SET last_resend_at=? WHERE id=?", (to_db(now), notice_id))


async def finish(conn: Conn, notice_id: int, now: datetime) -> bool:
    cur = await conn.execute("UPDATE notices SET finished_at=? WHERE id=? AND finished_at IS NULL",
                             (to_db(now), notice_id))
    return cur.rowcount == 1


async def add_attachment(conn: Conn, notice_id: int, kind: str, file_id: str) -> None:
    await conn.execute("INSERT INTO notice_attachments(notice_id, kind, file_id) VALUES (?,?,?)",
                       (notice_id, kind, file_id))


async def attachments(conn: Conn, notice_id: int) -> list[tuple[str, str]]:
    async with conn.execute("SELECT kind, file_id FROM notice_attachments WHERE notice_id=? ORDER BY id",
                            (notice_id,)) as cur:
        return [(r[0], r[1]) for r in await cur.fetchall()]


# --- recipients -----------------------------------------------------------------------


async def add_recipients(conn: Conn, notice_id: int,
                         rows: list[tuple[int, str, int, bool]]) -> None:
    """rows: (member_id, unit_code, asked_id, on_leave)."""
    await conn.executemany(
        "INSERT INTO notice_recipients(notice_id, member_id, unit_code, asked_id, on_leave) "
        "VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
        [(notice_id, m, u, a, int(leave)) for m, u, a, leave in rows],
    )


async def receipts(conn: Conn, notice_id: int) -> list[Receipt]:
    async with conn.execute(
        "SELECT r.*, m.name AS name, a.name AS asked_name FROM notice_recipients r "
        "JOIN members m ON m.id = r.member_id JOIN members a ON a.id = r.asked_id "
        "WHERE r.notice_id=? ORDER BY r.unit_code, m.id", (notice_id,),
    ) as cur:
        rows = await cur.fetchall()
    return [Receipt(member_id=r["member_id"], name=r["name"], unit_code=r["unit_code"], asked_id=r["asked_id"],
                    asked_name=r["asked_name"], acked_at=from_db(r["acked_at"]), on_leave=bool(r["on_leave"]),
                    attendance=r["attendance"], attendance_note=r["attendance_note"]) for r in rows]


async def open_asked_of(conn: Conn, member_id: int) -> list[int]:
    """Notices still collecting receipts (before their deadline) with a receipt asked of this member
    and not yet given."""
    async with conn.execute(
        "SELECT DISTINCT n.id FROM notices n JOIN notice_recipients r ON r.notice_id = n.id "
        "WHERE n.receipt_required = 1 AND n.finished_at IS NULL AND r.asked_id = ? AND r.acked_at IS NULL "
        "ORDER BY n.id", (member_id,),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def ask_instead(conn: Conn, notice_id: int, unit_code: str, gone_id: int, asked_id: int) -> None:
    """The receipts of `unit_code` asked of `gone_id` and not given are asked of `asked_id` instead."""
    await conn.execute(
        "UPDATE notice_recipients SET asked_id=? WHERE notice_id=? AND unit_code=? AND asked_id=? AND acked_at IS NULL",
        (asked_id, notice_id, unit_code, gone_id),
    )


async def is_asked(conn: Conn, notice_id: int, member_id: int) -> bool:
    async with conn.execute("SELECT 1 FROM notice_recipients WHERE notice_id=? AND asked_id=? LIMIT 1",
                            (notice_id, member_id)) as cur:
        return await cur.fetchone() is not None


async def acknowledge(conn: Conn, notice_id: int, asked_id: int, now: datetime) -> int:
    """Sign for every row this person answers for; returns how many were newly signed."""
    cur = await conn.execute(
        "UPDATE notice_recipients SET acked_at=? WHERE notice_id=? AND asked_id=? AND acked_at IS NULL",
        (to_db(now), notice_id, asked_id),
    )
    return cur.rowcount


async def answer_attendance(conn: Conn, notice_id: int, asked_id: int, answer: str,
                            note: str | None, now: datetime) -> int:
    cur = await conn.execute(
        "UPDATE notice_recipients SET attendance=?, attendance_note=?, acked_at=coalesce(acked_at, ?) "
        "WHERE notice_id=? AND asked_id=?",
        (answer, note, to_db(now), notice_id, asked_id),
    )
    return cur.rowcount


async def mark_reminded(conn: Conn, notice_id: int, asked_ids: list[int]) -> None:
    await conn.executemany(
        "UPDATE notice_recipients SET reminded=reminded+1 WHERE notice_id=? AND asked_id=? AND acked_at IS NULL",
        [(notice_id, a) for a in asked_ids],
    )


async def delivery_counts(conn: Conn, notice_id: int, tag: str) -> tuple[int, int, int]:
    """(sent, failed, total) of a notice's outbox rows with `tag`."""
    async with conn.execute(
        "SELECT count(*), sum(CASE WHEN status='sent' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN status='failed' THEN 1 ELSE 0 END) FROM outbox "
        "WHERE ref_kind='notice' AND ref_id=? AND tag=?", (notice_id, tag),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[1] or 0), int(row[2] or 0), int(row[0] or 0)


# --- groups ---------------------------------------------------------------------------


def _group(r: Row) -> BoundGroup:
    return BoundGroup(chat_id=r["chat_id"], title=r["title"], unit_code=r["unit_code"], can_pin=bool(r["can_pin"]))


async def bind_group(conn: Conn, chat_id: int, title: str, unit_code: str | None, can_pin: bool,
                     member_id: int, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO bound_groups(chat_id, title, unit_code, can_pin, bound_by, bound_at, active) "
        "VALUES (?,?,?,?,?,?,1) ON CONFLICT(chat_id) DO UPDATE SET title=excluded.title, "
        "unit_code=excluded.unit_code, can_pin=excluded.can_pin, bound_by=excluded.bound_by, "
        "bound_at=excluded.bound_at, active=1",
        (chat_id, title, unit_code, int(can_pin), member_id, to_db(now)),
    )


async def move_group(conn: Conn, old_chat_id: int, new_chat_id: int) -> bool:
    """The group's binding, posts and receipts under its new chat id; False if not bound or already moved."""
    cur = await conn.execute(
        "UPDATE bound_groups SET chat_id=? WHERE chat_id=? "
        "AND NOT EXISTS (SELECT 1 FROM bound_groups WHERE chat_id=?)", (new_chat_id, old_chat_id, new_chat_id))
    if cur.rowcount != 1:
        return False
    for table in ("notice_group_posts", "notice_group_receipts"):
        await conn.execute(f"UPDATE {table} SET chat_id=? WHERE chat_id=?", (new_chat_id, old_chat_id))
    return True


async def unbind_group(conn: Conn, chat_id: int) -> bool:
    cur = await conn.execute("UPDATE bound_groups SET active=0 WHERE chat_id=? AND active=1", (chat_id,))
    return cur.rowcount == 1


async def group(conn: Conn, chat_id: int) -> BoundGroup | None:
    async with conn.execute("SELECT * FROM bound_groups WHERE chat_id=? AND active=1", (chat_id,)) as cur:
        row = await cur.fetchone()
    return _group(row) if row else None


async def groups(conn: Conn, unit_code: str | None = None) -> list[BoundGroup]:
    """Active bound groups; with `unit_code`, only that unit's."""
    sql, params = "SELECT * FROM bound_groups WHERE active=1", ()  # type: tuple[str, tuple[object, ...]]
    if unit_code is not None:
        sql, params = sql + " AND unit_code=?", (unit_code,)
    async with conn.execute(sql + " ORDER BY chat_id", params) as cur:
        return [_group(r) for r in await cur.fetchall()]


async def add_group_post(conn: Conn, notice_id: int, chat_id: int, outbox_id: int) -> None:
    await conn.execute("INSERT INTO notice_group_posts(notice_id, chat_id, outbox_id)"
                       " VALUES (?,?,?) ON CONFLICT DO NOTHING",
                       (notice_id, chat_id, outbox_id))


async def posted_to(conn: Conn, notice_id: int, chat_id: int) -> bool:
    async with conn.execute("SELECT 1 FROM notice_group_posts WHERE notice_id=? AND chat_id=?",
                            (notice_id, chat_id)) as cur:
        return await cur.fetchone() is not None


async def group_posts(conn: Conn, notice_id: int) -> list[int]:
    async with conn.execute("SELECT chat_id FROM notice_group_posts WHERE notice_id=? ORDER BY chat_id",
                            (notice_id,)) as cur:
        return [r[0] for r in await cur.fetchall()]


async def add_group_receipt(conn: Conn, notice_id: int, chat_id: int, telegram_id: int, name: str,
                            member_id: int | None, now: datetime) -> bool:
    cur = await conn.execute(
        "INSERT INTO notice_group_receipts(notice_id, chat_id, telegram_id, name, member_id, acked_at) "
        "VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING", (notice_id, chat_id, telegram_id, name, member_id, to_db(now)),
    )
    return cur.rowcount == 1


async def group_receipts(conn: Conn, notice_id: int) -> list[tuple[int, str, datetime]]:
    """(chat_id, name, acked_at) in order of pressing."""
    async with conn.execute(
        "SELECT chat_id, name, acked_at FROM notice_group_receipts WHERE notice_id=? ORDER BY acked_at, telegram_id",
        (notice_id,),
    ) as cur:
        rows = await cur.fetchall()
    return [(r[0], r[1], from_db(r[2]) or datetime.min) for r in rows]


async def member_units(conn: Conn, member_ids: list[int]) -> dict[int, str]:
    if not member_ids:
        return {}
    marks = ",".join("?" * len(member_ids))
    async with conn.execute(f"SELECT id, unit_code FROM members WHERE id IN ({marks})", member_ids) as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}
