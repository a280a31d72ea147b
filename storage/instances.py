"""Running instances of `dutydesk run` (migration 0020_lease): who is active, since when, their
heartbeats. Written by bot/lease.py on a connection of its own (aiosqlite beside the SQLite database,
or the lease's asyncpg connection through storage.pg.PgConnection), read by `dutydesk status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

from storage.conn import Conn
from storage.db import connect, from_db, to_db

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


async def open_sqlite(path: Path | str) -> aiosqlite.Connection:
    """An autocommit connection of its own to the SQLite database, for the lease's rows."""
    return await connect(path, "PRAGMA busy_timeout=2000")  # sqlite-only: this opener is for the SQLite file


async def put(conn: Conn, row: Instance) -> None:
    await conn.execute(
        "INSERT INTO desk_instances(instance, host, pid, role, started_at, active_since, heartbeat_at) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT(instance) DO UPDATE SET host=excluded.host, pid=excluded.pid, "
        "role=excluded.role, started_at=excluded.started_at, active_since=excluded.active_since, "
        "heartbeat_at=excluded.heartbeat_at",
        (row.instance, row.host, row.pid, row.role, to_db(row.started_at), to_db(row.active_since),
         to_db(row.heartbeat_at)))


async def took_over(conn: Conn, instance: str, stale_before: datetime) -> None:
    """`instance` holds the lease: any other row still saying active is a dead or stopped instance's;
    rows silent since `stale_before` go too."""
    await conn.execute("DELETE FROM desk_instances WHERE instance <> ? AND (role = ? OR heartbeat_at < ?)",
                       (instance, ACTIVE, to_db(stale_before)))


async def drop(conn: Conn, instance: str) -> None:
    await conn.execute("DELETE FROM desk_instances WHERE instance = ?", (instance,))


async def all_instances(conn: Conn) -> list[Instance]:
    """Active first (the latest to become active first), then standbys by their last heartbeat."""
    found = await conn.execute_fetchall(
        "SELECT instance, host, pid, role, started_at, active_since, heartbeat_at FROM desk_instances "
        "ORDER BY CASE role WHEN 'active' THEN 0 ELSE 1 END, active_since DESC, heartbeat_at DESC")
    return [Instance(r[0], r[1], int(r[2]), r[3], _dt(r[4]), from_db(r[5]), _dt(r[6])) for r in found]


def _dt(text: str) -> datetime:
    value = from_db(text)
    assert value is not None
    return value
