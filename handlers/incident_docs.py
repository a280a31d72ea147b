"""📄 报告文档 under /incident N: the written report as a Word file, one per stage on file or
the whole incident file, sent to the person who pressed — duty officers, directors, the unit's
own head — in their private chat, never to a group."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import InputFile, Update
from telegram.ext import Application, CallbackQueryHandler

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.incidents import Incident
from bot.domain.members import Member
from bot.services import incident_docx
from handlers.common import ANSWERED, answer_query, is_private, say, use_button

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
    async def use(member: Member, _docs: str, ident: int) -> tuple[Incident, list[str]] | None:
        if not await _private(update, ctx):
            return None
        return await incident_docx.choices(ctx.services, member, ident)

    got = await use_button(update, ctx, cb.INCIDENT, (cb.DOCS,), use)
    if got is ANSWERED or got is None:
        return
    inc, kinds = got
    await answer_query(update)
    labels = {k: ctx.t(f"incident.stage.{k}") if k != incident_docx.ALL else ctx.t("incident.docx.file_label")
              for k in kinds}
    rows = [[(ctx.t("incident.docx.button", label=labels[k]), f"{cb.DOCX}:{k}:{inc.id}")] for k in kinds]
    await say(update, ctx, ctx.t("incident.docx.menu", number=inc.number), cb.keyboard(rows))


async def on_download(update: Update, ctx: DeskContext) -> None:
    """dx:<stage|all>:<id>: build the file and send it here."""
    chat = update.effective_chat

    async def use(member: Member, kind: str, ident: int) -> tuple[str, Any] | None:
        if chat is None or not await _private(update, ctx):
            return None
        return await incident_docx.document(ctx.services, member, ident, kind)

    got = await use_button(update, ctx, cb.DOCX, cb.DOCX_KINDS, use)
    if got is ANSWERED or got is None or chat is None:
        return
    name, doc = got
    await answer_query(update)
    data = await asyncio.to_thread(incident_docx.render, doc)
    await ctx.bot.send_document(chat.id, InputFile(data, filename=name), caption=ctx.t("incident.docx.caption"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_menu, pattern=cb.pattern(cb.INCIDENT, (cb.DOCS,))))
    app.add_handler(CallbackQueryHandler(on_download, pattern=cb.pattern(cb.DOCX, cb.DOCX_KINDS)))
