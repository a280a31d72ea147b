"""The move itself: every table copied with COPY in ONE PostgreSQL transaction, identities moved past
the largest id copied, then verified before the commit (storage/transfer/__init__.py says the whole)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.transfer._check import SAMPLE, Report, verify_table
from storage.transfer._errors import NotDutyDesk, NotVerified, SchemaMismatch, TargetNotEmpty
from storage.transfer._tables import Plan, Table, count, order, rows, source_tables, target_columns
from storage.transfer._values import quote

BATCH = 5_000  # rows per COPY: bounded memory, few round trips


async def rows_present(pg: asyncpg.Connection, tables: Sequence[Table]) -> list[tuple[str, int]]:
    """Tables of the target that already hold rows (the move writes into an empty schema only)."""
    found = []
    for t in tables:
        n = await count(pg, t.name)
        if n:
            found.append((t.name, n))
    return found


async def copy_table(src: sqlite3.Connection, pg: asyncpg.Connection, plan: Plan) -> int:
    """Reads and converts the next batch in a thread while PostgreSQL takes this one: reading SQLite and
    the server's COPY each took about half of the time (701,011 rows: see docs/PERFORMANCE.md)."""
    t = plan.table
    cols = ", ".join(quote(c) for c in t.columns)
    cursor = src.execute(f"SELECT {plan.fits}, {cols} FROM {quote(t.name)} ORDER BY {order(t)}")

    def next_batch() -> list[tuple[Any, ...]]:
        try:
            read = cursor.fetchmany(BATCH)
        except sqlite3.OperationalError as exc:  # text that is not UTF-8: find the row, name it
            find_undecodable(src, plan)
            raise NotDutyDesk("", f"{t.name}: {exc}") from None
        return [r[1:] if r[0] else plan.convert(r[1:]) for r in read]

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


def find_undecodable(src: sqlite3.Connection, plan: Plan) -> None:
    """Raises BadValue for the first row holding text that is not UTF-8 (read as bytes, it converts)."""
    factory = src.text_factory
    src.text_factory = bytes
    try:
        for row in rows(src, plan.table, f"ORDER BY {order(plan.table)}"):
            plan.convert(row)
    finally:
        src.text_factory = factory


async def _identities(pg: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    """(column, sequence) of each identity or serial column of the target table."""
    found = await pg.fetch(
        "SELECT column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) AS seq "
        "FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1", table)
    return [(r["column_name"], r["seq"]) for r in found if r["seq"]]


async def reset_sequences(pg: asyncpg.Connection, tables: Sequence[Table]) -> dict[str, int]:
    """Each identity's next value is past the largest id copied, so the bot's next rows do not collide."""
    nexts: dict[str, int] = {}
    for t in tables:
        for column, seq in await _identities(pg, t.name):
            top = await pg.fetchval(f"SELECT COALESCE(max({quote(column)}), 0) FROM {quote(t.name)}")
            await pg.execute("SELECT setval($1, $2, false)", seq, int(top) + 1)
            nexts[t.name] = int(top) + 1
    return nexts


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
        plans.append(Plan(t, target))
    async with pg.transaction():
        present = await rows_present(pg, tables)
        if present:
            raise TargetNotEmpty(present)
        for plan in plans:
            # The target's own triggers (handled-update marks, pruning) would add or drop rows the
            # copy brings as they were: off for this transaction only (ALTER TABLE is transactional).
            await pg.execute(f"ALTER TABLE {quote(plan.table.name)} DISABLE TRIGGER USER")
            await copy_table(src, pg, plan)
            await pg.execute(f"ALTER TABLE {quote(plan.table.name)} ENABLE TRIGGER USER")
        sequences = await reset_sequences(pg, tables)
        # Checked before the commit: a copy that does not match is rolled back, the target left empty.
        rng = rng or random.Random()
        report = Report([await verify_table(src, pg, plan, sample, rng) for plan in plans], sequences)
        if not report.verified:
            raise NotVerified(report)
    return report
