"""Running instances of `dutydesk run` (migration 0020_lease): who is active, since when, their
heartbeats. Written by bot/lease.py on its own connection (aiosqlite beside the SQLite database, or
the lease's asyncpg connection on PostgreSQL), read by `dutydesk status`.

Portable SQL only (`?` parameters, ON CONFLICT upsert): `Rows` runs it on either engine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from storage.db import from_db, to_db

ACTIVE, STANDBY = "active", "standby"


@dataclass(frozen=True)
class Instance:
    instance: str
    host: str
    pid: int
    role: str
    started_at: datetime
    active_since: datetime | None
    heartbeat_at: datetime


class Rows(Protocol):
    async def execute(self, sql: str, params: tuple[Any, ...]) -> None: ...

    async def fetch(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...


class SqliteRows:
    """On an aiosqlite connection in autocommit mode (each statement commits on its own)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: tuple[Any, ...]) -> None:
        await self.conn.execute(sql, params)

    async def fetch(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.conn.execute_fetchall(sql, params)]


async def open_sqlite(path: Any) -> SqliteRows:
    """An autocommit connection of its own to the SQLite database, for the lease's rows."""
    import aiosqlite

    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute("PRAGMA busy_timeout=2000")
    return SqliteRows(conn)


_PARAM = re.compile(r"\?")


def numbered(sql: str) -> str:
    """`?` → `$1`, `$2` … for asyncpg (the statements here hold no `?` inside a string)."""
    count = iter(range(1, 1000))
    return _PARAM.sub(lambda _m: f"${next(count)}", sql)


class PgRows:
    """On an asyncpg connection."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: tuple[Any, ...]) -> None:
        await self.conn.execute(numbered(sql), *params)

    async def fetch(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.conn.fetch(numbered(sql), *params)]


async def put(rows: Rows, row: Instance) -> None:
    await rows.execute(
        "INSERT INTO desk_instances(instance, host, pid, role, started_at, active_since, heartbeat_at) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT(instance) DO UPDATE SET host=excluded.host, pid=excluded.pid, "
        "role=excluded.role, started_at=excluded.started_at, active_since=excluded.active_since, "
        "heartbeat_at=excluded.heartbeat_at",
        (row.instance, row.host, row.pid, row.role, to_db(row.started_at), to_db(row.active_since),
         to_db(row.heartbeat_at)))


async def took_over(rows: Rows, instance: str, stale_before: datetime) -> None:
    """`instance` holds the lease: any other row still saying active is a dead or stopped instance's;
    rows silent since `stale_before` go too."""
    await rows.execute("DELETE FROM desk_instances WHERE instance <> ? AND (role = ? OR heartbeat_at < ?)",
                       (instance, ACTIVE, to_db(stale_before)))


async def drop(rows: Rows, instance: str) -> None:
    await rows.execute("DELETE FROM desk_instances WHERE instance = ?", (instance,))


async def all_instances(rows: Rows) -> list[Instance]:
    """Active first (the latest to become active first), then standbys by their last heartbeat."""
    found = await rows.fetch(
        "SELECT instance, host, pid, role, started_at, active_since, heartbeat_at FROM desk_instances "
        "ORDER BY CASE role WHEN 'active' THEN 0 ELSE 1 END, active_since DESC, heartbeat_at DESC", ())
    return [Instance(r[0], r[1], int(r[2]), r[3], _dt(r[4]), from_db(r[5]), _dt(r[6])) for r in found]


def _dt(text: str) -> datetime:
    value = from_db(text)
    assert value is not None
    return value
