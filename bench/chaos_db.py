"""The chaos run's look into the desk's database from outside the bot, on either engine.

`with look(target) as conn: conn.execute(sql, params).fetchall()`, rows read by name or position
(sqlite3.Row; asyncpg's Record), the same qmark SQL on both. SQLite opens the file read-only;
PostgreSQL keeps one connection on a thread of its own for the block (the caller's event loop is
the harness's, and these reads are short: a kill's in-flight count, the drain, the checks)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from storage.address import is_postgres_url
from storage.peek import Rows as Fetched
from storage.pg import statement

T = TypeVar("T")


class Rows(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Look(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...

    def __enter__(self) -> Look: ...

    def __exit__(self, *exc: object) -> None: ...


class _SqliteLook:
    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        self._conn.row_factory = sqlite3.Row

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return self._conn.execute(sql, tuple(params))

    def __enter__(self) -> _SqliteLook:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.close()


class _PgLook:
    def __init__(self, dsn: str) -> None:
        import asyncpg

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-look", daemon=True)
        self._thread.start()
        try:
            self._conn = self._call(asyncpg.connect(dsn, timeout=30))
        except BaseException:
            self._stop()
            raise

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=120)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        rows = self._call(self._conn.fetch(statement(sql).text, *params))
        return Fetched(rows, len(rows))

    def __enter__(self) -> _PgLook:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._call(self._conn.close())
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def look(target: str | Path) -> Look:
    """A read-only look at a SQLite file or a postgresql:// address (with its ?search_path)."""
    if isinstance(target, str) and is_postgres_url(target):
        return _PgLook(target)
    return _SqliteLook(str(target))
