"""The bot the Application runs: PTB's ExtBot plus a reply that does not parse its answer.

Every dialogue step answers with a message; `ExtBot.send_message` turns Telegram's answer into
a `Message` (a hundred attributes, its entities and keyboard), which no handler reads. In the
throughput profile that parse was about a fifth of the bot's CPU. `send_text` sends the same
request through the same path (`_post`: defaults, the rate limiter, error mapping) and returns
the new message's id only. Replies in private chats, and callback answers, skip even `_post`
(`post_plain`): no defaults are set and no group pacing applies to them, and building PTB's
`RequestData` parameter by parameter was ~9 % of the bot's CPU under load; after a 429 the call
waits the `retry_after` Telegram named, then goes through `_post`, whose rate limiter handles any
further 429 (the limiter never saw the first one: retrying at once drew another refusal).

`UpdateBacklog` holds the next getUpdates back while updates already fetched wait unhandled (see
its docstring).

At start-up (`catch_up`) the polls take only what Telegram queued while the bot was down (no long
wait for new updates) until a poll comes back short, then, once all of it was handled, say so: the
deadline scheduler waits for that (bot/app.py), so an answer sent before its deadline is handled
before the 迟报 it prevents. `queued` says whether the updates being handled waited in Telegram's
queue (a button press has no date of its own: bot/domain/sent_time.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, TelegramObject
from telegram.error import RetryAfter
from telegram.ext import ExtBot
from telegram.request import RequestData

# A keyboard as PTB objects or as the Bot API's JSON (what the services build and store).
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | dict[str, Any] | None


class UpdateBacklog(asyncio.Queue[object]):
    """The Application's update queue; polls wait until everything fetched has been handled.

    A poll confirms every update before its offset, and Telegram never delivers a confirmed
    update again. Polling only once each fetched update has run through all its handlers (PTB
    calls `task_done` after the last) means a kill -9 can only ever cost updates Telegram still
    holds: they come again after the restart and are handled from the state the database
    recorded (storage/updates.py skips those already handled). Polling as soon as the queue
    was *taken* confirmed the update being handled, and a kill lost it.

    It also batches: under load the Updater used to poll once per update, each poll fetching
    the one update that arrived while the previous one was handled (1,000 officers at once:
    6,011 getUpdates for 7,000 updates); now each poll fetches everything that arrived
    meanwhile. With nothing queued (normal hours) the long poll is issued at once. The price: the
    next poll waits for the slowest update of the batch (a long export holds up new updates, as it
    did when updates were handled one at a time)."""

    async def until_handled(self) -> None:
        await self.join()


# getUpdates answers at most this many updates when no limit is asked for.
POLL_LIMIT = 100


class DeskBot(ExtBot[int]):  # int: AIORateLimiter's per-call argument (max_retries)
    # PTB freezes its objects; underscored attributes stay settable.
    _backlog: UpdateBacklog | None = None
    _clock: Callable[[], datetime] | None = None
    _caught_up: asyncio.Event | None = None  # set once the updates queued while down were handled
    _drained = False  # a catch-up poll came back short: Telegram had nothing more queued
    _answered_at: datetime | None = None  # when the last poll's answer came
    _failed = False  # the last poll failed (Telegram unreachable): updates are queuing there
    _queued = True  # the updates being handled waited in Telegram's queue (see `queued`)
    _queued_since: datetime | None = None

    def poll_after(self, backlog: UpdateBacklog, clock: Callable[[], datetime] | None = None) -> None:
        """Issue each getUpdates only once all that `backlog` (the Application's update queue)
        received was handled; `clock` times the answers (`queued_since`)."""
        self._backlog = backlog
        self._clock = clock

    def catch_up(self, caught_up: asyncio.Event) -> None:
        """From now, poll without waiting for new updates until Telegram's queue is drained, and set
        `caught_up` once every update those polls fetched was handled."""
        self._caught_up, self._drained, self._queued = caught_up, False, True

    def live(self) -> None:
        """Webhook: the start-up backlog is handled; what arrives now was sent a moment ago."""
        self._queued = False

    @property
    def queued(self) -> bool:
        """Whether the updates being handled may have waited in Telegram's queue: those fetched while
        catching up after start-up, or by the first poll after polls failed. Otherwise they reached
        the bot as they were sent, and a button press is judged by the moment it is handled. The next
        poll waits until every fetched update was handled (`UpdateBacklog`): this holds while any is."""
        return self._queued

    @property
    def queued_since(self) -> datetime | None:
        """For `queued` updates: when the bot last heard from Telegram before they came (None: not in
        this process — they may have waited since before start-up)."""
        return self._queued_since

    async def get_updates(self, *args: Any, **kwargs: Any) -> Any:
        # Long polls only: the Updater's last call at shutdown (timeout 0) confirms what was fetched.
        long_poll = bool(kwargs.get("timeout"))  # None, 0 and timedelta(0) are false
        if self._backlog is not None and long_poll:
            await self._backlog.until_handled()
        if self._caught_up is not None and long_poll:
            if self._drained:
                self._caught_up.set()
                self._caught_up = None
            else:
                kwargs["timeout"] = 0  # what waited while down, not new updates: answer at once
        try:
            updates = await super().get_updates(*args, **kwargs)
        except Exception:
            self._failed = True
            raise
        catching_up = self._caught_up is not None
        if catching_up and len(updates) < (kwargs.get("limit") or POLL_LIMIT):
            self._drained = True
        self._queued = catching_up or self._failed
        self._queued_since = self._answered_at if self._failed and not catching_up else None
        self._failed = False
        if self._clock is not None:
            self._answered_at = self._clock()
        return updates

    async def send_text(self, chat_id: int, text: str, *, parse_mode: str | None = None,
                        reply_markup: Markup = None) -> int | None:
        """sendMessage; the sent message's id (None if Telegram's answer carried none)."""
        params = {"chat_id": chat_id, "text": text, "parse_mode": parse_mode, "reply_markup": reply_markup}
        if chat_id > 0:  # a private chat
            result = await self.post_plain("sendMessage", params)
        else:  # groups: through the rate limiter's group pacing
            result = await self._post("sendMessage", params)
        mid = result.get("message_id") if isinstance(result, dict) else None
        return mid if isinstance(mid, int) else None

    async def answer_query(self, query_id: str, text: str | None = None, show_alert: bool = False) -> None:
        """answerCallbackQuery through `post_plain`."""
        await self.post_plain("answerCallbackQuery",
                              {"callback_query_id": query_id, "text": text, "show_alert": show_alert or None})

    async def post_plain(self, method: str, params: dict[str, Any]) -> Any:
        """A Bot API call straight through the request layer (Telegram's errors become PTB's
        exceptions there); after a 429, again through `_post` and its rate limiter."""
        try:
            return await self.request.post(f"{self.base_url}/{method}", Payload(params))
        except RetryAfter as exc:
            await asyncio.sleep(retry_seconds(exc))
            return await self._post(method, params)


def retry_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asked for, in seconds (PTB gives an int today, a timedelta when opted in)."""
    ra = exc.retry_after
    return ra.total_seconds() if isinstance(ra, timedelta) else float(ra)


class Payload(RequestData):  # type: ignore[misc]  # final in PTB, yet its request layer takes only these
    """Parameters as the Bot API takes them: strings as they are, anything else as JSON (PTB
    objects by their `to_dict()`); None means absent."""

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__()
        self._params = params

    @property
    def json_parameters(self) -> dict[str, str]:
        return {k: v if isinstance(v, str) else json.dumps(v.to_dict() if isinstance(v, TelegramObject) else v,
                                                           ensure_ascii=False)
                for k, v in self._params.items() if v is not None}
