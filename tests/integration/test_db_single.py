"""Database.single(): one autocommitted statement that never joins someone else's transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import drafts
from storage.db import Database


async def test_single_waits_for_an_open_transaction_and_survives_its_rollback(tmp_path: Path) -> None:
    db = await Database(tmp_path / "t.sqlite3").open()
    try:
        now = datetime(2026, 11, 23, tzinfo=UTC)
        in_tx, asking = asyncio.Event(), asyncio.Event()

        async def failing_tx() -> None:
            try:
                async with db.tx() as conn:
                    await drafts.save(conn, 1, "report", {"place": "rolled back"}, now)
                    in_tx.set()
                    await asking.wait()  # single() is waiting for the lock meanwhile
                    raise RuntimeError("boom")
            except RuntimeError:
                pass

        task = asyncio.create_task(failing_tx())
        await in_tx.wait()
        asking.set()  # runs on once this task blocks on the lock, in single() below
        async with db.single() as conn:
            await drafts.save(conn, 2, "report", {"place": "kept"}, now)
        await task
        assert await drafts.load(db.conn, 1, "report") == {}
        assert await drafts.load(db.conn, 2, "report") == {"place": "kept"}
    finally:
        await db.close()
    reopened = await Database(tmp_path / "t.sqlite3").open()  # committed, not just visible
    try:
        assert await drafts.load(reopened.conn, 2, "report") == {"place": "kept"}
    finally:
        await reopened.close()


async def test_reads_outside_a_transaction_see_committed_rows_only(tmp_path: Path) -> None:
    """`db.read` is a second connection: another coroutine's open transaction is invisible to it (on
    the shared connection it would not be), and a write there is refused rather than slipping past
    the lock."""
    db = await Database(tmp_path / "t.sqlite3").open()
    try:
        now = datetime(2026, 11, 23, tzinfo=UTC)
        async with db.tx() as conn:
            await drafts.save(conn, 1, "report", {"place": "open"}, now)
            assert await drafts.load(db.conn, 1, "report") == {"place": "open"}  # the shared one sees it
            assert await drafts.load(db.read, 1, "report") == {}
        assert await drafts.load(db.read, 1, "report") == {"place": "open"}  # committed: visible at once
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await drafts.save(db.read, 2, "report", {"place": "x"}, now)
        assert await drafts.load(db.conn, 2, "report") == {}
    finally:
        await db.close()


async def test_several_drafts_in_one_statement_replace_what_was_there(tmp_path: Path) -> None:
    """A report step's answer and the next question's note go in one autocommitted statement."""
    db = await Database(tmp_path / "t.sqlite3").open()
    try:
        now = datetime(2026, 11, 23, tzinfo=UTC)
        async with db.single() as conn:
            await drafts.save(conn, 1, "report", {"place": "old"}, now)
        async with db.single() as conn:
            await drafts.save_many(conn, 1, {"report": {"place": "new"}, "report.asking": {"state": 104}}, now)
        assert await drafts.load_many(db.read, 1, ("report", "report.asking")) == {
            "report": {"place": "new"}, "report.asking": {"state": 104}}
    finally:
        await db.close()


async def test_concurrent_singles_are_in_flight_together_and_a_transaction_waits_for_none(tmp_path: Path) -> None:
    """Singles do not take turns round the event loop: all of them are queued in the database
    thread before the first one's answer is back. A transaction requested meanwhile still runs
    after those already queued (aiosqlite keeps the order) and before any single asked after it."""
    db = await Database(tmp_path / "t.sqlite3").open()
    try:
        now = datetime(2026, 11, 23, tzinfo=UTC)
        await db.conn.execute("CREATE TABLE log(n INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT)")
        queued, answered = [], []

        async def single(i: int) -> None:
            async with db.single() as conn:
                queued.append(i)
                await conn.execute("INSERT INTO log(what) VALUES (?)", (f"single {i}",))
                answered.append(i)

        async def tx() -> None:
            async with db.tx() as conn:
                await conn.execute("INSERT INTO log(what) VALUES ('tx')")
                await drafts.save(conn, 1, "report", {"place": "tx"}, now)

        first = [asyncio.create_task(single(i)) for i in range(20)]
        await asyncio.sleep(0)  # all twenty have queued their statement
        assert len(queued) == 20 and not answered
        later = [asyncio.create_task(tx()), asyncio.create_task(single(20))]
        await asyncio.gather(*first, *later)
        rows = [r[0] for r in await db.conn.execute_fetchall("SELECT what FROM log ORDER BY n")]
        assert rows == [f"single {i}" for i in range(20)] + ["tx", "single 20"]
    finally:
        await db.close()


async def test_the_senders_reads_never_see_a_snapshot_a_handlers_open_cursor_holds(tmp_path: Path) -> None:
    """A cursor on `db.read` between its trips keeps that connection's read transaction open: a read
    queued there meanwhile sees rows as they were. The outbox sender reads on its own connection,
    so a row committed meanwhile (an alert) is never hidden from its pass."""
    from storage import outbox

    db = await Database(tmp_path / "t.sqlite3").open()
    try:
        now = datetime(2026, 11, 23, tzinfo=UTC)
        async with db.tx() as conn:
            await outbox.enqueue_many(conn, [1], method=outbox.SEND_MESSAGE, payload={"text": "旧"}, now=now)
        cursor = await db.read.execute("SELECT id FROM outbox")  # a handler's read, one row fetched so far
        async with db.tx() as conn:
            await outbox.enqueue_many(conn, [2], method=outbox.SEND_MESSAGE, payload={"text": "急报"}, now=now)
        assert [r.chat_id for r in await outbox.pending(db.read)] == [1]  # the held snapshot
        assert [r.chat_id for r in await outbox.pending(db.sender_read)] == [1, 2]
        await cursor.close()
    finally:
        await db.close()


async def test_two_openers_of_a_new_file_migrate_it_once(tmp_path: Path) -> None:
    """Two instances starting together on one SQLite file: one migrates, the other finds it done
    (the version is read inside the write transaction, not before it)."""
    import asyncio

    from storage.db import migrations

    first, second = Database(tmp_path / "two.sqlite3"), Database(tmp_path / "two.sqlite3")
    await asyncio.gather(first.open(), second.open())
    latest = migrations()[-1][0]
    assert await first.schema_version() == await second.schema_version() == latest
    await first.close()
    await second.close()
