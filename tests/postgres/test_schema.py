"""Both engines hold the same schema: every table and column, at the same version; a migration added
for one engine without its twin fails here."""

from __future__ import annotations

from pathlib import Path

from bot.harness import scratch_schema
from storage import db as sqlite_db
from storage import pg
from storage.address import schema_of
from storage.db import Database
from storage.peek import drop_schema
from storage.pg import PgDatabase

BASELINE = 19  # storage/migrations/postgresql/0019_baseline.sql holds SQLite's 0001-0019 in one step


def test_every_migration_after_the_baseline_has_its_twin() -> None:
    lite = {v: name for v, name, _ in sqlite_db.migrations() if v > BASELINE}
    post = {v: name for v, name, _ in pg.migrations() if v > BASELINE}
    assert lite == post
    assert min(v for v, _, _ in pg.migrations()) == BASELINE


async def test_the_same_tables_and_columns(tmp_path: Path) -> None:
    async with Database(tmp_path / "s.sqlite3") as lite:
        tables = [r[0] for r in await lite.fetchall(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        on_sqlite = {t: [r[1] for r in await lite.fetchall(f"PRAGMA table_info({t})")] for t in tables}
        lite_version = await lite.schema_version()
    target = scratch_schema("schema")
    try:
        async with PgDatabase(target) as post:
            rows = await post.fetchall(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema=?"
                " ORDER BY table_name, ordinal_position", (schema_of(target),))
            on_pg: dict[str, list[str]] = {}
            for table, column in rows:
                on_pg.setdefault(table, []).append(column)
            pg_version = await post.schema_version()
    finally:
        await drop_schema(target)
    on_pg.pop("desk_schema")  # PostgreSQL's user_version
    assert on_pg == on_sqlite
    assert pg_version == lite_version


async def test_two_instances_opening_together_migrate_once() -> None:
    target = scratch_schema("race")
    try:
        import asyncio

        first, second = PgDatabase(target), PgDatabase(target)
        await asyncio.gather(first.open(), second.open())
        assert await first.schema_version() == await second.schema_version()
        rows = await first.fetchall("SELECT version FROM desk_schema")
        assert len(rows) == len({r[0] for r in rows})  # each version once
        await first.close()
        await second.close()
    finally:
        await drop_schema(target)
