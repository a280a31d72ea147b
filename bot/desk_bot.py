"""The bot the Application runs: PTB's ExtBot plus a reply that does not parse its answer.

Every dialogue step answers with a message; `ExtBot.send_message` turns Telegram's answer into
a `Message` (a hundred attributes, its entities and keyboard), which no handler reads. In the
throughput profile that parse was about a fifth of the bot's CPU. `send_text` sends the same
request through the same path (`_post`: defaults, the rate limiter, error mapping) and returns
the new message's id only.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.ext import ExtBot

# A keyboard as PTB objects or as the Bot API's JSON (what the services build and store).
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | dict[str, Any] | None


class DeskBot(ExtBot[None]):
    async def send_text(self, chat_id: int, text: str, *, parse_mode: str | None = None,
                        reply_markup: Markup = None) -> int | None:
        """sendMessage; the sent message's id (None if Telegram's answer carried none)."""
        result = await self._post("sendMessage", {"chat_id": chat_id, "text": text, "parse_mode": parse_mode,
                                                  "reply_markup": reply_markup})
        mid = result.get("message_id") if isinstance(result, dict) else None
        return mid if isinstance(mid, int) else None
