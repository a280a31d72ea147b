"""Invitation codes."""

from __future__ import annotations

from datetime import datetime

from bot.domain.invites import Invite
from storage.conn import Conn, Row
from storage.db import from_db, to_db


def _invite(row: Row) -> Invite:
    created, expires = from_db(row["created_at"]), from_db(row["expires_at"])
    assert created is not None and expires is not None
    return Invite(
        code=row["code"],
        unit_code=row["unit_code"],
        role=row["role"],
        name=row["name"],
        created_at=created,
        expires_at=expires,
        used_at=from_db(row["used_at"]),
        used_by=row["used_by"],
    )


async def create(conn: Conn, invite: Invite, created_by: int | None) -> None:
    await conn.execute(
        "INSERT INTO invites(code, unit_code, role, name, created_by, created_at, expires_at) VALUES (?,?,?,?,?,?,?)",
        (invite.code, invite.unit_code, invite.role, invite.name, created_by,
         to_db(invite.created_at), to_db(invite.expires_at)),
    )


async def get(conn: Conn, code: str) -> Invite | None:
    async with conn.execute("SELECT * FROM invites WHERE code=?", (code,)) as cur:
        row = await cur.fetchone()
    return _invite(row) if row else None


async def mark_used(conn: Conn, code: str, member_id: int, now: datetime) -> bool:
    """True only for the one caller that wins the race for a single-use code."""
    cur = await conn.execute(
        "UPDATE invites SET used_at=?, used_by=? WHERE code=? AND used_at IS NULL",
        (to_db(now), member_id, code),
    )
    return cur.rowcount == 1
