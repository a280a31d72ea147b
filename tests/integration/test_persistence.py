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


async def test_the_question_a_step_waits_on_is_kept_with_it(tmp_path: Path) -> None:
    """The message that asked a step's question rides in the step's own statement, survives a
    restart, and goes with the step: a step entered by an update that said nothing in that chat,
    or the end of the dialogue, forgets it (handlers/answers.py reads it)."""
    db = await Database(tmp_path / "p.sqlite3").open()
    p = SqlitePersistence(db)
    h = updates.begin(1, (7, 7))
    updates.note_sent(7, 41)
    updates.note_sent(-100, 99)  # another chat (an alert to a group): not this dialogue's question
    await p.update_conversation("dialog", (7, 7), 101)
    await p.write_for(h)
    h = updates.begin(2, (7, 7))
    updates.note_sent(7, 44)  # "没看懂" and the same question again: the step is unchanged
    await p.update_conversation("dialog", (7, 7), 101)
    await p.write_for(h)
    updates.end()
    assert p.asked("dialog", (7, 7)) == 41
    await db.close()

    db = await Database(tmp_path / "p.sqlite3").open()
    p = SqlitePersistence(db)
    await p.get_conversations("dialog")
    assert p.asked("dialog", (7, 7)) == 41
    h = updates.begin(3, (7, 7))
    await p.update_conversation("dialog", (7, 7), 102)  # moved on without a question in the chat
    await p.write_for(h)
    assert p.asked("dialog", (7, 7)) is None
    h = updates.begin(4, (7, 7))
    updates.note_sent(7, 50)
    await p.update_conversation("dialog", (7, 7), 103)
    await p.write_for(h)
    assert p.asked("dialog", (7, 7)) == 50
    h = updates.begin(5, (7, 7))
    await p.update_conversation("dialog", (7, 7), None)
    await p.write_for(h)
    updates.end()
    assert p.asked("dialog", (7, 7)) is None
    await db.close()
