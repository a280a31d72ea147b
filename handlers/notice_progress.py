"""The sender's one live status line while a notice goes out (已送达 340/1000).

The outbox sender reports each delivered row (`on_sent`); for notice deliveries this
edits the sender's status message at most once every `interval` seconds, and once more
when the last row is done. The counts come from the outbox table, so after a restart
the line simply carries on when delivery resumes. Edits are cosmetic and not queued:
a lost one is replaced by the next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.app import DeskApplication
from bot.services import notice_text as txt
from bot.services.notices import DELIVER, REF
from storage import notices, outbox
from storage.outbox import OutboxRow

log = logging.getLogger(__name__)


class BroadcastProgress:
    def __init__(self, app: DeskApplication, interval: float = 2.0) -> None:
        self.app, self.interval = app, interval
        self._last_edit: dict[int, float] = {}
        self._last_text: dict[int, str] = {}
        self._scheduled: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        """At shutdown: no edit may start (or keep running) once the database is closed."""
        for handle in self._scheduled.values():
            handle.cancel()
        self._scheduled.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def on_sent(self, row: OutboxRow, _result: dict[str, Any] | bool | None) -> None:
        if row.ref_kind == REF and row.tag == DELIVER and row.ref_id is not None:
            self.poke(row.ref_id)

    def poke(self, notice_id: int) -> None:
        if notice_id in self._scheduled:
            return
        wait = max(0.0, self._last_edit.get(notice_id, 0.0) + self.interval - time.monotonic())
        loop = asyncio.get_running_loop()
        self._scheduled[notice_id] = loop.call_later(wait, self._spawn, notice_id)

    def _spawn(self, notice_id: int) -> None:
        task = asyncio.create_task(self._edit(notice_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _edit(self, notice_id: int) -> None:
        self._scheduled.pop(notice_id, None)
        # Counted from the start: rows delivered while this edit is under way wait for the next one.
        self._last_edit[notice_id] = time.monotonic()
        s = self.app.deps.services
        try:
            n = await notices.get(s.db.read, notice_id)
            if n is None or n.status_outbox_id is None:
                return
            row = await s.db.fetchone("SELECT chat_id FROM outbox WHERE id=?", (n.status_outbox_id,))
            status, message_id = await outbox.message_id_of(s.db.read, n.status_outbox_id)
            sent, failed, total = await notices.delivery_counts(s.db.read, notice_id, DELIVER)
            if status == "pending" or message_id is None or row is None:
                self.poke(notice_id)  # the status line itself is not out yet
                return
            groups = len(await notices.group_posts(s.db.read, notice_id))
            text = txt.progress_text(s, n, sent, failed, total, groups)
            if self._last_text.get(notice_id) != text:
                self._last_text[notice_id] = text
                await self.app.bot.edit_message_text(
                    text, chat_id=row["chat_id"], message_id=message_id, parse_mode=ParseMode.HTML,
                    reply_markup=_markup(txt.sender_keyboard(s, n)),
                )
            if sent + failed < total:
                self.poke(notice_id)  # keep watching: failed rows report nothing
            elif len(self._last_text) > 1000:  # the final text stays a while, so a late poke edits nothing
                self._last_text.pop(next(iter(self._last_text)))
        except TelegramError as exc:
            log.debug("progress edit for notice %s skipped: %s", notice_id, exc)
        except Exception:  # progress is cosmetic; never disturb delivery
            log.exception("progress edit for notice %s failed", notice_id)


def _markup(data: dict[str, object]) -> Any:
    from telegram import InlineKeyboardMarkup

    return InlineKeyboardMarkup.de_json(data, None)


def install_progress(app: DeskApplication) -> BroadcastProgress | None:
    """Chain our hook after any the outbox sender already has."""
    sender = app.deps.sender
    if sender is None:
        return None
    progress = BroadcastProgress(app)
    previous = sender.on_sent

    def on_sent(row: OutboxRow, result: dict[str, Any] | bool | None) -> None:
        if previous is not None:
            previous(row, result)
        progress.on_sent(row, result)

    sender.on_sent = on_sent
    app.deps.extra["notice_progress"] = progress
    return progress
