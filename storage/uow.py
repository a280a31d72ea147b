"""Unit of work: one transaction; the messages and deadlines it writes wake their workers on commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiosqlite

from storage import deadlines, outbox
from storage.db import Database


class Tx:
    """What a use case sees inside a transaction: the connection, "now", and the two side tables."""

    def __init__(self, conn: aiosqlite.Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.wrote_outbox = False
        self.earliest_deadline: datetime | None = None

    async def send(
        self, chat_id: int, method: str, payload: dict[str, Any], *,
        ref_kind: str | None = None, ref_id: int | None = None, tag: str | None = None,
    ) -> int:
        self.wrote_outbox = True
        return await outbox.enqueue(
            self.conn, chat_id=chat_id, method=method, payload=payload, now=self.now,
            ref_kind=ref_kind, ref_id=ref_id, tag=tag,
        )

    async def send_text(self, chat_id: int, text: str, *, markup: dict[str, Any] | None = None,
                        ref_kind: str | None = None, ref_id: int | None = None, tag: str | None = None) -> int:
        payload: dict[str, Any] = {"text": text, "parse_mode": "HTML"}
        if markup is not None:
            payload["reply_markup"] = markup
        return await self.send(chat_id, outbox.SEND_MESSAGE, payload, ref_kind=ref_kind, ref_id=ref_id, tag=tag)

    async def add_deadline(self, kind: str, ref_id: int, due_at: datetime, stage: str = "",
                           payload: dict[str, Any] | None = None) -> int:
        if self.earliest_deadline is None or due_at < self.earliest_deadline:
            self.earliest_deadline = due_at
        return await deadlines.add(self.conn, kind, ref_id, due_at, stage, payload)


class UnitOfWork:
    def __init__(self, db: Database, now: Callable[[], datetime]) -> None:
        self.db = db
        self._now = now
        self.on_outbox: Callable[[], None] = lambda: None
        self.on_deadline: Callable[[datetime], None] = lambda _when: None

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Tx]:
        async with self.db.tx() as conn:
            tx = Tx(conn, self._now())
            yield tx
        # Committed: only now may the workers see the rows.
        if tx.wrote_outbox:
            self.on_outbox()
        if tx.earliest_deadline is not None:
            self.on_deadline(tx.earliest_deadline)
