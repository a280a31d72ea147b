"""python-telegram-bot persistence on our SQLite file: conversation states only.

Answers given so far live in the `drafts` table (typed, committed per step); PTB's
user/chat/bot dicts are not used, so the conversations are all there is to keep.
Each update's states are written by the flush after its handlers (handlers.flush_persistence),
not every `update_interval`, and with the update's handled mark in the same commit; a kill -9
before that flush has Telegram deliver the update again (see storage/updates.py).
"""

from __future__ import annotations

import json
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage import updates
from storage.conn import Conn
from storage.engine import AnyDatabase

# PTB's own aliases for these live in a private module (telegram.ext._utils.types); the same shapes.
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]


class SqlitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, db: AnyDatabase, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self.db = db
        # What each key last committed: a dialogue step saves its state as soon as its question is
        # delivered (handlers/report.py `_at`), and PTB then saves the same state again; skip that.
        self._committed: dict[tuple[str, str], str | None] = {}
        # States PTB handed over but whose update has not finished: written by that update's own
        # flush (`write_for`), with its handled mark. PTB's update_persistence() writes every
        # person's changed state; with people's updates handled side by side, writing another
        # person's state from this one's flush — or from the 60 s timer — could commit a step
        # whose update is not yet marked handled, and a kill -9 then would replay that update
        # against the step after it.
        self._pending: dict[tuple[str, str], str | None] = {}
        # The message that asked each open step's question (handlers/answers.py), as committed.
        self._asked: dict[tuple[str, str], int] = {}

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self.db.fetchall("SELECT key, state, asked_message_id FROM ptb_conversations WHERE name=?",
                                      (name,))
        self._committed.update({(name, r["key"]): r["state"] for r in rows})
        self._asked.update({(name, r["key"]): r["asked_message_id"] for r in rows if r["asked_message_id"]})
        return {tuple(json.loads(r["key"])): json.loads(r["state"]) for r in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        k = json.dumps(list(key))
        state = None if new_state is None else json.dumps(new_state)
        handling = updates.current()
        if handling is not None and handling.key == tuple(key):
            # The update's own handler saving its step (handlers/report.py `_at`): now, with its mark.
            self._pending.pop((name, k), None)
            await self._commit({(name, k): state}, handling)
        else:
            self._pending[(name, k)] = state

    def asked(self, name: str, key: tuple[int, int]) -> int | None:
        """The id of the message that asked the question the dialogue `key` is at, if known."""
        return self._asked.get((name, json.dumps(list(key))))

    async def write_for(self, handling: updates.Handling) -> None:
        """After an update's handlers ran: the states it moved and its handled mark, in one commit."""
        key = json.dumps(list(handling.key)) if handling.key is not None else None
        mine = {nk: state for nk, state in self._pending.items() if nk[1] == key}
        for nk in mine:
            del self._pending[nk]
        await self._commit(mine, handling)

    async def flush(self) -> None:
        """At shutdown, every update has finished: whatever is still pending goes."""
        pending, self._pending = self._pending, {}
        await self._commit(pending, None)

    async def _commit(self, states: dict[tuple[str, str], str | None], handling: updates.Handling | None) -> None:
        states = {nk: s for nk, s in states.items() if self._committed.get(nk, "absent") != s}
        mark = handling.update_id if handling is not None and not handling.marked else None
        if not states and mark is None:
            return
        # A state row written with the update's id marks it handled by itself (migration 0009's
        # triggers); the mark needs its own statement only when no state row is written.
        carrier = next((nk for nk, s in states.items() if s is not None), None) if mark is not None else None
        # The step the update moved its own dialogue to waits on the last message it sent there.
        own = json.dumps(list(handling.key)) if handling is not None and handling.key is not None else None
        asked = {nk: handling.asked if handling is not None and nk[1] == own and s is not None else None
                 for nk, s in states.items()}
        statements = len(states) + (mark is not None and carrier is None)
        # One statement commits by itself: one trip to the database thread instead of BEGIN … COMMIT.
        async with (self.db.single() if statements == 1 else self.db.tx()) as conn:
            for nk, state in states.items():
                await self._write(conn, nk, state, mark if nk == carrier else None, asked[nk])
            if mark is not None and carrier is None:
                await updates.mark_handled(conn, mark)
        self._committed.update(states)
        for nk, message_id in asked.items():
            if message_id is None:
                self._asked.pop(nk, None)
            else:
                self._asked[nk] = message_id
        if mark is not None:
            assert handling is not None
            handling.marked = True

    @staticmethod
    async def _write(conn: Conn, name_key: tuple[str, str], state: str | None,
                     update_id: int | None, asked: int | None) -> None:
        name, key = name_key
        if state is None:
            await conn.execute("DELETE FROM ptb_conversations WHERE name=? AND key=?", (name, key))
        else:
            await conn.execute(
                "INSERT INTO ptb_conversations(name, key, state, update_id, asked_message_id) VALUES (?,?,?,?,?) "
                "ON CONFLICT(name, key) DO UPDATE SET state=excluded.state, update_id=excluded.update_id, "
                "asked_message_id=excluded.asked_message_id",
                (name, key, state, update_id, asked),
            )

    # The data dicts are not stored (see module docstring); PTB still requires the methods.
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

