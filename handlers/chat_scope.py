"""What may happen in a group or channel, decided once, before any feature sees the update.

Button data can be forged on any bot message in any chat, and a group holds people who must not
learn incident facts, anyone's leave or a unit's tasks. So outside a private chat only what the
group features deliberately offer there gets through (`handlers.groups.GROUP_BUTTONS` and
`GROUP_COMMANDS`, and the service messages such as a group's upgrade to a supergroup):
- any other button gets a short toast, and nothing else happens;
- any other command gets one short line (`core.private_only`), or, from someone who is not an
  active member, at most one short line a day (`handlers.common.tell_outsider`);
- any other message is left alone, so no dialogue ever reads a group's chatter as an answer (the
  dialogue is kept per chat and person, and none can be opened in a group).

`ChatScope` is the first handler of the dialogue's handler group, so neither the dialogue nor any
feature's handler sees what it takes; the other handler groups (skipping an update Telegram
delivers again, flushing dialogue states) run as for any update.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from telegram import Chat, Message, MessageEntity, Update
from telegram.ext import BaseHandler, filters

from bot.context import DeskContext
from handlers.common import answer_query, current_member, say, tell_outsider
from handlers.groups import GROUP_BUTTONS, GROUP_COMMANDS


class Refusal(Enum):
    BUTTON = "button"
    COMMAND = "command"
    MESSAGE = "message"


def command_of(msg: Message) -> tuple[str, str | None] | None:
    """`/name@bot args` → ("name", "bot"); None unless the message starts with a command."""
    text, ents = msg.text or "", msg.entities
    if not ents or ents[0].type != MessageEntity.BOT_COMMAND or ents[0].offset != 0:
        return None
    name, _, addressee = text[1:ents[0].length].partition("@")
    return name.lower(), addressee or None


def refusal(update: object) -> Refusal | None:
    """Why this update must not reach the features, or None when it may."""
    if not isinstance(update, Update):
        return None
    chat = update.effective_chat
    if chat is not None and chat.type == Chat.PRIVATE:
        return None
    if update.callback_query is not None:  # chat None: a button on an inline message, not ours either
        data = update.callback_query.data or ""
        return None if data.split(":", 1)[0] in GROUP_BUTTONS else Refusal.BUTTON
    msg = update.effective_message
    if msg is None or filters.StatusUpdate.ALL.check_update(update):
        return None  # membership changes, a group upgraded to a supergroup: the group features' own
    command = command_of(msg)
    if command is None:
        return Refusal.MESSAGE
    return None if command[0] in GROUP_COMMANDS else Refusal.COMMAND


async def refuse(update: Update, ctx: DeskContext) -> None:
    """A button: the toast. A command for this bot: one short line. Anything else: nothing."""
    why = refusal(update)
    if why is Refusal.BUTTON:
        await answer_query(update, ctx.t("core.group_button"))
        return
    msg = update.effective_message
    command = command_of(msg) if why is Refusal.COMMAND and msg is not None else None
    if command is None or (command[1] is not None and command[1].lower() != (ctx.bot.username or "").lower()):
        return  # chatter, or a command for another bot in the group
    member = await current_member(update, ctx)
    if member is None:
        await tell_outsider(update, ctx, "core.unknown_user")
    elif not member.active:
        await tell_outsider(update, ctx, "core.deactivated")
    else:
        await say(update, ctx, ctx.t("core.private_only"))


class ChatScope(BaseHandler[Update, DeskContext, None]):
    """Takes every update a group or channel may not use (see `refusal`), and refuses it."""

    def __init__(self) -> None:
        super().__init__(refuse)

    def check_update(self, update: object) -> Any:
        return refusal(update) is not None
