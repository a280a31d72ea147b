"""python-telegram-bot persistence on our SQLite file: conversation states only.

Answers given so far live in the `drafts` table (typed, committed per step); PTB's
user/chat/bot dicts are not used, so the conversations are all there is to keep.
The application flushes after every update (see bot/app.py), not only every
`update_interval`; a kill -9 before that flush has Telegram deliver the update again (see
storage/updates.py), and the state a flush writes carries the update's handled mark.
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from storage import updates
from storage.db import Database


class SqlitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, db: Database, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self.db = db
        # What each key last committed: a dialogue step saves its state as soon as its question is
        # delivered (handlers/report.py `_at`), and PTB then saves the same state again; skip that.
        self._committed: dict[tuple[str, str], str | None] = {}

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self.db.fetchall("SELECT key, state FROM ptb_conversations WHERE name=?", (name,))
        self._committed.update({(name, r["key"]): r["state"] for r in rows})
        return {tuple(json.loads(r["key"])): json.loads(r["state"]) for r in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        k = json.dumps(list(key))
        state = None if new_state is None else json.dumps(new_state)
        if self._committed.get((name, k), "absent") == state:
            return
        handling = updates.current()
        if handling is not None and not handling.marked:
            # The update that moved the dialogue is handled in the same commit (storage/updates.py).
            async with self.db.tx() as conn:
                await self._write(conn, name, k, state)
                await updates.mark_handled(conn, handling.update_id)
            handling.marked = True
        else:
            async with self.db.single() as conn:  # one statement: commits by itself, one trip
                await self._write(conn, name, k, state)
        self._committed[(name, k)] = state

    @staticmethod
    async def _write(conn: aiosqlite.Connection, name: str, key: str, state: str | None) -> None:
        if state is None:
            await conn.execute("DELETE FROM ptb_conversations WHERE name=? AND key=?", (name, key))
        else:
            await conn.execute(
                "INSERT INTO ptb_conversations(name, key, state) VALUES (?,?,?) "
                "ON CONFLICT(name, key) DO UPDATE SET state=excluded.state",
                (name, key, state),
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

    async def flush(self) -> None:
        return None
