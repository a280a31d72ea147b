"""PostgreSQL through asyncpg, behind the same interface as storage.db.Database.

Every storage function sends the SQL both engines read (storage/conn.py); this module turns its qmark
`?` parameters into PostgreSQL's `$1, $2…` once per statement text, and gives back cursors with the
rows already fetched. Writes go through ONE connection under a lock, as on SQLite: a transaction's
state change and the outbox rows it causes commit together, and numbering (max(seq) + 1) cannot race
inside a process. Reads outside a transaction go to a small pool and see committed rows only.

A writer whose session ended (a server restart, pg_terminate_backend, a dropped connection) is connected
again at the next transaction or single statement; the one it was in fails alone. The pool replaces
its own. The server probes idle sessions (KEEPALIVES), so a firewall keeps a quiet night's connection.

`?search_path=NAME` in the address puts the desk in its own schema (created when missing): the test
suite gives each desk one, and an office can keep two desks in one database.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from storage import db as sqlite_db
from storage.address import plain_schema_name, schema_of
from storage.conn import Row
from storage.sql import POSTGRESQL

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "storage.migrations.postgresql"
READ_POOL_SIZE = 4
# The server probes an idle connection this way (seconds): a firewall or NAT between the bot and the
# database then keeps a quiet night's connection instead of forgetting it, and the server notices a
# client gone. Settings in the address win.
KEEPALIVES = {"tcp_keepalives_idle": "60", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "6"}


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every `NNNN_name.sql` in storage/migrations/postgresql, in order."""
    return sqlite_db.migrations(MIGRATIONS_PACKAGE)


_QMARK = re.compile(r"'(?:[^']|'')*'|\?")
_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES)\b|\bRETURNING\b", re.I)
_RETURNING = re.compile(r"\bRETURNING\b", re.I)
_COUNT = re.compile(r"(\d+)$")


@dataclass(frozen=True, slots=True)
class _Statement:
    text: str  # with $n parameters
    returns_rows: bool
    counts_rows: bool  # INSERT/UPDATE/DELETE … RETURNING: each row given back is a row changed


_statements: dict[str, _Statement] = {}


def statement(sql: str) -> _Statement:
    """qmark → $n (string literals left alone); cached, as storage sends the same texts all day."""
    found = _statements.get(sql)
    if found is None:
        n = 0

        def number(m: re.Match[str]) -> str:
            nonlocal n
            if m.group(0) != "?":
                return m.group(0)
            n += 1
            return f"${n}"

        found = _statements[sql] = _Statement(_QMARK.sub(number, sql), bool(_ROWS.search(sql)),
                                              bool(_RETURNING.search(sql)))
    return found


class PgCursor:
    """A finished statement: its rows (fetched at once) and how many rows it changed."""

    def __init__(self, rows: Sequence[Row], rowcount: int) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount

    async def fetchone(self) -> Row | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    async def fetchall(self) -> Sequence[Row]:
        rows, self._at = self._rows[self._at:], len(self._rows)
        return rows


class _Pending:
    """`await conn.execute(...)` or `async with conn.execute(...) as cur`, like aiosqlite."""

    def __init__(self, running: Any) -> None:
        self._running = running

    def __await__(self) -> Generator[Any, None, PgCursor]:
        result: PgCursor = yield from self._running.__await__()
        return result

    async def __aenter__(self) -> PgCursor:
        result: PgCursor = await self._running
        return result

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        return None


class PgConnection:
    """aiosqlite's few calls that storage uses (storage.conn.Conn), on an asyncpg connection or pool.

    On one connection the calls take turns (asyncpg refuses two at once); a pool lends each call a
    connection of its own."""

    dialect = POSTGRESQL

    def __init__(self, target: asyncpg.Connection | asyncpg.Pool) -> None:
        self._target = target
        self._turn = asyncio.Lock() if isinstance(target, asyncpg.Connection) else None
        self._changes = 0

    @property
    def total_changes(self) -> int:
        return self._changes

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _Pending:
        return _Pending(self._run(sql, tuple(parameters or ())))

    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> _Pending:
        return _Pending(self._run_many(sql, [tuple(p) for p in parameters]))

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> Sequence[Row]:
        cur = await self._run(sql, tuple(parameters or ()))
        return await cur.fetchall()

    async def _run(self, sql: str, args: tuple[Any, ...]) -> PgCursor:
        st = statement(sql)
        async with self._taking_turns():
            if st.returns_rows:
                rows = await self._target.fetch(st.text, *args)
                changed = len(rows) if st.counts_rows else 0
                self._changes += changed
                return PgCursor(rows, changed if changed else -1)
            status = await self._target.execute(st.text, *args)
        m = _COUNT.search(status or "")
        count = int(m.group(1)) if m and status.split()[0] in ("INSERT", "UPDATE", "DELETE") else -1
        self._changes += max(count, 0)
        return PgCursor((), count)

    async def _run_many(self, sql: str, rows: list[tuple[Any, ...]]) -> PgCursor:
        if rows:
            async with self._taking_turns():
                await self._target.executemany(statement(sql).text, rows)
            self._changes += len(rows)  # asyncpg does not count them; "something changed" is what is asked
        return PgCursor((), -1)

    @asynccontextmanager
    async def _taking_turns(self) -> AsyncIterator[None]:
        if self._turn is None:
            yield
            return
        async with self._turn:
            yield

    def replace(self, target: asyncpg.Connection) -> None:
        """A new connection in place of a lost one; everyone holding this object goes on with it."""
        assert isinstance(self._target, asyncpg.Connection)
        self._target = target

    @asynccontextmanager
    async def holding(self) -> AsyncIterator[asyncpg.Connection]:
        """The asyncpg connection itself, in its turn: for what the qmark calls do not say (a
        transaction's BEGIN and COMMIT, migrations). Anything sent on the writer outside a turn can meet
        a read someone else sent there and be refused ("another operation is in progress")."""
        assert isinstance(self._target, asyncpg.Connection)
        async with self._taking_turns():
            yield self._target


def _numeric(text: str) -> int | float:
    # sum() and avg() over BIGINT give NUMERIC (asyncpg: Decimal); SQLite gives int or float, and so do we.
    return int(text) if text.lstrip("-").isdigit() else float(text)


async def _prepare(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text")


async def _as_it_was(conn: asyncpg.Connection) -> None:
    """No reset when a read connection goes back to the pool: reads set no session state, and asyncpg's
    reset (RESET ALL, UNLISTEN, unlocks…) is one more round trip per read (throughput +20 %, measured
    in docs/PERFORMANCE.md "PostgreSQL")."""


async def _schema_version(raw: asyncpg.Connection) -> int:
    await raw.execute("CREATE TABLE IF NOT EXISTS desk_schema (version BIGINT NOT NULL)")
    version = await raw.fetchval("SELECT max(version) FROM desk_schema")
    return int(version or 0)


class PgDatabase:
    dialect = POSTGRESQL

    def __init__(self, dsn: str, *, password: str | None = None, read_pool: int = READ_POOL_SIZE) -> None:
        self.dsn = dsn
        self.password = password
        self.read_pool = read_pool
        self.schema = schema_of(dsn)
        # Singles without the flush wait, transactions with it (see _connect); unless the address sets
        # synchronous_commit itself, which then decides for both.
        self._split_durability = "synchronous_commit=" not in dsn
        self._keepalives = {k: v for k, v in KEEPALIVES.items() if f"{k}=" not in dsn}
        if self.schema is not None and not plain_schema_name(self.schema):
            raise ValueError(f"search_path {self.schema!r} is not a plain schema name (letters, digits, _)")
        self._raw: asyncpg.Connection | None = None
        self._conn: PgConnection | None = None
        self._pool: asyncpg.Pool | None = None
        self._read: PgConnection | None = None
        self._lock = asyncio.Lock()

    @property
    def path(self) -> str:
        """For messages: the address without its password."""
        parts = urlsplit(self.dsn)
        host = parts.hostname or ""
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{user}{host}{port}{parts.path}"

    @property
    def conn(self) -> PgConnection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def read(self) -> PgConnection:
        return self._read if self._read is not None else self.conn

    @property
    def sender_read(self) -> PgConnection:
        return self.read

    async def _connect(self) -> asyncpg.Connection:
        # The writer's single statements (a dialogue step, a draft, a sent mark: ~19 of a report's ~20
        # commits) do not wait for the WAL flush; every transaction (a filing, a decision, with its
        # outbox rows) does, by SET LOCAL in tx(). A *server* crash may lose the last ~0.6 s of single
        # statements, as SQLite's synchronous=NORMAL may on power loss; a kill -9 of the bot loses
        # nothing. Measured in docs/PERFORMANCE.md "PostgreSQL".
        settings = {"synchronous_commit": "off"} if self._split_durability else {}
        raw = await asyncpg.connect(self.dsn, password=self.password,
                                    server_settings={**self._keepalives, **settings})
        await _prepare(raw)
        return raw

    async def _writer(self) -> PgConnection:
        """The writing connection, connected again first if it was lost (the server restarted it, an
        administrator ended its session, a network device dropped it): the transaction it was in, if
        any, failed with it; the next one must not fail too. Called holding the write lock.
        (asyncpg reconnects pooled connections only; a pool of one as the writer would add an acquire and
        a release to each of a report's ~20 commits, for what this check does at no cost.)"""
        conn = self.conn
        if self._raw is not None and self._raw.is_closed():
            log.warning("the PostgreSQL writing connection was lost: connecting again")
            self._raw = await self._connect()
            conn.replace(self._raw)
        return conn

    async def open(self) -> PgDatabase:
        if self.schema:
            # The schema must exist before a connection names it in its search_path.
            bare = await asyncpg.connect(self.dsn.split("?", 1)[0], password=self.password)
            try:
                await bare.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            except (asyncpg.UniqueViolationError, asyncpg.DuplicateSchemaError):
                pass  # another instance, opening at the same moment, made it (IF NOT EXISTS is not atomic)
            finally:
                await bare.close()
        self._raw = await self._connect()
        self._conn = PgConnection(self._raw)
        await self.migrate()
        self._pool = await asyncpg.create_pool(self.dsn, password=self.password, min_size=1,
                                               max_size=self.read_pool, init=_prepare, reset=_as_it_was,
                                               server_settings=self._keepalives)
        self._read = PgConnection(self._pool)
        return self

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = self._read = None
        if self._raw is not None:
            await self._raw.close()
            self._raw = self._conn = None

    async def __aenter__(self) -> PgDatabase:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        async with self.conn.holding() as raw:
            return await _schema_version(raw)

    async def migrate(self) -> int:
        # Two instances starting together: one migrates, the other waits for it (transaction lock).
        async with self._lock, self.conn.holding() as raw, raw.transaction():
            await raw.execute("SELECT pg_advisory_xact_lock(hashtext('dutydesk.migrate'))")
            current = await _schema_version(raw)
            for version, _name, sql in migrations():
                if version <= current:
                    continue
                await raw.execute(sql)
                await raw.execute("INSERT INTO desk_schema(version) VALUES ($1)", version)
                current = version
        return current

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[PgConnection]:
        # BEGIN and COMMIT are statements in their turn like any other: a read sent on `conn` from
        # outside the transaction (a test, the demo) waits between two of them, never meets one.
        async with self._lock:
            conn = await self._writer()
            try:
                # One trip: without parameters asyncpg sends both statements as one simple query.
                await conn.execute("BEGIN; SET LOCAL synchronous_commit TO on" if self._split_durability
                                   else "BEGIN")
                yield conn
            except BaseException:
                try:
                    await conn.execute("ROLLBACK")
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    log.warning("ROLLBACK failed; the connection is gone, and the transaction with it")
                raise
            else:
                await conn.execute("COMMIT")

    @asynccontextmanager
    async def single(self) -> AsyncIterator[PgConnection]:
        """One write statement, committed on its own (autocommit), in its turn behind any transaction."""
        async with self._lock:
            yield await self._writer()

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.read.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self.read.execute_fetchall(sql, params))
