"""📄 报告文档 under /incident N: the written report as a Word file, one per stage on file or
the whole incident file, sent to the person who pressed — duty officers, directors, the unit's
own head — in their private chat, never to a group."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.ext import Application, CallbackQueryHandler

from bot import callbacks as cb
from bot.context import DeskContext
from bot.services import incident_docx
from bot.services.errors import ServiceError
from handlers.common import answer_query, guard, is_private, refuse, say

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def _private(update: Update, ctx: DeskContext) -> bool:
    """A document with an incident's facts goes to a private chat only (a forged press in a group
    is refused there, and nothing is sent)."""
    if is_private(update):
        return True
    await answer_query(update, ctx.t("incident.docx.private_only"), alert=True)
    return False


async def on_menu(update: Update, ctx: DeskContext) -> None:
    """i:doc:<id>: which report to download."""
    member = await guard(update, ctx)
    q = update.callback_query
    parsed = cb.parse_id(q.data if q else None, cb.INCIDENT, (cb.DOCS,))
    if member is None or not await _private(update, ctx):
        return
    if parsed is None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return
    try:
        inc, kinds = await incident_docx.choices(ctx.services, member, parsed[1])
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await answer_query(update)
    labels = {k: ctx.t(f"incident.stage.{k}") if k != incident_docx.ALL else ctx.t("incident.docx.file_label")
              for k in kinds}
    rows = [[(ctx.t("incident.docx.button", label=labels[k]), f"{cb.DOCX}:{k}:{inc.id}")] for k in kinds]
    await say(update, ctx, ctx.t("incident.docx.menu", number=inc.number), cb.keyboard(rows))


async def on_download(update: Update, ctx: DeskContext) -> None:
    """dx:<stage|all>:<id>: build the file and send it here."""
    member = await guard(update, ctx)
    q = update.callback_query
    parsed = cb.parse_id(q.data if q else None, cb.DOCX, cb.DOCX_KINDS)
    chat = update.effective_chat
    if member is None or chat is None or not await _private(update, ctx):
        return
    if parsed is None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return
    kind, ident = parsed
    try:
        name, doc = await incident_docx.document(ctx.services, member, ident, kind)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await answer_query(update)
    data = await asyncio.to_thread(incident_docx.render, doc)
    await ctx.bot.send_document(chat.id, InputFile(data, filename=name), caption=ctx.t("incident.docx.caption"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_menu, pattern=cb.pattern(cb.INCIDENT, (cb.DOCS,))))
    app.add_handler(CallbackQueryHandler(on_download, pattern=cb.pattern(cb.DOCX, cb.DOCX_KINDS)))
