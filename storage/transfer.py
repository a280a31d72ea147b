"""Move a district's data from its SQLite file into an empty PostgreSQL schema, and prove it arrived.

`dutydesk migrate-db` (bot/cli_migrate.py) opens the target through PgDatabase, which creates the
schema, then calls `transfer()`: every table read from the SQLite schema (parents before children,
by their foreign keys), copied with COPY in ONE PostgreSQL transaction, each value converted to its
target column's type (SQLite keeps whatever it was given: an id written as text, a number in a TEXT
column); every identity sequence moved past the largest id; then row counts and a sample of rows
compared field by field. Nothing is committed unless every table copied.

Every refusal is a `TransferError` subclass whose fields the command line words (catalog cli.migrate_*).
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from storage.db import migrations

BATCH = 5_000  # rows per COPY: bounded memory, few round trips
SAMPLE = 50  # random rows per table compared field by field, besides the first and the last
# What must be there for a file to be a DutyDesk database at all (0001_core.sql).
CORE_TABLES = frozenset({"units", "members", "outbox", "deadlines"})
# Run-time state of the processes on the old database, not the district's data: each instance writes
# its own row again on PostgreSQL (active/standby heartbeats), and old rows would only show as stale.
NOT_MOVED = frozenset({"desk_instances"})

INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
_INT_TEXT = re.compile(r"[+-]?\d+")


# --- what can go wrong, for the command line to word -----------------------------------------


class TransferError(Exception):
    """The move cannot go on; nothing was committed in the target."""


@dataclass
class NotDutyDesk(TransferError):
    path: str
    reason: str  # why, in SQLite's words or ours


@dataclass
class WrongVersion(TransferError):
    path: str
    found: int
    expected: int


@dataclass
class TargetNotEmpty(TransferError):
    counts: list[tuple[str, int]]  # tables that hold rows, and how many


@dataclass
class SchemaMismatch(TransferError):
    table: str
    column: str  # '' when the whole table is missing from the target


@dataclass
class BadValue(TransferError):
    table: str
    row: str  # the row's key as `id=12` or `notice_id=3, member_id=5`
    column: str
    value: str  # repr, clipped
    reason: str  # a code: see _Unfit


@dataclass
class NotVerified(TransferError):
    report: Report


# --- the source --------------------------------------------------------------------------------


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
    # Read in a worker thread (one at a time) while the COPY runs: see _copy_table.
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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source_tables(conn: sqlite3.Connection) -> list[Table]:
    """Every table of the file but SQLite's own and NOT_MOVED, parents before children."""
    tables: dict[str, Table] = {}
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                        "ESCAPE '\\' ORDER BY name").fetchall()
    for name, sql in rows:
        if name in NOT_MOVED:
            continue
        info = conn.execute(f"PRAGMA table_info({_quote(name)})").fetchall()  # cid, name, type, notnull, dflt, pk
        columns = tuple(r[1] for r in info)
        key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])) or columns
        parents = frozenset(r[2] for r in conn.execute(f"PRAGMA foreign_key_list({_quote(name)})")) - {name}
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


def _order(t: Table) -> str:
    return "rowid" if t.rowid else ", ".join(_quote(c) for c in t.key)


def _rows(conn: sqlite3.Connection, t: Table, sql_tail: str = "") -> Iterator[tuple[Any, ...]]:
    cols = ", ".join(_quote(c) for c in t.columns)
    yield from conn.execute(f"SELECT {cols} FROM {_quote(t.name)} {sql_tail}")


# --- the target ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # information_schema data_type: bigint, text, double precision …
    nullable: bool


async def target_columns(pg: asyncpg.Connection, table: str) -> dict[str, Column]:
    rows = await pg.fetch(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1", table)
    return {r["column_name"]: Column(r["column_name"], r["data_type"], r["is_nullable"] == "YES") for r in rows}


async def _count(pg: asyncpg.Connection, table: str) -> int:
    return int(await pg.fetchval(f"SELECT count(*) FROM {_quote(table)}"))


async def rows_present(pg: asyncpg.Connection, tables: Sequence[Table]) -> list[tuple[str, int]]:
    """Tables of the target that already hold rows (the move writes into an empty schema only)."""
    found = []
    for t in tables:
        n = await _count(pg, t.name)
        if n:
            found.append((t.name, n))
    return found


# --- converting a value to its target column's type ---------------------------------------------


UNFIT_REASONS = ("not_whole", "out_of_range", "not_number", "not_utf8", "not_text", "nul", "null", "not_bool",
                 "not_bytes")


class _Unfit(ValueError):
    """Why a value does not fit its column, as a code (BadValue.reason): not_whole, out_of_range,
    not_number, not_utf8, not_text, nul, null, not_bool, not_bytes."""


def _to_int(bits: int) -> Callable[[Any], int]:
    limit = bits

    def convert(v: Any) -> int:
        if isinstance(v, bool):
            n = int(v)
        elif isinstance(v, int):
            n = v
        elif isinstance(v, float) and v.is_integer():
            n = int(v)
        elif isinstance(v, str) and _INT_TEXT.fullmatch(v.strip()):
            n = int(v.strip())
        else:
            raise _Unfit("not_whole")
        if not -limit <= n < limit:
            raise _Unfit("out_of_range")
        return n

    return convert


def _to_float(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            pass
    raise _Unfit("not_number")


def _to_text(v: Any) -> str:
    if isinstance(v, bytes):
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError:
            raise _Unfit("not_utf8") from None
    if isinstance(v, float):
        v = repr(v)
    elif isinstance(v, int):
        v = str(v)
    if not isinstance(v, str):
        raise _Unfit("not_text")
    if "\x00" in v:
        raise _Unfit("nul")
    return v


def _to_bool(v: Any) -> bool:
    if v in (0, 1) and not isinstance(v, float):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in ("0", "1", "true", "false"):
        return v.strip().lower() in ("1", "true")
    raise _Unfit("not_bool")


def _to_bytes(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    raise _Unfit("not_bytes")


def converter(column: Column) -> Callable[[Any], Any]:
    """SQLite's value → what asyncpg writes into `column`; raises _Unfit with the reason."""
    t = column.type
    if t in INT_RANGES:
        base: Callable[[Any], Any] = _to_int(INT_RANGES[t])
    elif t in ("double precision", "real", "numeric"):
        base = _to_float
    elif t in ("text", "character varying", "character", "json", "jsonb"):
        base = _to_text
    elif t == "boolean":
        base = _to_bool
    elif t == "bytea":
        base = _to_bytes
    else:
        raise SchemaMismatch("", f"{column.name} ({t})")

    def convert(v: Any) -> Any:
        if v is None:
            if not column.nullable:
                raise _Unfit("null")
            return None
        return base(v)

    return convert


def _row_key(t: Table, row: Sequence[Any]) -> str:
    key = t.key if t.key != t.columns else (("id",) if "id" in t.columns else t.key[:2])
    return ", ".join(f"{c}={_clip(row[t.columns.index(c)])}" for c in key)


def _clip(v: Any) -> str:
    if isinstance(v, bytes):  # read as bytes to find text that is not UTF-8 (_find_undecodable)
        v = v.decode("utf-8", errors="backslashreplace")
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _fits(name: str, column: Column) -> str:
    """SQL true when SQLite holds the value as the very thing asyncpg writes into `column` unchanged
    (nearly every row): those rows skip the converters, which cost 3/4 of the move's time."""
    c = _quote(name)
    t = column.type
    if t == "bigint":
        test = f"typeof({c}) = 'integer'"
    elif t in INT_RANGES:
        test = f"typeof({c}) = 'integer' AND {c} BETWEEN {-INT_RANGES[t]} AND {INT_RANGES[t] - 1}"
    elif t in ("double precision", "real"):
        test = f"typeof({c}) = 'real'"
    elif t in ("text", "character varying"):
        test = f"typeof({c}) = 'text' AND instr({c}, char(0)) = 0"
    else:
        return "0"
    return f"({c} IS NULL OR {test})" if column.nullable else f"({test})"


class _Plan:
    """One table's copy: its target columns and a converter per column."""

    def __init__(self, t: Table, target: dict[str, Column]) -> None:
        self.table = t
        for c in t.columns:
            if c not in target:
                raise SchemaMismatch(t.name, c)
        try:
            self.converters = [converter(target[c]) for c in t.columns]
        except SchemaMismatch as exc:
            raise SchemaMismatch(t.name, exc.column) from None
        self.fits = " AND ".join(_fits(c, target[c]) for c in t.columns) or "1"


    def convert(self, row: Sequence[Any]) -> tuple[Any, ...]:
        out = []
        for i, (conv, v) in enumerate(zip(self.converters, row, strict=True)):
            try:
                out.append(conv(v))
            except _Unfit as exc:
                t = self.table
                raise BadValue(t.name, _row_key(t, row), t.columns[i], _clip(v), str(exc)) from None
        return tuple(out)


# --- copy, sequences, verification ---------------------------------------------------------------


@dataclass
class TableCheck:
    name: str
    source_rows: int
    target_rows: int = 0
    sampled: int = 0
    mismatches: list[str] = field(default_factory=list)  # "column at row: source value ≠ target value"

    @property
    def verified(self) -> bool:
        return self.source_rows == self.target_rows and not self.mismatches


@dataclass
class Report:
    tables: list[TableCheck]
    sequences: dict[str, int]  # table → the next id its identity will give

    @property
    def verified(self) -> bool:
        return all(t.verified for t in self.tables)


async def _copy_table(src: sqlite3.Connection, pg: asyncpg.Connection, plan: _Plan) -> int:
    """Reads and converts the next batch in a thread while PostgreSQL takes this one: reading SQLite and
    the server's COPY each took about half of the time (701,011 rows: see docs/PERFORMANCE.md)."""
    t = plan.table
    cols = ", ".join(_quote(c) for c in t.columns)
    cursor = src.execute(f"SELECT {plan.fits}, {cols} FROM {_quote(t.name)} ORDER BY {_order(t)}")

    def next_batch() -> list[tuple[Any, ...]]:
        try:
            rows = cursor.fetchmany(BATCH)
        except sqlite3.OperationalError as exc:  # text that is not UTF-8: find the row, name it
            _find_undecodable(src, plan)
            raise NotDutyDesk("", f"{t.name}: {exc}") from None
        return [r[1:] if r[0] else plan.convert(r[1:]) for r in rows]

    copied = 0
    reading = asyncio.ensure_future(asyncio.to_thread(next_batch))
    try:
        while batch := await reading:
            reading = asyncio.ensure_future(asyncio.to_thread(next_batch))
            await pg.copy_records_to_table(t.name, records=batch, columns=list(t.columns))
            copied += len(batch)
        return copied
    finally:
        if not reading.done():  # the COPY failed: the thread finishes with the file before anything else
            await asyncio.wait([reading])
        if reading.done() and not reading.cancelled():
            reading.exception()  # retrieved: its error, if any, is not the one to report


def _find_undecodable(src: sqlite3.Connection, plan: _Plan) -> None:
    """Raises BadValue for the first row holding text that is not UTF-8 (read as bytes, it converts)."""
    factory = src.text_factory
    src.text_factory = bytes
    try:
        for row in _rows(src, plan.table, f"ORDER BY {_order(plan.table)}"):
            plan.convert(row)
    finally:
        src.text_factory = factory


async def _identities(pg: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    """(column, sequence) of each identity or serial column of the target table."""
    rows = await pg.fetch(
        "SELECT column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) AS seq "
        "FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1", table)
    return [(r["column_name"], r["seq"]) for r in rows if r["seq"]]


async def reset_sequences(pg: asyncpg.Connection, tables: Sequence[Table]) -> dict[str, int]:
    """Each identity's next value is past the largest id copied, so the bot's next rows do not collide."""
    nexts: dict[str, int] = {}
    for t in tables:
        for column, seq in await _identities(pg, t.name):
            top = await pg.fetchval(f"SELECT COALESCE(max({_quote(column)}), 0) FROM {_quote(t.name)}")
            await pg.execute("SELECT setval($1, $2, false)", seq, int(top) + 1)
            nexts[t.name] = int(top) + 1
    return nexts


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(type(a) is type(b) and a == b)


def _sample(src: sqlite3.Connection, t: Table, count: int, n: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """The first row, the last, and `n` others at random (every row of a table that small). Random
    rowids are looked up one by one: ORDER BY random() read every row of the big tables (8 of 24 s)."""
    order = _order(t)
    yield from _rows(src, t, f"ORDER BY {order} LIMIT 1")
    yield from _rows(src, t, f"ORDER BY {order.replace(', ', ' DESC, ')} DESC LIMIT 1")
    if count <= n + 2:
        yield from _rows(src, t)
    elif not t.rowid:
        yield from _rows(src, t, f"ORDER BY random() LIMIT {int(n)}")
    else:
        low, high = src.execute(f"SELECT min(rowid), max(rowid) FROM {_quote(t.name)}").fetchone()
        seen: set[int] = set()
        for _ in range(4 * n):
            if len(seen) == n:
                break
            for row in _rows(src, t, f"WHERE rowid >= {rng.randint(low, high)} ORDER BY rowid LIMIT 1"):
                key = hash(row)
                if key not in seen:
                    seen.add(key)
                    yield row


def _by_key(t: Table, cols: str, key: tuple[Any, ...]) -> tuple[Any, ...]:
    """The query (and its parameters) for the target's rows with this key: `=` where the key has a value,
    as IS NOT DISTINCT FROM takes no index (a scan per row: 4 s for 52 rows of a 300,000-row table)."""
    terms, params = [], []
    for c, v in zip(t.key, key, strict=True):
        if v is None:
            terms.append(f"{_quote(c)} IS NULL")
        else:
            params.append(v)
            terms.append(f"{_quote(c)} = ${len(params)}")
    return (f"SELECT {cols} FROM {_quote(t.name)} WHERE {' AND '.join(terms)}", *params)


async def _verify_table(src: sqlite3.Connection, pg: asyncpg.Connection, plan: _Plan, sample: int,
                        rng: random.Random) -> TableCheck:
    t = plan.table
    check = TableCheck(t.name, int(src.execute(f"SELECT count(*) FROM {_quote(t.name)}").fetchone()[0]))
    check.target_rows = await _count(pg, t.name)
    picked: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in _sample(src, t, check.source_rows, sample, rng):
        expected = plan.convert(row)
        picked[tuple(expected[t.columns.index(c)] for c in t.key)] = expected
    cols = ", ".join(_quote(c) for c in t.columns)
    for key, expected in picked.items():
        found = await pg.fetch(*_by_key(t, cols, key))
        label = ", ".join(f"{c}={v!r}" for c, v in zip(t.key, key, strict=True)) if t.key != t.columns else "row"
        if len(found) != 1 and t.key != t.columns:
            check.mismatches.append(f"{label}: {len(found)} rows in the target")
            continue
        if not found:
            check.mismatches.append(f"{_clip(expected)}: missing from the target")
            continue
        got = tuple(found[0])
        for c, a, b in zip(t.columns, expected, got, strict=True):
            if not _same(a, b):
                check.mismatches.append(f"{c} at {label}: {_clip(a)} ≠ {_clip(b)}")
    check.sampled = len(picked)
    return check


async def transfer(src: sqlite3.Connection, pg: asyncpg.Connection, *, sample: int = SAMPLE,
                   rng: random.Random | None = None) -> Report:
    """Copy every table of `src` (open_source) into the empty schema `pg` is connected to, in one
    transaction, then verify. Raises a TransferError (nothing committed) or returns the report;
    NotVerified when counts or sampled rows differ (rolled back too)."""
    tables = source_tables(src)
    plans = []
    for t in tables:
        target = await target_columns(pg, t.name)
        if not target:
            raise SchemaMismatch(t.name, "")
        plans.append(_Plan(t, target))
    async with pg.transaction():
        present = await rows_present(pg, tables)
        if present:
            raise TargetNotEmpty(present)
        for plan in plans:
            # The target's own triggers (handled-update marks, pruning) would add or drop rows the
            # copy brings as they were: off for this transaction only (ALTER TABLE is transactional).
            await pg.execute(f"ALTER TABLE {_quote(plan.table.name)} DISABLE TRIGGER USER")
            await _copy_table(src, pg, plan)
            await pg.execute(f"ALTER TABLE {_quote(plan.table.name)} ENABLE TRIGGER USER")
        sequences = await reset_sequences(pg, tables)
        # Checked before the commit: a copy that does not match is rolled back, the target left empty.
        rng = rng or random.Random()
        report = Report([await _verify_table(src, pg, plan, sample, rng) for plan in plans], sequences)
        if not report.verified:
            raise NotVerified(report)
    return report
