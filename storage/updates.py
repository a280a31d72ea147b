"""The mark of handled Telegram updates (see migrations/0008_updates_handled.sql)."""

from __future__ import annotations

import aiosqlite


async def handled_through(conn: aiosqlite.Connection) -> int:
    """The highest update_id handled so far; -1 before the first."""
    async with conn.execute("SELECT through FROM updates_handled WHERE id = 1") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else -1


async def mark_handled(conn: aiosqlite.Connection, update_id: int) -> None:
    await conn.execute(
        "INSERT INTO updates_handled(id, through) VALUES (1, ?) "
        "ON CONFLICT(id) DO UPDATE SET through = max(through, excluded.through)",
        (update_id,),
    )
