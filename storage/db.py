"""One aiosqlite connection in WAL mode, foreign keys on, versioned migrations.

Writers take `async with db.tx() as conn:`; a lock serialises transactions on the
shared connection so a state change and the outbox rows it causes commit together.
Reads outside a transaction go to `db.read`, a second, read-only connection: in WAL
mode it sees committed rows only, never those of a transaction still open (and
perhaps about to roll back) on the shared one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "storage.migrations"


def to_db(dt: datetime | None) -> str | None:
    """Store UTC as ISO text: sortable, readable in the sqlite shell."""
    if dt is None:
        return None
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    # fromisoformat (C) reads what to_db writes (the trailing Z included) ~20x faster than strptime.
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def migrations(package: str = MIGRATIONS_PACKAGE) -> list[tuple[int, str, str]]:
    """(version, name, sql) for every `NNNN_name.sql` in the package (SQLite's: storage/migrations), in order."""
    found = []
    for entry in resources.files(package).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name[5:-4], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found


def statements(script: str) -> list[str]:
    """A migration script's statements, one by one (a trigger's BEGIN … END stays whole)."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                found.append(pending.strip())
            pending = ""
    if pending.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in pending.splitlines()):
        raise RuntimeError(f"migration ends inside a statement: {pending.strip()[:60]!r}")
    return found


OPEN_ATTEMPTS = 10


async def connect(path: str | Path, *pragmas: str) -> aiosqlite.Connection:
    """An autocommit aiosqlite connection with `pragmas` run on it, opened to the end even when the
    caller is cancelled.

    aiosqlite opens the file on a thread of its own and hands the connection back to the event loop.
    Cancelled half-way (a SIGTERM while waiting, a desk closed the moment it opened), that connection
    was never closed: its thread lived on and, once the loop had closed, printed a traceback to stderr.
    Here a cancelled open is finished and closed before the cancellation goes on."""
    opening = asyncio.ensure_future(_connect(path, pragmas))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        try:
            await (await opening).close()
        except Exception as exc:  # noqa: BLE001 - the file could not be opened: nothing to close
            log.debug("a cancelled open: %s", exc)
        raise


async def _connect(path: str | Path, pragmas: tuple[str, ...]) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in pragmas:
            await conn.execute(pragma)
    except BaseException:
        await conn.close()
        raise
    conn.row_factory = aiosqlite.Row
    return conn
CHECKPOINT_EVERY = 5.0  # seconds between WAL checkpoints, taken off the writers' path (see open())


class Database:
    def __init__(self, path: Path | str, checkpoint_every: float = CHECKPOINT_EVERY) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._sender_reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self.checkpoint_every = checkpoint_every
        self._checkpointer: asyncio.Task[None] | None = None
        self._checkpointing: aiosqlite.Connection | None = None

    @property
    def conn(self) -> aiosqlite.Connection:
        """The writing connection: inside `tx()`/`single()`, or for reads that must see that transaction."""
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def sender_read(self) -> aiosqlite.Connection:
        """The outbox sender's own reading connection. On the shared `read`, a handler's cursor open
        between two trips holds the snapshot for every read queued there meanwhile; a pass reading
        such a snapshot can miss an alert just committed, find nothing and rest until the next commit."""
        return self._sender_reader if self._sender_reader is not None else self.read

    @property
    def read(self) -> aiosqlite.Connection:
        """For reads outside a transaction: committed rows only (an in-memory database has one connection)."""
        if self._reader is None:
            return self.conn
        return self._reader

    async def open(self) -> Database:
        if self.path != ":memory:":
            p = Path(self.path)
            p.parent.mkdir(parents=True, exist_ok=True)
            if not p.exists():
                # Owner-only from the first byte: the file holds incident details.
                fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            os.chmod(p, 0o600)
        try:
            await self._open_connections()
        except BaseException:
            await self.close()  # what opened before the failure or cancellation: no thread left behind
            raise
        return self

    async def _open_connections(self) -> None:
        self._conn = await connect(self.path, "PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON",
                                   "PRAGMA synchronous=NORMAL")
        for attempt in range(OPEN_ATTEMPTS):
            # A new file opened by two instances at once: while the other switches it to WAL, the lock
            # is refused at once rather than waited for (SQLite's deadlock rule): try again.
            try:
                await self._conn.execute("PRAGMA journal_mode=WAL")
                await self.migrate()
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == OPEN_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        if self.path != ":memory:":
            # SQLite checkpoints the WAL inside whichever commit crosses 1,000 pages: that commit
            # (an alert's, say) then waits for the copy and its fsync. Checkpoint on a second
            # connection, in its own thread, every few seconds instead (p99 alert latency 34 → 23 ms).
            await self._conn.execute("PRAGMA wal_autocheckpoint=0")
            # Its connection is opened here, not in the task: closing the desk cancels the task, and an
            # open cancelled half-way is what connect() has to clean up after.
            self._checkpointing = await connect(self.path, "PRAGMA busy_timeout=5000")
            self._checkpointer = asyncio.create_task(self._checkpoint_loop(self._checkpointing),
                                                     name="wal-checkpoint")
            # query_only: a write on a reader would bypass the lock; refuse it.
            self._reader = await connect(self.path, "PRAGMA query_only=ON", "PRAGMA busy_timeout=5000")
            self._sender_reader = await connect(self.path, "PRAGMA query_only=ON", "PRAGMA busy_timeout=5000")

    async def _checkpoint_loop(self, conn: aiosqlite.Connection) -> None:
        while True:
            await asyncio.sleep(self.checkpoint_every)
            try:
                await self.checkpoint(conn)
            except sqlite3.Error as exc:  # e.g. busy: the next round takes it
                log.warning("WAL checkpoint failed: %s", exc)

    @staticmethod
    async def checkpoint(conn: aiosqlite.Connection) -> tuple[int, int, int]:
        """PASSIVE: copies what no reader still needs, never waits for or blocks a writer.
        Returns (busy, frames in the WAL, frames checkpointed)."""
        rows = list(await conn.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)"))
        return rows[0][0], rows[0][1], rows[0][2]

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            try:
                await self._checkpointer
            except asyncio.CancelledError:
                pass
            self._checkpointer = None
        for other in (self._checkpointing, self._reader, self._sender_reader):
            if other is not None:
                await other.close()  # after a checkpoint still running on its thread, if one was
        self._checkpointing = self._reader = self._sender_reader = None
        if self._conn is not None:
            await self._conn.close()  # the last connection to close checkpoints what is left
            self._conn = None

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        row = await (await self.conn.execute("PRAGMA user_version")).fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Every migration not yet applied, in ONE write transaction that reads the version inside it:
        a second process opening the same file at the same moment waits (busy_timeout), then finds
        the work done (reading it before the lock, both would run the same migration)."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                current = await self.schema_version()
                for version, _name, sql in migrations():
                    if version > current:
                        for statement in statements(sql):
                            await self.conn.execute(statement)
                        await self.conn.execute(f"PRAGMA user_version = {version}")
                        current = version
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")
        return current

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def single(self) -> AsyncIterator[aiosqlite.Connection]:
        """For exactly ONE write statement, the block's first await: it commits on its own
        (autocommit), in one trip to the database thread instead of three (BEGIN, statement,
        COMMIT). Used on the per-update hot path (conversation state, dialogue drafts); see
        bench/throughput.py.

        It waits its turn behind any transaction (open or waiting), but does not hold the lock
        while its statement runs: aiosqlite's thread runs calls in the order they were queued, and
        the statement is queued the moment the block awaits it, before any later transaction can
        queue its BEGIN. So it never lands inside another coroutine's transaction, and the singles
        of concurrent updates follow one another in the database thread without each waiting for
        the event loop to take the previous one's answer (they held the lock ~0.3 ms each)."""
        while self._lock.locked():
            async with self._lock:  # FIFO behind the transaction(s) ahead
                pass
        yield self.conn

    # Reads on `read` run to their end in one trip: a cursor open between trips holds that
    # connection's snapshot for every read interleaved there (see outbox.message_id_of).
    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        rows = list(await self.read.execute_fetchall(sql, tuple(params)))
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self.read.execute_fetchall(sql, tuple(params)))

    async def backup(self, dest: Path | str) -> None:
        """A consistent copy of the live database through SQLite's backup API."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(dest)
        try:
            async with self._lock:
                await self.conn.backup(target)
        finally:
            target.close()
        os.chmod(dest, 0o600)
