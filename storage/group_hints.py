"""Short lines said in a group to people who are not active members (migration 0011_group_hints)."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.conn import Conn
from storage.db import to_db


async def claim(conn: Conn, chat_id: int, telegram_id: int, now: datetime, every: timedelta) -> bool:
    """True (and noted) if this person was not told anything in this group within `every` of `now`.
    One statement, so two commands handled side by side cannot both win."""
    cur = await conn.execute(
        "INSERT INTO group_hints(chat_id, telegram_id, hinted_at) VALUES (?,?,?)"
        " ON CONFLICT(chat_id, telegram_id) DO UPDATE SET hinted_at = excluded.hinted_at"
        " WHERE group_hints.hinted_at <= ?",
        (chat_id, telegram_id, to_db(now), to_db(now - every)),
    )
    return cur.rowcount > 0
