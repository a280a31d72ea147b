"""The tables to move: read from the SQLite file's own schema (parents before children), each with its
plan for the target — the target's columns and a converter per column."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from storage.db import migrations
from storage.transfer._errors import BadValue, NotDutyDesk, SchemaMismatch, WrongVersion
from storage.transfer._values import Column, Unfit, clip, converter, fits, quote

# What must be there for a file to be a DutyDesk database at all (0001_core.sql).
CORE_TABLES = frozenset({"units", "members", "outbox", "deadlines"})
# Run-time state of the processes on the old database, not the district's data: each instance writes
# its own row again on PostgreSQL (active/standby heartbeats), and old rows would only show as stale.
NOT_MOVED = frozenset({"desk_instances"})


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # primary key columns; every column when the table has none
    parents: frozenset[str]
    rowid: bool  # an ordinary rowid table (order of insertion); else ordered by its key


def code_version() -> int:
    return max(v for v, _, _ in migrations())


def open_source(path: Path | str) -> sqlite3.Connection:
    """The SQLite file, read-only, checked to be a DutyDesk database at this code's schema version.
    A read transaction is open on return: everything read afterwards is one snapshot."""
    p = Path(path)
    if not p.is_file():
        raise NotDutyDesk(str(path), "no such file")
    # Read in a worker thread (one at a time) while the COPY runs: see _copy.copy_table.
    conn = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("BEGIN")
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise NotDutyDesk(str(path), str(exc)) from None
    missing = CORE_TABLES - names
    if missing:
        conn.close()
        raise NotDutyDesk(str(path), "no table " + ", ".join(sorted(missing)))
    if version != code_version():
        conn.close()
        raise WrongVersion(str(path), version, code_version())
    return conn


def source_tables(conn: sqlite3.Connection) -> list[Table]:
    """Every table of the file but SQLite's own and NOT_MOVED, parents before children."""
    tables: dict[str, Table] = {}
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                        "ESCAPE '\\' ORDER BY name").fetchall()
    for name, sql in rows:
        if name in NOT_MOVED:
            continue
        info = conn.execute(f"PRAGMA table_info({quote(name)})").fetchall()  # cid, name, type, notnull, dflt, pk
        columns = tuple(r[1] for r in info)
        key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])) or columns
        parents = frozenset(r[2] for r in conn.execute(f"PRAGMA foreign_key_list({quote(name)})")) - {name}
        rowid = "WITHOUT ROWID" not in (sql or "").upper()
        tables[name] = Table(name, columns, key, parents, rowid)
    ordered: list[Table] = []
    placed: set[str] = set()
    while len(ordered) < len(tables):
        ready = [t for t in tables.values() if t.name not in placed and t.parents <= placed | (t.parents - set(tables))]
        if not ready:  # a cycle of foreign keys: no order copies it with checks on
            stuck = sorted(set(tables) - placed)
            raise NotDutyDesk("", "foreign keys form a cycle among " + ", ".join(stuck))
        for t in ready:
            ordered.append(t)
            placed.add(t.name)
    return ordered


def order(t: Table) -> str:
    return "rowid" if t.rowid else ", ".join(quote(c) for c in t.key)


def rows(conn: sqlite3.Connection, t: Table, sql_tail: str = "") -> Iterator[tuple[Any, ...]]:
    cols = ", ".join(quote(c) for c in t.columns)
    yield from conn.execute(f"SELECT {cols} FROM {quote(t.name)} {sql_tail}")


async def target_columns(pg: asyncpg.Connection, table: str) -> dict[str, Column]:
    rows = await pg.fetch(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1", table)
    return {r["column_name"]: Column(r["column_name"], r["data_type"], r["is_nullable"] == "YES") for r in rows}


async def count(pg: asyncpg.Connection, table: str) -> int:
    return int(await pg.fetchval(f"SELECT count(*) FROM {quote(table)}"))


def row_key(t: Table, row: Sequence[Any]) -> str:
    key = t.key if t.key != t.columns else (("id",) if "id" in t.columns else t.key[:2])
    return ", ".join(f"{c}={clip(row[t.columns.index(c)])}" for c in key)


class Plan:
    """One table's copy: its target columns and a converter per column."""

    def __init__(self, t: Table, target: dict[str, Column]) -> None:
        self.table = t
        for c in t.columns:
            if c not in target:
                raise SchemaMismatch(t.name, c)
        try:
            self.converters = [converter(target[c]) for c in t.columns]
        except LookupError as exc:
            raise SchemaMismatch(t.name, str(exc)) from None
        self.fits = " AND ".join(fits(c, target[c]) for c in t.columns) or "1"

    def convert(self, row: Sequence[Any]) -> tuple[Any, ...]:
        out = []
        for i, (conv, v) in enumerate(zip(self.converters, row, strict=True)):
            try:
                out.append(conv(v))
            except Unfit as exc:
                t = self.table
                raise BadValue(t.name, row_key(t, row), t.columns[i], clip(v), str(exc)) from None
        return tuple(out)
