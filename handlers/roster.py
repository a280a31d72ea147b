"""The duty roster in chat: /duty (now, today and the week), /duty set (one shift of one day),
/duty log [date] (a duty day's log), and an admin sending the roster as an .xlsx or .csv document."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.context import DeskContext
from bot.domain import roster as rules
from bot.domain.members import Action
from bot.services import duty_log
from bot.services import roster as svc
from bot.services.errors import ServiceError
from handlers.common import guard, guard_private, is_private, refuse, say

ROSTER_FILES = filters.ChatType.PRIVATE & (
    filters.Document.FileExtension("xlsx") | filters.Document.FileExtension("csv")
)


async def duty(update: Update, ctx: DeskContext) -> None:
    """/duty shows the roster; /duty set DATE SHIFT NAME [NAME] edits one shift."""
    member = await guard(update, ctx, Action.VIEW_ROSTER)
    if member is None:
        return
    s = ctx.services
    args = ctx.args or []
    try:
        if args and args[0].lower() == "log":  # /duty log [date]: a duty day's log
            if await guard_private(update, ctx, Action.VIEW_DUTY_LOG) is None:
                return
            await say(update, ctx, await duty_log.day_text(s, member, " ".join(args[1:])))
            return
        if args and args[0].lower() == "set":
            if await guard(update, ctx, Action.MANAGE_ROSTER) is None:
                return
            r = svc.roster_rules(s)
            edit = rules.parse_edit(args[1:], r, rules.duty_day(s.now(), r))
            if isinstance(edit, str):
                await say(update, ctx, ctx.t(edit, shifts=" / ".join(sh.label for sh in r.shifts)))
                return
            await say(update, ctx, await svc.set_shift(s, member, edit))
            return
        await say(update, ctx, await svc.week_text(s, member))
    except ServiceError as err:
        await refuse(update, ctx, err)


async def roster_file(update: Update, ctx: DeskContext) -> None:
    """A roster table sent as a document: imported whole, or every problem listed."""
    member = await guard(update, ctx, Action.MANAGE_ROSTER)
    msg = update.effective_message
    if member is None or msg is None or msg.document is None or not is_private(update):
        return
    doc = msg.document
    if doc.file_size and doc.file_size > svc.MAX_FILE:
        await say(update, ctx, ctx.t("roster.err.too_big"))
        return
    data = bytes(await (await ctx.bot.get_file(doc.file_id)).download_as_bytearray())
    try:
        await say(update, ctx, await svc.import_table(ctx.services, member, doc.file_name or "", data))
    except ServiceError as err:
        await refuse(update, ctx, err)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("duty", duty))
    app.add_handler(MessageHandler(ROSTER_FILES, roster_file))
