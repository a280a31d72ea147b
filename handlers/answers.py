"""An answer counts for the question it follows: the rule every dialogue step is read under.

A person who sends an answer twice (no reaction yet, a flaky network, the bot down), or who
answers both copies of a question asked again after a restart, has typed the second message
before the next question reached them. Taken by the dialogue, it became the answer to that next
question: the casualties filed as the description of an emergency report (issue 29), a title as
an item's text. Telegram numbers a chat's messages in the order they arrive, the person's and the
bot's alike, so a message older than the one that asked the step's question (kept with the step,
storage/persistence.py) was sent before that question was on the screen: it is not read as the
answer, and the person is told so; the question above is still the one to answer.

Only typed text is held to this: it is what one field's answer can be mistaken for another's.
A photo or a file sent right after a text (people send several messages at once) is an
attachment wherever the step takes one; commands (/cancel, /report …) are not answers; and a
button names its own message, each dialogue checking which buttons its step takes.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import DeskContext
from handlers.common import say
from storage import updates
from storage.persistence import SqlitePersistence


def sent_before_question(update: Update, persistence: object, dialog: str) -> bool:
    """Whether the update is a message sent before the question its dialogue step waits on."""
    msg, chat, user = update.message, update.effective_chat, update.effective_user
    if msg is None or chat is None or user is None or not isinstance(persistence, SqlitePersistence):
        return False
    if msg.text is None or msg.text.startswith("/"):
        return False  # only typed text can be read as the wrong field; a photo or file is one
    asked = persistence.asked(dialog, (chat.id, user.id))
    return asked is not None and msg.message_id < asked


async def refuse_crossed(update: Update, ctx: DeskContext, dialog: str) -> None:
    """Before the dialogue reads an answer: one sent before its question is not read."""
    if sent_before_question(update, ctx.application.persistence, dialog):
        await say(update, ctx, ctx.t("core.answer_crossed"))
        updates.end()  # handled: it moved nothing, so there is nothing to mark or flush
        raise ApplicationHandlerStop
