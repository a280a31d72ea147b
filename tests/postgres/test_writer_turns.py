"""The writer's one asyncpg connection refuses two operations at once ("another operation is in
progress"). Everything sent on it takes its turn: the storage calls, and a transaction's own BEGIN and
COMMIT, so a read sent on `db.conn` from outside a transaction (the test harness, the demo) waits
between two statements instead of colliding with a commit. CI caught the collision once, in a failover
test reading the outbox while a deactivation committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.harness import scratch_schema
from storage.peek import drop_schema
from storage.pg import KEEPALIVES, PgDatabase


@pytest.fixture
async def db() -> AsyncIterator[PgDatabase]:
    """A database of its own (a scratch schema) with one table, `turns(n)`."""
    target = scratch_schema("turns")
    opened = await PgDatabase(target).open()
    try:
        async with opened.tx() as conn:
            await conn.execute("CREATE TABLE turns (n BIGINT PRIMARY KEY)")
        yield opened
    finally:
        await opened.close()
        await drop_schema(target)


async def _ns(db: PgDatabase) -> list[int]:
    return [r[0] for r in await db.fetchall("SELECT n FROM turns ORDER BY n")]


async def test_reads_on_the_writer_meet_transactions_singles_and_commits_without_collision(db: PgDatabase) -> None:
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


async def test_a_failed_transaction_rolls_back_and_the_writer_goes_on(db: PgDatabase) -> None:
    with pytest.raises(asyncpg.UniqueViolationError):
        async with db.tx() as conn:
            await conn.execute("INSERT INTO turns(n) VALUES (1)")
            await conn.execute("INSERT INTO turns(n) VALUES (1)")  # refused: the whole transaction goes
    async with db.tx() as conn:
        await conn.execute("INSERT INTO turns(n) VALUES (2)")
    assert await _ns(db) == [2]


async def end_sessions(db: PgDatabase, pids: set[int]) -> None:
    """What a server restart or an administrator's pg_terminate_backend does to the bot's sessions;
    returns once the writer has heard of its end, if it was among them."""
    writer = db._raw
    assert writer is not None
    heard = asyncio.Event()
    writer.add_termination_listener(lambda _conn: heard.set())
    admin = await asyncpg.connect(db.dsn.split("?", 1)[0])
    try:
        ended = await admin.fetch("SELECT p FROM unnest($1::int[]) AS p WHERE pg_terminate_backend(p)", sorted(pids))
    finally:
        await admin.close()
    if writer.get_server_pid() in {r[0] for r in ended}:
        await asyncio.wait_for(heard.wait(), 10)


async def backends(db: PgDatabase) -> set[int]:
    """The server processes serving the desk: its writer and its read pool."""
    writer = (await db.conn.execute_fetchall("SELECT pg_backend_pid()"))[0][0]
    return {writer, *(r[0] for r in await db.fetchall("SELECT pg_backend_pid()"))}


async def test_the_writer_connects_again_after_its_session_ended(db: PgDatabase) -> None:
    before = await backends(db)
    await end_sessions(db, before)
    async with db.tx() as conn:  # the next transaction and the next single both go through
        await conn.execute("INSERT INTO turns(n) VALUES (1)")
        assert (await conn.execute_fetchall("SELECT current_setting('synchronous_commit')"))[0][0] == "on"
    async with db.single() as conn:
        await conn.execute("INSERT INTO turns(n) VALUES (2)")
        assert (await conn.execute_fetchall("SELECT current_setting('synchronous_commit')"))[0][0] == "off"
        assert (await conn.execute_fetchall("SELECT sum(n) FROM turns"))[0][0] == 3  # numeric codec again
    assert await _ns(db) == [1, 2]  # the pool too
    assert not (await backends(db)) & before


async def test_a_transaction_cut_off_fails_alone_and_leaves_nothing_half_done(db: PgDatabase) -> None:
    writer = (await db.conn.execute_fetchall("SELECT pg_backend_pid()"))[0][0]
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
        async with db.tx() as conn:
            await conn.execute("INSERT INTO turns(n) VALUES (1)")
            await end_sessions(db, {writer})
            await conn.execute("INSERT INTO turns(n) VALUES (2)")
    async with db.tx() as conn:
        await conn.execute("INSERT INTO turns(n) VALUES (3)")
    assert await _ns(db) == [3]


def test_the_server_keeps_probing_idle_connections_unless_the_address_says_otherwise() -> None:
    assert PgDatabase("postgresql://h/db")._keepalives == KEEPALIVES
    assert "tcp_keepalives_idle" not in PgDatabase("postgresql://h/db?tcp_keepalives_idle=5")._keepalives
