"""督查督办 buttons and views: 签收 / 通过 / 同意延期 / 不同意 / 详情, /task N, /tasks, /bulletin."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import DeskContext
from bot.domain import parse
from bot.domain.members import Action, Member, can
from bot.services import supervision as svc
from bot.services import supervision_text as txt
from bot.services import supervision_views as views
from bot.services.errors import ServiceError
from handlers.common import ANSWERED, acted_at, answer_query, guard_private, say, use_button
from handlers.supervision_work import reply


async def on_button(update: Update, ctx: DeskContext) -> None:
    """签收 / 通过 / 同意延期 / 不同意 / 详情. Re-checks role and unit; data is not trusted."""
    s = ctx.services

    async def use(member: Member, action: str, ident: int) -> svc.Reply | None:
        if action == txt.DETAIL:
            await answer_query(update)
            await send_detail(update, ctx, member, ident)
            return None
        if action == txt.ACCEPT:
            return await svc.accept(s, member, ident, at=await acted_at(update, ctx))
        if action == txt.APPROVE:
            return await svc.approve_completion(s, member, ident)
        return await svc.decide_extension(s, member, ident, approve=action == txt.EXT_OK)

    out = await use_button(update, ctx, txt.PREFIX, txt.BUTTON_ACTIONS, use)
    if out is ANSWERED or out is None:
        return
    await answer_query(update, out.text if not out.first else None, alert=not out.first)
    if out.first:
        await reply(update, ctx, out)


async def send_detail(update: Update, ctx: DeskContext, member: Member, task_id: int) -> None:
    try:
        task, text = await views.detail(ctx.services, member, task_id)
    except ServiceError:
        # Another unit's item reads as absent: its existence is a detail too.
        await say(update, ctx, ctx.t("task.not_found", number=task_id))
        return
    await say(update, ctx, text, views.detail_markup(ctx.services, member, task))


async def show_task(update: Update, ctx: DeskContext) -> None:
    """/task 7: the full history."""
    member = await guard_private(update, ctx)
    if member is None:
        return
    task_id = parse.record_id(ctx.args[0]) if ctx.args else None
    if task_id is None:
        await say(update, ctx, ctx.t("task.usage"))
        return
    await send_detail(update, ctx, member, task_id)


async def list_tasks(update: Update, ctx: DeskContext) -> None:
    """/tasks [unit] [state] [逾期] [全部]: all for directors and leaders, own unit otherwise."""
    member = await guard_private(update, ctx)
    if member is None:
        return
    if not (can(member, Action.VIEW_ALL_TASKS) or can(member, Action.VIEW_OWN_TASKS)):
        await say(update, ctx, ctx.t("core.not_allowed"))
        return
    f = views.parse_filter(ctx.services, list(ctx.args or []))
    if f is None:
        await say(update, ctx, ctx.t("task.filter_bad"))
        return
    await say(update, ctx, await views.list_text(ctx.services, member, f))


async def show_bulletin(update: Update, ctx: DeskContext) -> None:
    """/bulletin: the current 通报, to the one who asked."""
    member = await guard_private(update, ctx, Action.VIEW_ALL_TASKS)
    if member is None:
        return
    s = ctx.services
    await say(update, ctx, await views.bulletin_text(s, s.db.read, s.now()))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("task", show_task, has_args=True))
    app.add_handler(CommandHandler("tasks", list_tasks))
    app.add_handler(CommandHandler("bulletin", show_bulletin))
    app.add_handler(CallbackQueryHandler(on_button, pattern=txt.pattern(txt.BUTTON_ACTIONS)))
