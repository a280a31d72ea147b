"""The writer's one asyncpg connection refuses two operations at once ("another operation is in
progress"). Everything sent on it takes its turn: the storage calls, and a transaction's own BEGIN and
COMMIT, so a read sent on `db.conn` from outside a transaction (the test harness, the demo) waits
between two statements instead of colliding with a commit. CI caught the collision once, in a failover
test reading the outbox while a deactivation committed."""

from __future__ import annotations

import asyncio

from bot.harness import scratch_schema
from storage.peek import drop_schema
from storage.pg import PgDatabase


async def test_reads_on_the_writer_meet_transactions_singles_and_commits_without_collision() -> None:
    target = scratch_schema("turns")
    db = await PgDatabase(target).open()
    try:
        async with db.tx() as conn:
            await conn.execute("CREATE TABLE turns (id BIGINT GENERATED ALWAYS AS IDENTITY, n BIGINT)")
        stop = asyncio.Event()

        async def write(k: int) -> None:
            async with db.tx() as conn:
                for i in range(3):
                    await conn.execute("INSERT INTO turns(n) VALUES (?)", (k * 10 + i,))
                    await asyncio.sleep(0)

        async def single(k: int) -> None:
            async with db.single() as conn:
                await conn.execute("INSERT INTO turns(n) VALUES (?)", (-k,))

        async def peek() -> int:
            reads = 0
            while not stop.is_set():
                await db.conn.execute_fetchall("SELECT count(*) FROM turns")
                await db.schema_version()
                reads += 1
            return reads

        peekers = [asyncio.ensure_future(peek()) for _ in range(3)]
        await asyncio.gather(*(write(k) for k in range(40)), *(single(k) for k in range(1, 41)))
        stop.set()
        assert all(n > 0 for n in await asyncio.gather(*peekers))
        rows = await db.fetchall("SELECT count(*) FROM turns")
        assert rows[0][0] == 40 * 3 + 40
    finally:
        await db.close()
        await drop_schema(target)


async def test_a_failed_transaction_rolls_back_and_the_writer_goes_on() -> None:
    target = scratch_schema("turns")
    db = await PgDatabase(target).open()
    try:
        async with db.tx() as conn:
            await conn.execute("CREATE TABLE turns (n BIGINT PRIMARY KEY)")
        try:
            async with db.tx() as conn:
                await conn.execute("INSERT INTO turns(n) VALUES (1)")
                await conn.execute("INSERT INTO turns(n) VALUES (1)")  # refused: the whole transaction goes
        except Exception as e:  # noqa: BLE001 - asyncpg's UniqueViolationError
            assert "unique" in str(e).lower() or "duplicate" in str(e).lower()
        else:
            raise AssertionError("the duplicate key was accepted")
        async with db.tx() as conn:
            await conn.execute("INSERT INTO turns(n) VALUES (2)")
        assert [r[0] for r in await db.fetchall("SELECT n FROM turns ORDER BY n")] == [2]
    finally:
        await db.close()
        await drop_schema(target)
