"""The PostgreSQL lease's statements (bot/lease.py): a session-level advisory lock, a ping, and who
holds the lock (its session's application_name names the instance)."""

from __future__ import annotations

from typing import Any


async def end_when_silent(conn: Any, seconds: float) -> None:
    """The server ends this session, and frees its locks, after `seconds` without a statement (PostgreSQL 14+)."""
    await conn.execute(f"SET idle_session_timeout = {int(seconds * 1000)}")


async def try_lock(conn: Any, key: int) -> bool:
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))


async def unlock(conn: Any, key: int) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", key)


async def ping(conn: Any, timeout: float) -> None:
    await conn.fetchval("SELECT 1", timeout=timeout)


async def holder(conn: Any, key: int) -> str | None:
    """The application_name of the session holding the lock (None: nobody, or not visible)."""
    # A bigint key is stored as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
    name = await conn.fetchval(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid = (($1::bigint >> 32) & 4294967295)::oid AND l.objid = ($1::bigint & 4294967295)::oid",
        key)
    return str(name) if name else None
