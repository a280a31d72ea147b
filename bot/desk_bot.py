"""The bot the Application runs: PTB's ExtBot plus a reply that does not parse its answer.

Every dialogue step answers with a message; `ExtBot.send_message` turns Telegram's answer into
a `Message` (a hundred attributes, its entities and keyboard), which no handler reads. In the
throughput profile that parse was about a fifth of the bot's CPU. `send_text` sends the same
request through the same path (`_post`: defaults, the rate limiter, error mapping) and returns
the new message's id only.

`UpdateBacklog` holds the next getUpdates back while updates already fetched wait unhandled (see
its docstring).
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.ext import ExtBot

# A keyboard as PTB objects or as the Bot API's JSON (what the services build and store).
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | dict[str, Any] | None


class UpdateBacklog(asyncio.Queue[object]):
    """The Application's update queue, telling when it has run dry.

    Under load the Updater polled once per update: each poll fetched the one update that arrived
    while the previous one was handled, and a poll costs the bot and Telegram a whole request
    (1000 officers at once: 6,011 getUpdates for 7,000 updates). Polling only once the queue is
    empty costs no latency — anything fetched earlier would wait behind the backlog anyway — and
    lets each poll fetch everything that arrived meanwhile. With nothing queued (normal hours)
    the long poll is issued at once, as before."""

    def __init__(self) -> None:
        super().__init__()
        self._dry = asyncio.Event()
        self._dry.set()

    def put_nowait(self, item: object) -> None:  # Queue.put ends here too
        super().put_nowait(item)
        self._dry.clear()

    def get_nowait(self) -> object:  # Queue.get ends here too
        item = super().get_nowait()
        if self.empty():
            self._dry.set()
        return item

    async def until_dry(self) -> None:
        await self._dry.wait()


class DeskBot(ExtBot[None]):
    _backlog: UpdateBacklog | None = None

    def poll_after(self, backlog: UpdateBacklog) -> None:
        """Issue each getUpdates only once `backlog` (the Application's update queue) has run dry."""
        self._backlog = backlog  # PTB freezes its objects; underscored attributes stay settable

    async def get_updates(self, *args: Any, **kwargs: Any) -> Any:
        # Long polls only: the Updater's last call at shutdown (timeout 0) confirms what was fetched.
        if self._backlog is not None and kwargs.get("timeout"):  # None, 0 and timedelta(0) are false
            await self._backlog.until_dry()
        return await super().get_updates(*args, **kwargs)

    async def send_text(self, chat_id: int, text: str, *, parse_mode: str | None = None,
                        reply_markup: Markup = None) -> int | None:
        """sendMessage; the sent message's id (None if Telegram's answer carried none)."""
        result = await self._post("sendMessage", {"chat_id": chat_id, "text": text, "parse_mode": parse_mode,
                                                  "reply_markup": reply_markup})
        mid = result.get("message_id") if isinstance(result, dict) else None
        return mid if isinstance(mid, int) else None
