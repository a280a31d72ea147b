"""Statistics for the office: /stats (text and chart) and /export (Excel workbook).
Directors, duty officers and district leaders only."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.context import DeskContext
from bot.domain.members import Action
from bot.domain.stats import Period, parse_period
from bot.services import stats as svc
from bot.services import stats_chart, stats_export
from bot.services.errors import ServiceError
from handlers.common import guard_private, refuse, say


async def _period(update: Update, ctx: DeskContext) -> Period | None:
    s = ctx.services
    period = parse_period(" ".join(ctx.args or []), s.now(), s.config.tz)
    if period is None:
        await say(update, ctx, ctx.t("stats.usage"))
    return period


async def stats(update: Update, ctx: DeskContext) -> None:
    """/stats [period]: the figures per unit, then the on-time chart."""
    member = await guard_private(update, ctx, Action.VIEW_STATS)
    chat = update.effective_chat
    if member is None or chat is None or (period := await _period(update, ctx)) is None:
        return
    s = ctx.services
    try:
        report = await svc.collect(s, member, period)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await say(update, ctx, svc.summary(s, report))
    reporting = [f for f in report.figures if s.config.unit(f.unit) and s.config.unit(f.unit).kind  # type: ignore[union-attr]
                 in svc.REPORTING_KINDS]
    png = await asyncio.to_thread(
        stats_chart.on_time_chart,
        ctx.t("stats.chart_title", first=period.first.isoformat(), last=period.last.isoformat()),
        [s.unit_name(f.unit) for f in reporting], [f.on_time_rate for f in reporting],
        ctx.t("stats.chart_no_data"), ctx.t("stats.chart_ylabel"),
    )
    await ctx.bot.send_photo(chat.id, InputFile(png, filename="stats.png"))


async def export(update: Update, ctx: DeskContext) -> None:
    """/export [period]: the workbook of the period as a document."""
    member = await guard_private(update, ctx, Action.VIEW_STATS)
    chat = update.effective_chat
    if member is None or chat is None or (period := await _period(update, ctx)) is None:
        return
    s = ctx.services
    try:
        data = await stats_export.workbook(s, member, period)
        report = await svc.collect(s, member, period)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    first, last = period.first.isoformat(), period.last.isoformat()
    await ctx.bot.send_document(
        chat.id, InputFile(data, filename=ctx.t("stats.export_name", first=first, last=last)),
        caption=ctx.t("stats.export_caption", first=first, last=last,
                      incidents=sum(f.incidents for f in report.figures)),
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("stats", stats))
    app.add_handler(CommandHandler("export", export))
