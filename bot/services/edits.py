"""Editing messages sent earlier (an alert, an approval card, a review copy): only in the chats of
people who may still be told. Whoever was deactivated, moved or lost the role since the message went
out learns nothing new through it; the message stays as it was."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.members import Member
from storage import members
from storage.conn import Conn
from storage.outbox import OutboxRow


async def still_told(conn: Conn, rows: list[OutboxRow],
                     may: Callable[[Member], bool]) -> list[OutboxRow]:
    """Of the sent `rows`, those whose chat is a member's for whom `may` holds now (a private chat's
    id is the person's Telegram id; a chat that is no member's is left alone)."""
    people = {m.telegram_id: m for m in await members.by_telegram_ids(conn, [r.chat_id for r in rows])}
    return [r for r in rows if (m := people.get(r.chat_id)) is not None and m.active and may(m)]
