"""A look into a desk's database from outside the bot, on either engine, for the tests and the harness:
`with desk.sql() as conn: conn.execute(sql, params).fetchall()`, as with sqlite3. On PostgreSQL each
statement runs on a short-lived connection of its own, on a thread of its own (the caller's event loop
is the bot's)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from storage.pg import statement


class Rows:
    """Rows fetched already, read as from a sqlite3 cursor (tuples here; asyncpg Records in bench.chaos_db)."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class PgSync:
    """sqlite3's execute / executemany / context manager, on a PostgreSQL schema."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def __enter__(self) -> PgSync:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return _on_thread(self._run(sql, [tuple(params)]))

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> Rows:
        return _on_thread(self._run(sql, [tuple(p) for p in params]))

    async def _run(self, sql: str, batches: list[tuple[Any, ...]]) -> Rows:
        import asyncpg

        st = statement(sql)
        conn = await asyncpg.connect(self.dsn)
        try:
            rows: list[tuple[Any, ...]] = []
            count = 0
            for args in batches:
                if st.returns_rows:
                    rows += [tuple(r) for r in await conn.fetch(st.text, *args)]
                else:
                    status = await conn.execute(st.text, *args)
                    count += int(status.split()[-1]) if status.split()[-1].isdigit() else 0
            return Rows(rows, count or len(rows))
        finally:
            await conn.close()


def _on_thread(work: Any) -> Rows:
    found: list[Rows] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            found.append(asyncio.run(work))
        except BaseException as exc:  # handed to the caller
            failed.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if failed:
        raise failed[0]
    return found[0]


def table_names(conn: Any, schema: str | None) -> list[str]:
    """The desk's tables: `conn` is a sqlite3 connection, or PgSync with the desk's schema."""
    if schema is not None:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema=?",
                            (schema,)).fetchall()
    else:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return sorted(r[0] for r in rows)


@asynccontextmanager
async def _on_server(target: str) -> AsyncIterator[tuple[str, Any]]:
    """The schema a `postgresql://…?search_path=NAME` address names, and a connection to its server."""
    import asyncpg

    from storage.address import plain_schema_name, schema_of

    schema = schema_of(target)
    assert schema and plain_schema_name(schema)
    conn = await asyncpg.connect(target.split("?", 1)[0])
    try:
        yield schema, conn
    finally:
        await conn.close()


async def drop_schema(target: str) -> None:
    """Drop the schema the address names, with everything in it."""
    async with _on_server(target) as (schema, conn):
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def empty_schema(target: str) -> bool:
    """Every row of a desk's schema gone and its ids back at 1, the tables and the migrations kept: a
    fresh desk in ~30 ms where creating and migrating a schema takes ~0.5 s. False when the server
    refuses (session_replication_role, which skips the foreign keys for the deletes, needs a superuser)."""
    import asyncpg

    async with _on_server(target) as (schema, conn):
        try:
            tables = [r[0] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname=$1 AND tablename <> 'desk_schema'", schema)]
            sequences = [r[0] for r in await conn.fetch(
                "SELECT sequencename FROM pg_sequences WHERE schemaname=$1", schema)]
            script = "".join(f'DELETE FROM "{schema}"."{t}";' for t in tables)
            script += "".join(f"SELECT setval('\"{schema}\".\"{s}\"', 1, false);" for s in sequences)
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute(script)
        except asyncpg.PostgresError:
            return False
    return True
