"""Whatever nothing else handled, and errors: a clear answer, never a crash or silence."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.context import DeskContext
from handlers.common import answer_query, current_member, say

log = logging.getLogger(__name__)


async def unknown_command(update: Update, ctx: DeskContext) -> None:
    """An unknown command: point at /help (or at the invite, for strangers)."""
    if update.effective_chat is None or update.effective_chat.type != "private":
        return  # never chatter in groups
    member = await current_member(update, ctx)
    if member is None:
        await say(update, ctx, ctx.t("core.unknown_user", district=ctx.services.config.general.district))
    else:
        await say(update, ctx, ctx.t("core.unknown_command"))


async def anything_else(update: Update, ctx: DeskContext) -> None:
    """Text or media outside a dialogue."""
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    member = await current_member(update, ctx)
    if member is None:
        await say(update, ctx, ctx.t("core.unknown_user", district=ctx.services.config.general.district))
    else:
        await say(update, ctx, ctx.t("core.fallback"))


async def stale_button(update: Update, ctx: DeskContext) -> None:
    """A button whose dialogue is over, or forged data."""
    await answer_query(update, ctx.t("core.stale_button"), alert=True)


async def on_error(update: object, ctx: DeskContext) -> None:
    # Log the exception type and message only; PTB's own errors never carry the token. The update
    # and chat ids say whose dialogue it hit (what a crash or chaos run is followed by).
    chat = update.effective_chat if isinstance(update, Update) else None
    log.error("error while handling update %s (chat %s): %r", getattr(update, "update_id", None),
              chat.id if chat is not None else None, ctx.error, exc_info=ctx.error)
    if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == "private":
        try:
            await say(update, ctx, ctx.t("core.error"))
        except Exception:  # the error may be the network itself
            log.warning("could not tell the user about an error")


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(CallbackQueryHandler(stale_button))
    app.add_handler(MessageHandler(filters.ALL, anything_else))
