"""Unit of work: one transaction; the messages and deadlines it writes wake their workers on commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from bot.fmt import clip
from storage import deadlines, outbox, updates
from storage.conn import Conn
from storage.engine import AnyDatabase


class Tx:
    """What a use case sees inside a transaction: the connection, "now", and the two side tables."""

    def __init__(self, conn: Conn, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.wrote_outbox = False
        self.queued: list[outbox.OutboxRow] = []  # handed to the sender once committed
        self.earliest_deadline: datetime | None = None

    async def send(
        self, chat_id: int, method: str, payload: dict[str, Any], *,
        ref_kind: str | None = None, ref_id: int | None = None, tag: str | None = None,
    ) -> int:
        rows = await self.send_all([chat_id], method, payload, ref_kind=ref_kind, ref_id=ref_id, tag=tag)
        return rows[0].id

    async def send_all(
        self, chat_ids: Sequence[int], method: str, payload: dict[str, Any], *,
        ref_kind: str | None = None, ref_id: int | None = None, tag: str | None = None,
    ) -> list[outbox.OutboxRow]:
        """The same message to several chats, in one statement."""
        rows = await outbox.enqueue_many(self.conn, chat_ids, method=method, payload=payload, now=self.now,
                                         ref_kind=ref_kind, ref_id=ref_id, tag=tag)
        self.wrote_outbox = True
        self.queued += rows
        return rows

    async def send_text(self, chat_id: int, text: str, *, markup: dict[str, Any] | None = None,
                        ref_kind: str | None = None, ref_id: int | None = None, tag: str | None = None,
                        reply_to: int | None = None) -> int:
        rows = await self.send_text_all([chat_id], text, markup=markup, ref_kind=ref_kind, ref_id=ref_id, tag=tag,
                                        reply_to=reply_to)
        return rows[0].id

    async def send_text_all(self, chat_ids: Sequence[int], text: str, *, markup: dict[str, Any] | None = None,
                            ref_kind: str | None = None, ref_id: int | None = None, tag: str | None = None,
                            reply_to: int | None = None) -> list[outbox.OutboxRow]:
        """An HTML text message (with its keyboard) to several chats, in one statement. Cut to fit
        Telegram's limit: a row it refused for length would never be delivered."""
        payload: dict[str, Any] = {"text": clip(text), "parse_mode": "HTML"}
        if markup is not None:
            payload["reply_markup"] = markup
        if reply_to is not None:
            payload["reply_to"] = reply_to
        return await self.send_all(chat_ids, outbox.SEND_MESSAGE, payload, ref_kind=ref_kind, ref_id=ref_id, tag=tag)

    @asynccontextmanager
    async def savepoint(self, name: str) -> AsyncIterator[None]:
        """The block's writes are undone if it raises (the error goes on); the transaction stays open.
        Messages it queued are dropped with their rows: the sender gets them at commit unread."""
        queued, wrote_outbox = len(self.queued), self.wrote_outbox
        await self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except Exception:
            del self.queued[queued:]
            self.wrote_outbox = wrote_outbox
            await self.conn.execute(f"ROLLBACK TO {name}")
            await self.conn.execute(f"RELEASE {name}")
            raise
        await self.conn.execute(f"RELEASE {name}")

    async def add_deadline(self, kind: str, ref_id: int, due_at: datetime, stage: str = "",
                           payload: dict[str, Any] | None = None) -> int:
        self._consider(due_at)
        return await deadlines.add(self.conn, kind, ref_id, due_at, stage, payload)

    async def add_deadlines(self, rows: Sequence[tuple[str, int, datetime, str]]) -> None:
        """(kind, ref_id, due_at, stage) rows without payload, in one statement."""
        for row in rows:
            self._consider(row[2])
        await deadlines.add_many(self.conn, rows)

    def _consider(self, due_at: datetime) -> None:
        if self.earliest_deadline is None or due_at < self.earliest_deadline:
            self.earliest_deadline = due_at


class UnitOfWork:
    def __init__(self, db: AnyDatabase, now: Callable[[], datetime]) -> None:
        self.db = db
        self._now = now
        self.on_outbox: Callable[[Sequence[outbox.OutboxRow]], None] = lambda _rows: None
        self.on_deadline: Callable[[datetime], None] = lambda _when: None

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Tx]:
        async with self.db.tx() as conn:
            tx = Tx(conn, self._now())
            changes = conn.total_changes
            yield tx
            # An update whose changes commit is done: never handled again (storage/updates.py).
            handling = await updates.mark_current(conn) if conn.total_changes != changes else None
        if handling is not None:
            handling.marked = True
        # Committed: only now may the workers see the rows.
        if tx.wrote_outbox:
            self.on_outbox(tx.queued)
        if tx.earliest_deadline is not None:
            self.on_deadline(tx.earliest_deadline)
