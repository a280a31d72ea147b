"""What storage functions need of a connection, on either engine.

An aiosqlite connection is one as it is; on PostgreSQL `storage.pg.PgConnection` adapts asyncpg to the
same few calls, so every storage function runs unchanged on both. The SQL they send is the subset both
engines read (qmark `?` parameters, ON CONFLICT, RETURNING; see storage/sql.py for the few fragments that
differ); ARCHITECTURE.md "Two engines" says why this and not an ORM.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any, Protocol, TypeAlias

# A result row: by position (row[0]) and by column name (row["id"]); sqlite3.Row or asyncpg.Record.
Row: TypeAlias = Any


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Row | None: ...

    async def fetchall(self) -> Iterable[Row]: ...


class Pending(Protocol):
    """What `execute` gives: await it, or `async with` it, for the cursor."""

    def __await__(self) -> Generator[Any, None, Cursor]: ...

    async def __aenter__(self) -> Cursor: ...

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any: ...


class Conn(Protocol):
    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Pending: ...

    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Pending: ...

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> Iterable[Row]: ...

    @property
    def total_changes(self) -> int: ...


async def insert_id(conn: Conn, sql: str, parameters: Iterable[Any]) -> int:
    """An INSERT's new `id`, by RETURNING (both engines; a cursor's last row id is SQLite's alone)."""
    async with conn.execute(sql + " RETURNING id", tuple(parameters)) as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])
