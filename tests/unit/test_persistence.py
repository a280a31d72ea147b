"""SqlitePersistence: conversation states in the database, each change committed once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage import updates
from storage.db import Database
from storage.persistence import SqlitePersistence


async def test_states_survive_a_restart_and_an_unchanged_state_is_not_written_again(tmp_path: Path) -> None:
    db = await Database(tmp_path / "p.sqlite3").open()
    p = SqlitePersistence(db)
    trips = 0
    single, tx = db.single, db.tx

    def counting(real):  # type: ignore[no-untyped-def]
        def opened():  # type: ignore[no-untyped-def]
            nonlocal trips
            trips += 1
            return real()
        return opened

    db.single, db.tx = counting(single), counting(tx)  # type: ignore[method-assign]
    h = updates.begin(1, (1, 1))
    await p.update_conversation("dialog", (1, 1), 101)  # the step saves itself, with its mark
    await p.update_conversation("dialog", (1, 1), 101)  # PTB hands the same state over again
    await p.write_for(h)
    assert trips == 1
    h = updates.begin(2, (1, 1))
    # PTB's update_persistence() hands states over from tasks of its own: they wait.
    await asyncio.gather(p.update_conversation("dialog", (1, 1), 103), p.update_conversation("dialog", (2, 2), 102))
    assert trips == 1
    await p.write_for(h)  # this update's state and mark; (2, 2) waits for its own update
    assert trips == 2
    updates.end()
    await p.update_conversation("dialog", (2, 2), None)
    await p.flush()  # shutdown: what is left — the delete of (2, 2)
    await p.flush()
    assert trips == 3
    await db.close()

    db = await Database(tmp_path / "p.sqlite3").open()
    again = SqlitePersistence(db)
    assert await again.get_conversations("dialog") == {(1, 1): 103}
    await again.update_conversation("dialog", (1, 1), 104)
    await again.flush()
    assert await SqlitePersistence(db).get_conversations("dialog") == {(1, 1): 104}
    await db.close()
