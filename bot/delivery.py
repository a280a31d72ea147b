"""Delivers outbox rows through the Bot API: in order per chat, once.

A row is marked sent in its own transaction right after Telegram answers, so a crash
can only repeat the message whose answer was in flight at that instant. Telegram's pace is
the bot's one rate limiter's (bot/pacing.py), which every call of the bot passes: rows go
through it like replies do, and a 429 comes back here to be retried durably.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.desk_bot import DeskBot
from bot.pace import Pace, WallPace
from bot.pacing import retry_seconds
from storage import members, notices, outbox
from storage.engine import AnyDatabase
from storage.outbox import OutboxRow

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]


# Outbox rows about these (emergency incidents) go before any other queued row, e.g. a broadcast.
URGENT = ("incident",)


class OutboxSender:
    def __init__(
        self, db: AnyDatabase, bot: DeskBot, now: Callable[[], datetime], *,
        max_retries: int = 8, batch: int = 60, urgent: tuple[str, ...] = URGENT, pace: Pace | None = None,
    ) -> None:
        self.db, self.bot, self._now = db, bot, now
        # Telegram's seconds: real ones in production, a timeline that skips its waits in the harness.
        self.pace: Pace = pace or WallPace()
        self.max_retries = max_retries
        # A pass sends at most `batch` rows (about two seconds of Telegram's bulk budget) before it
        # looks again, so an emergency alert queued behind a broadcast waits for that pass only.
        self.batch, self.urgent = batch, urgent
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._resting = False  # the last pass found nothing queued; it waits for a wake
        self._direct: set[asyncio.Task[None]] = set()
        self._direct_chats: set[int] = set()
        self.on_sent: Callable[[OutboxRow, JSONDict | bool | None], None] | None = None
        # A row Telegram refused for good (permanent: the chat is gone, the bot blocked) or could not take
        # now (the Bot API unreachable, 5xx): the failover (bot/channels/failover.py) decides what else goes.
        self.on_failed: Callable[[OutboxRow, str, bool], None] | None = None

    def wake(self, fresh: Sequence[OutboxRow] = ()) -> None:
        """Rows were committed; `fresh` are they, when the committer knows them. With nothing else
        queued, up to a pass's worth of them go out at once without being read back: an alert
        leaves a few milliseconds after its transaction commits. A pass still follows, for anything
        else and for retries; a bigger commit (a broadcast) goes by passes, so urgent rows can cut in."""
        self._idle.clear()
        chats = {r.chat_id for r in fresh}
        if fresh and len(fresh) <= self.batch and self._resting and not chats & self._direct_chats:
            self._direct_chats |= chats
            task = asyncio.create_task(self._send_direct(fresh, chats), name="outbox-direct")
            self._direct.add(task)
            task.add_done_callback(self._direct.discard)
            return
        self._wake.set()

    async def _send_direct(self, rows: Sequence[OutboxRow], chats: set[int]) -> None:
        try:
            await self._send_rows(rows)
        except Exception:  # the rows stay pending: the pass below sends them
            log.exception("direct outbox send failed")
        finally:
            self._direct_chats -= chats
            self._resting = False  # until the pass has looked, nothing may overtake rows queued meanwhile
            self._wake.set()

    async def settle(self, timeout: float) -> None:
        """Wait (at most `timeout` s) for the direct sends under way: a handler that just queued an
        emergency alert lets it leave before the reporter's own answer takes the event loop."""
        if self._direct:
            await asyncio.wait(set(self._direct), timeout=timeout)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        for task in [*self._direct, *([self._task] if self._task else [])]:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._task = None

    @property
    def idle(self) -> bool:
        """The last pass found nothing to send and no direct send is under way."""
        return self._idle.is_set() and not self._direct

    async def wait_idle(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one bad row stop delivery
                log.exception("outbox pass failed")
                wait = 1.0
            if wait is None:
                if not self._direct:
                    self._idle.set()
                self._resting = True
                await self._wake.wait()
                self._resting = False
            else:
                await self.pace.wait(self._wake, max(wait, 0.005))

    async def drain_once(self) -> float | None:
        """Send what is ready; return seconds until more will be ready, or None when empty."""
        # A chat with a direct send in flight waits for it: its rows stay in order. Taken before the
        # read: the read may predate the direct send's "sent" mark and return after that send ended,
        # with its rows still pending (no direct send starts during a pass: `_resting` is false).
        busy = set(self._direct_chats)
        # Its own reading connection: committed rows only, never those of a transaction still open
        # (it may roll back), and never a snapshot a handler's open cursor holds (Database.sender_read).
        rows = [r for r in await outbox.pending(self.db.sender_read, self.batch, self.urgent) if r.chat_id not in busy]
        if not rows:
            return None
        return await self._send_rows(rows)

    async def _send_rows(self, rows: Sequence[OutboxRow]) -> float:
        """Each chat's rows in order, the chats side by side; seconds until more may go."""
        by_chat: dict[int, list[OutboxRow]] = {}
        for r in rows:
            by_chat.setdefault(r.chat_id, []).append(r)
        results = await asyncio.gather(*(self._send_chat(rs) for rs in by_chat.values()))
        waits = [w for w in results if w is not None]
        # A chat's rows all went: look again at once, more may be queued behind this pass (or committed
        # meanwhile); only when every chat must wait does the next pass wait too.
        return min(waits) if waits and len(waits) == len(results) else 0.0

    async def _send_chat(self, rows: list[OutboxRow]) -> float | None:
        """Send one chat's rows in order; stop at the first that must wait."""
        for row in rows:
            now = self.pace.time()
            if row.not_before > now:
                return row.not_before - now
            if (pace := self.bot.chat_ready_in(row.chat_id, _ENDPOINTS.get(row.method, ""))) > 0:  # chat busy
                return pace
            if not await self._send_row(row):
                return max(0.0, self._retry_at(row) - self.pace.time())
        return None

    def _retry_at(self, row: OutboxRow) -> float:
        return self.pace.time() + min(60.0, 0.5 * 2 ** min(row.attempts, 7))

    async def _send_row(self, row: OutboxRow) -> bool:
        try:
            result = await self._call(row)
        except RetryAfter as exc:
            delay = retry_seconds(exc)
            async with self.db.single() as conn:  # one statement: one trip
                await outbox.mark_retry(conn, row.id, self.pace.time() + delay, f"429 retry after {delay}")
            return False
        except _NotYet:
            return False
        except ChatMigrated as exc:  # a group became a supergroup: it and its waiting rows move
            async with self.db.tx() as conn:
                if await notices.move_group(conn, row.chat_id, exc.new_chat_id):
                    await members.audit(conn, self._now(), None, "group_migrated", f"{row.chat_id}->{exc.new_chat_id}")
                await outbox.retarget(conn, row.chat_id, exc.new_chat_id)
            return False
        except (BadRequest, Forbidden) as exc:
            if isinstance(exc, BadRequest) and "not modified" in exc.message:
                result = True  # an edit to what the message already says is done
            else:
                log.warning("outbox row %s to %s failed for good: %s", row.id, row.chat_id, exc.message)
                async with self.db.single() as conn:  # one statement: one trip
                    await outbox.mark_failed(conn, row.id, exc.message)
                if self.on_failed:
                    self.on_failed(row, exc.message, True)
                return True
        except (NetworkError, TelegramError) as exc:
            if self.on_failed:
                self.on_failed(row, str(exc), False)
            if row.attempts + 1 >= self.max_retries:
                async with self.db.single() as conn:  # one statement: one trip
                    await outbox.mark_failed(conn, row.id, str(exc))
                return True
            async with self.db.single() as conn:  # one statement: one trip
                await outbox.mark_retry(conn, row.id, self._retry_at(row), str(exc))
            return False
        message_id = result.get("message_id") if isinstance(result, dict) else None
        async with self.db.single() as conn:  # one statement: one trip
            await outbox.mark_sent(conn, row.id, message_id, self._now())
        if self.on_sent:
            self.on_sent(row, result)
        return True

    async def _target_message_id(self, row: OutboxRow) -> int:
        if "message_id" in row.payload:
            return int(row.payload["message_id"])
        status, mid = await outbox.message_id_of(self.db.sender_read, int(row.payload["edit_of"]))
        if status == "pending":
            raise _NotYet()
        if mid is None:
            raise BadRequest("message to edit was never delivered")
        return mid

    async def _call(self, row: OutboxRow) -> JSONDict | bool:
        """The row's Bot API call, its stored payload sent as it is.

        Through `DeskBot.call` (the bot's rate limiter, then PTB's request layer), not the typed Bot
        methods: those build a `Message` — a hundred attributes and their entities — out of every
        answer, and the outbox only keeps its message_id. Measured on an alert with its keyboard:
        1.8 ms → 0.8 ms of the bot's CPU per message."""
        endpoint = _ENDPOINTS.get(row.method)
        if endpoint is None:
            raise BadRequest(f"unknown outbox method {row.method}")
        params: JSONDict = {"chat_id": row.chat_id}
        for key, value in row.payload.items():
            if key == "edit_of":
                continue
            if key == "reply_to":
                params["reply_parameters"] = {"message_id": value, "allow_sending_without_reply": True}
            else:
                params[_RENAMED.get(key, key)] = value
        if row.method in _EDITS:
            params["message_id"] = await self._target_message_id(row)
        if row.method == outbox.PIN:
            params["disable_notification"] = True
        result = await self.bot.call(endpoint, params, bulk=True)
        if isinstance(result, dict | bool):
            return result
        raise NetworkError(f"unexpected answer to {endpoint}: {result!r:.200}")


# The Bot API method of each outbox method; payload keys are its parameters, but for these.
_ENDPOINTS = {
    outbox.SEND_MESSAGE: "sendMessage", outbox.SEND_LOCATION: "sendLocation", outbox.SEND_PHOTO: "sendPhoto",
    outbox.SEND_DOCUMENT: "sendDocument", outbox.EDIT_TEXT: "editMessageText",
    outbox.EDIT_MARKUP: "editMessageReplyMarkup", outbox.PIN: "pinChatMessage",
}
_EDITS = (outbox.EDIT_TEXT, outbox.EDIT_MARKUP, outbox.PIN)  # act on an earlier message
_RENAMED = {"silent": "disable_notification"}


class _NotYet(Exception):
    """The message this row edits has not been delivered yet; try again after it."""
