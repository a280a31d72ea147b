"""Which Telegram updates were handled (migrations 0008_updates_handled, 0009_updates_done).

An update counts as handled — and is skipped if Telegram delivers it again after a kill -9 —
from the first commit that made it change something: its domain transaction (storage/uow.py),
the dialogue state it moved (storage/persistence.py), or at the latest the flush after all its
handlers ran (handlers.flush_persistence). The mark rides in that same transaction, so a kill
can never leave the change without the mark, nor the mark without the change. Together with
polling only once every fetched update was handled (bot.desk_bot.UpdateBacklog), an update is
either delivered again and handled from where it stood, or never handled twice.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass

from storage.conn import Conn


@dataclass
class Handling:
    update_id: int
    task: asyncio.Task[object] | None  # the task that handles it; tasks it spawns do not mark it
    key: tuple[int, int] | None = None  # (chat id, user id): the dialogue it may move
    marked: bool = False
    # The last message its handlers sent to the person's chat: the question a step it moves the
    # dialogue to waits on (storage/persistence.py writes it with the step).
    asked: int | None = None


_handling: ContextVar[Handling | None] = ContextVar("dutydesk_handling", default=None)


def begin(update_id: int, key: tuple[int, int] | None = None) -> Handling:
    h = Handling(update_id, asyncio.current_task(), key)
    _handling.set(h)
    return h


def current() -> Handling | None:
    """The update the running task is handling, if any. A task spawned while handling it (a
    timer, a background send) inherits the context but not the right to mark the update."""
    h = _handling.get()
    return h if h is not None and h.task is asyncio.current_task() else None


def end() -> None:
    _handling.set(None)


def note_sent(chat_id: int, message_id: int | None) -> None:
    """A handler of the update being handled sent `message_id` to `chat_id`."""
    h = current()
    if h is not None and message_id is not None and h.key is not None and h.key[0] == chat_id:
        h.asked = message_id


@dataclass(frozen=True)
class Handled:
    """What was handled before start-up: everything up to `floor` (0008, when updates were handled
    in order) and the recent ones one by one (0009)."""
    floor: int = -1
    ids: frozenset[int] = frozenset()

    def __contains__(self, update_id: object) -> bool:
        return isinstance(update_id, int) and (update_id <= self.floor or update_id in self.ids)


async def handled(conn: Conn) -> Handled:
    async with conn.execute("SELECT through FROM updates_handled WHERE id = 1") as cur:
        row = await cur.fetchone()
    async with conn.execute("SELECT update_id FROM updates_done") as cur:
        ids = frozenset(int(r[0]) for r in await cur.fetchall())
    return Handled(int(row[0]) if row else -1, ids)


async def mark_handled(conn: Conn, update_id: int) -> None:
    await conn.execute("INSERT INTO updates_done(update_id) VALUES (?) ON CONFLICT DO NOTHING", (update_id,))


async def mark_current(conn: Conn) -> Handling | None:
    """Inside a transaction: mark the update being handled, if any and not yet marked. Returns it
    so the caller can set `marked` once the transaction committed."""
    h = current()
    if h is None or h.marked:
        return None
    await mark_handled(conn, h.update_id)
    return h
