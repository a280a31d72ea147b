"""Facts about this installation learnt at run time (migration 0012_desk_meta): the bot's
username, written at start-up from getMe, read by the command line (`dutydesk invite`)."""

from __future__ import annotations

from storage.conn import Conn

BOT_USERNAME = "bot_username"


async def put(conn: Conn, key: str, value: str) -> None:
    await conn.execute("INSERT INTO desk_meta(key, value) VALUES (?,?) "
                       "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))


async def get(conn: Conn, key: str) -> str | None:
    rows = list(await conn.execute_fetchall("SELECT value FROM desk_meta WHERE key = ?", (key,)))
    return str(rows[0][0]) if rows else None
