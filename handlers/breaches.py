"""/breaches [period]: the 通报 of emergency reporting (迟报/漏报/误报/瞒报 per unit) for any
period, on demand; the scheduled one goes to the directors by itself (reporting_bulletin)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import DeskContext
from bot.domain.members import Action
from bot.domain.stats import parse_period
from bot.fmt import clip
from bot.services import reporting_bulletin
from bot.services.errors import ServiceError
from handlers.common import guard_private, refuse, say


async def breaches(update: Update, ctx: DeskContext) -> None:
    """/breaches [period]: month (default), week, 2026-11, 2026-11-01..2026-11-15."""
    member = await guard_private(update, ctx, Action.VIEW_STATS)
    if member is None:
        return
    s = ctx.services
    period = parse_period(" ".join(ctx.args or []), s.now(), s.config.tz)
    if period is None:
        await say(update, ctx, ctx.t("reporting.usage"))
        return
    try:
        text = await reporting_bulletin.on_demand(s, member, period)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await say(update, ctx, clip(text))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("breaches", breaches))
