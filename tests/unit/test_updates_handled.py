"""storage/updates.py: an update is marked handled by the first commit that changed something,
in that same transaction — never by a read, a failed transaction, or a task it spawned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import updates
from storage.db import Database
from storage.persistence import SqlitePersistence
from storage.uow import UnitOfWork

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database(tmp_path / "u.sqlite3").open()
    yield database
    await database.close()


async def _through(db: Database) -> int:
    return await updates.handled_through(db.conn)


async def test_a_committed_change_marks_the_update_a_read_does_not(db: Database) -> None:
    uow = UnitOfWork(db, lambda: NOW)
    h = updates.begin(41)
    async with uow() as tx:
        await tx.conn.execute("SELECT count(*) FROM incidents")
    assert await _through(db) == -1 and not h.marked  # nothing changed: not handled yet
    async with uow() as tx:
        await tx.add_deadline("bench", 1, NOW)
    assert await _through(db) == 41 and h.marked
    updates.end()
    async with uow() as tx:
        await tx.add_deadline("bench", 2, NOW)
    assert await _through(db) == 41  # outside an update: no mark


async def test_a_rolled_back_change_leaves_the_update_unmarked(db: Database) -> None:
    uow = UnitOfWork(db, lambda: NOW)
    h = updates.begin(42)
    with pytest.raises(RuntimeError):
        async with uow() as tx:
            await tx.add_deadline("bench", 1, NOW)
            raise RuntimeError("died before commit")
    assert await _through(db) == -1 and not h.marked
    updates.end()


async def test_a_task_spawned_while_handling_does_not_mark_the_update(db: Database) -> None:
    """A timer or background send started during the update inherits its context; if it commits
    before the update is done, the update must still be delivered again after a kill."""
    uow = UnitOfWork(db, lambda: NOW)
    updates.begin(43)

    async def background() -> None:
        async with uow() as tx:
            await tx.add_deadline("bench", 1, NOW)

    await asyncio.create_task(background())
    assert await _through(db) == -1
    updates.end()


async def test_the_dialogue_state_and_the_mark_commit_together(db: Database) -> None:
    p = SqlitePersistence(db)
    h = updates.begin(44)
    await p.update_conversation("dialog", (1, 1), 7)
    assert h.marked and await _through(db) == 44
    assert await p.get_conversations("dialog") == {(1, 1): 7}
    updates.end()
    await p.update_conversation("dialog", (1, 1), 8)  # no update being handled: the state alone
    assert await _through(db) == 44
    assert await SqlitePersistence(db).get_conversations("dialog") == {(1, 1): 8}
