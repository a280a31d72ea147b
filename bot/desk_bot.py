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
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
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


class DeskBot(ExtBot[None]):
    _backlog: UpdateBacklog | None = None

    def poll_after(self, backlog: UpdateBacklog) -> None:
        """Issue each getUpdates only once all that `backlog` (the Application's update queue)
        received was handled."""
        self._backlog = backlog  # PTB freezes its objects; underscored attributes stay settable

    async def get_updates(self, *args: Any, **kwargs: Any) -> Any:
        # Long polls only: the Updater's last call at shutdown (timeout 0) confirms what was fetched.
        if self._backlog is not None and kwargs.get("timeout"):  # None, 0 and timedelta(0) are false
            await self._backlog.until_handled()
        return await super().get_updates(*args, **kwargs)

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


class Payload(RequestData):
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
