"""SqlitePersistence: conversation states in the database, each change committed once."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database
from storage.persistence import SqlitePersistence


async def test_states_survive_a_restart_and_an_unchanged_state_is_not_written_again(tmp_path: Path) -> None:
    db = await Database(tmp_path / "p.sqlite3").open()
    p = SqlitePersistence(db)
    writes = 0
    single = db.single

    def counting():  # type: ignore[no-untyped-def]
        nonlocal writes
        writes += 1
        return single()

    db.single = counting  # type: ignore[method-assign]
    await p.update_conversation("dialog", (1, 1), 101)
    await p.update_conversation("dialog", (1, 1), 101)  # the step already saved it
    await p.update_conversation("dialog", (2, 2), 102)
    await p.update_conversation("dialog", (1, 1), 103)
    await p.update_conversation("dialog", (2, 2), None)
    await p.update_conversation("dialog", (2, 2), None)
    assert writes == 4
    await db.close()

    db = await Database(tmp_path / "p.sqlite3").open()
    again = SqlitePersistence(db)
    assert await again.get_conversations("dialog") == {(1, 1): 103}
    await again.update_conversation("dialog", (1, 1), 104)
    assert await SqlitePersistence(db).get_conversations("dialog") == {(1, 1): 104}
    await db.close()
