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
    done = (await updates.handled(db.conn)).ids
    return max(done, default=-1)


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
    h = updates.begin(44, (1, 1))
    await p.update_conversation("dialog", (1, 1), 7)  # its own step, from its own task: at once
    assert h.marked and await _through(db) == 44
    assert await p.get_conversations("dialog") == {(1, 1): 7}
    updates.end()


async def test_another_persons_state_waits_for_that_persons_update(db: Database) -> None:
    """People's updates run side by side: A's flush hands over B's new step too. Written then, B's
    step would commit without B's mark, and a kill would replay B's answer against the next step."""
    p = SqlitePersistence(db)
    a = updates.begin(50, (1, 1))
    await p.update_conversation("dialog", (2, 2), 9)  # B's state, while A is being handled
    await p.write_for(a)
    assert await SqlitePersistence(db).get_conversations("dialog") == {}
    assert await _through(db) == 50
    b = updates.begin(49, (2, 2))
    await p.write_for(b)
    assert await SqlitePersistence(db).get_conversations("dialog") == {(2, 2): 9}
    assert 49 in await updates.handled(db.conn)
    updates.end()


async def test_each_update_is_marked_on_its_own_and_old_ones_are_pruned(db: Database) -> None:
    """Handled side by side, a later update may finish first: the earlier one is not covered."""
    async with db.tx() as conn:
        await updates.mark_handled(conn, 2005)
    handled = await updates.handled(db.conn)
    assert 2005 in handled and 2004 not in handled
    async with db.tx() as conn:
        await updates.mark_handled(conn, 2004)
        await updates.mark_handled(conn, 3100)  # a batch much later: ids a thousand back go
    assert (await updates.handled(db.conn)).ids == {3100}


async def test_the_old_in_order_mark_still_covers_what_it_covered(db: Database) -> None:
    async with db.tx() as conn:
        await conn.execute("INSERT INTO updates_handled(id, through) VALUES (1, 77)")
    handled = await updates.handled(db.conn)
    assert 77 in handled and 12 in handled and 78 not in handled
