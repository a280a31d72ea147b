"""The writer's one asyncpg connection refuses two operations at once ("another operation is in
progress"). Everything sent on it takes its turn: the storage calls, and a transaction's own BEGIN and
COMMIT, so a read sent on `db.conn` from outside a transaction (the test harness, the demo) waits
between two statements instead of colliding with a commit. CI caught the collision once, in a failover
test reading the outbox while a deactivation committed."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.harness import scratch_schema
from storage.peek import drop_schema
from storage.pg import KEEPALIVES, PgDatabase


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


async def _end_sessions(target: str, pids: set[int]) -> None:
    """What a server restart or an administrator's pg_terminate_backend does to the bot's sessions."""
    admin = await asyncpg.connect(target.split("?", 1)[0])
    try:
        await admin.execute("SELECT pg_terminate_backend(p) FROM unnest($1::int[]) AS p", sorted(pids))
    finally:
        await admin.close()


async def _backends(db: PgDatabase) -> set[int]:
    writer = (await db.conn.execute_fetchall("SELECT pg_backend_pid()"))[0][0]
    return {writer, *(r[0] for r in await db.fetchall("SELECT pg_backend_pid()"))}


async def _until_closed(db: PgDatabase) -> None:
    """The writer has heard its session end (asyncpg is told at once; this only lets the loop run)."""
    for _ in range(500):
        if db._raw is not None and db._raw.is_closed():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the writer never heard that its session ended")


async def test_the_writer_connects_again_after_its_session_ended() -> None:
    target = scratch_schema("turns")
    db = await PgDatabase(target).open()
    try:
        async with db.tx() as conn:
            await conn.execute("CREATE TABLE turns (n BIGINT PRIMARY KEY)")
        before = await _backends(db)
        await _end_sessions(target, before)
        await _until_closed(db)
        async with db.tx() as conn:  # the next transaction and the next single both go through
            await conn.execute("INSERT INTO turns(n) VALUES (1)")
            assert (await conn.execute_fetchall("SELECT current_setting('synchronous_commit')"))[0][0] == "on"
        async with db.single() as conn:
            await conn.execute("INSERT INTO turns(n) VALUES (2)")
            assert (await conn.execute_fetchall("SELECT current_setting('synchronous_commit')"))[0][0] == "off"
            assert (await conn.execute_fetchall("SELECT sum(n) FROM turns"))[0][0] == 3  # numeric codec again
        assert [r[0] for r in await db.fetchall("SELECT n FROM turns ORDER BY n")] == [1, 2]  # the pool too
        assert not (await _backends(db)) & before
    finally:
        await db.close()
        await drop_schema(target)


async def test_a_transaction_cut_off_fails_alone_and_leaves_nothing_half_done() -> None:
    target = scratch_schema("turns")
    db = await PgDatabase(target).open()
    try:
        async with db.tx() as conn:
            await conn.execute("CREATE TABLE turns (n BIGINT PRIMARY KEY)")
        writer = (await db.conn.execute_fetchall("SELECT pg_backend_pid()"))[0][0]
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            async with db.tx() as conn:
                await conn.execute("INSERT INTO turns(n) VALUES (1)")
                await _end_sessions(target, {writer})
                await _until_closed(db)
                await conn.execute("INSERT INTO turns(n) VALUES (2)")
        async with db.tx() as conn:
            await conn.execute("INSERT INTO turns(n) VALUES (3)")
        assert [r[0] for r in await db.fetchall("SELECT n FROM turns ORDER BY n")] == [3]
    finally:
        await db.close()
        await drop_schema(target)


def test_the_server_keeps_probing_idle_connections_unless_the_address_says_otherwise() -> None:
    assert PgDatabase("postgresql://h/db")._keepalives == KEEPALIVES
    assert "tcp_keepalives_idle" not in PgDatabase("postgresql://h/db?tcp_keepalives_idle=5")._keepalives
