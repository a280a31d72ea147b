"""On PostgreSQL a transaction (a filing, a decision and its outbox rows) waits for the WAL flush; a single
autocommitted statement (a dialogue step, a draft, a sent mark) does not. An address that sets
synchronous_commit itself decides for both."""

from __future__ import annotations

from bot.harness import scratch_schema
from storage.peek import drop_schema
from storage.pg import PgDatabase


async def _modes(target: str) -> tuple[str, str]:
    db = await PgDatabase(target).open()
    try:
        async with db.tx() as conn:
            in_tx = (await conn.execute_fetchall("SELECT current_setting('synchronous_commit')"))[0][0]
        async with db.single() as conn:
            single = (await conn.execute_fetchall("SELECT current_setting('synchronous_commit')"))[0][0]
        return in_tx, single
    finally:
        await db.close()


async def test_transactions_are_durable_single_statements_are_not_waited_for() -> None:
    target = scratch_schema("durable")
    try:
        assert await _modes(target) == ("on", "off")
    finally:
        await drop_schema(target)


async def test_an_address_that_sets_it_decides() -> None:
    target = scratch_schema("durable")
    base, query = target.split("?", 1)
    for mode in ("on", "off"):
        try:
            assert await _modes(f"{base}?synchronous_commit={mode}&{query}") == (mode, mode)
        finally:
            await drop_schema(target)
