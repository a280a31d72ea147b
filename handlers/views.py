"""/incidents (open ones, with each stage's state) and /incident N (timeline + merged report)."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.context import DeskContext
from bot.domain.incidents import FULL_FIELDS, parse_incident_number
from bot.domain.members import Action, Member, can, may_see_incident
from bot.fmt import clip, clip_timeline, esc
from bot.i18n import LANGUAGES, Texts
from bot.services import incident_detail as detail
from bot.services import incident_findings as findings
from bot.services import incident_text as txt
from bot.services.base import Services
from bot.services.errors import NotYourUnit, ServiceError, Stale
from bot.services.incident_delivery import delivery_block
from bot.services.incident_versions import history_text
from handlers.common import answer_query, guard_private, refuse, say
from storage import incidents


async def list_incidents(update: Update, ctx: DeskContext) -> None:
    """Open incidents: district-wide for duty/directors/leaders, own unit for unit members."""
    member = await guard_private(update, ctx)
    if member is None:
        return
    if not (can(member, Action.VIEW_ALL_INCIDENTS) or can(member, Action.VIEW_OWN_INCIDENTS)):
        await say(update, ctx, ctx.t("core.not_allowed"))
        return
    s = ctx.services
    unit = None if can(member, Action.VIEW_ALL_INCIDENTS) else member.unit_code
    found = await incidents.list_open(s.db.read, unit)
    if not found:
        await say(update, ctx, ctx.t("incident.views.list_none"))
        return
    now = s.now()
    flags = await detail.list_flags_for(s, found, now)
    lines = [ctx.t("incident.views.list_title", count=len(found))]
    for inc in found:
        stages = " ".join(x for x in (txt.stage_line(s, inc, now), flags.get(inc.id, "")) if x)
        lines.append(ctx.t("incident.views.list_item", number=inc.number, unit=esc(s.unit_name(inc.unit_code)),
                           category=ctx.t(f"incident.cat.{inc.category}"), learnt=s.fmt.dt(inc.learnt_at),
                           stages=stages))
    await say(update, ctx, clip("\n".join(lines)))


async def detail_text(s: Services, member: Member, incident_id: int) -> str:
    inc = await incidents.get(s.db.read, incident_id)
    if inc is None:
        raise Stale()
    if not may_see_incident(member, inc.unit_code):
        raise NotYourUnit()
    now = s.now()
    full = ""
    if any(inc.full.get(f) for f in FULL_FIELDS):
        full = s.texts("incident.views.full_block",
                       **{f: esc(inc.full.get(f) or s.texts("incident.open_mark")) for f in FULL_FIELDS})
    timeline = [
        s.texts("incident.views.timeline_line", time=s.fmt.dt(at), text=txt.event_text(s, kind, d))
        for at, _actor, kind, d in await incidents.events(s.db.read, inc.id)
    ]
    # The office's side: where the facts came from, versions kept, the clocks to the city, findings.
    office = "".join(block + "\n\n" for block in (
        await detail.source_block(s, inc),
        s.texts("incident.versions.count_line", n=await detail.version_count(s, inc)),
        await detail.forward_block(s, inc, now),
        await findings.marks_block(s, inc, now),
        await delivery_block(s, inc) if can(member, Action.ACK_ALERT) else "",  # who got it, on which channel
    ) if block)
    return clip_timeline(lambda shown: s.texts(
        "incident.views.detail", number=inc.number,
        status=s.texts("incident.views.status_open" if inc.open else "incident.views.status_closed"),
        facts=txt.incident_facts(s, inc), full=full, stages=txt.stage_line(s, inc, now),
        timeline="\n".join(shown), office=office,
    ), timeline, lambda n: s.texts("core.older_omitted", n=n))


async def send_detail(update: Update, ctx: DeskContext, member: Member, incident_id: int) -> None:
    try:
        text = await detail_text(ctx.services, member, incident_id)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await answer_query(update)
    inc = await incidents.get(ctx.services.db.read, incident_id)
    markup = await detail.detail_keyboard(ctx.services, member, inc) if inc is not None else None
    await say(update, ctx, text, markup)


async def send_versions(update: Update, ctx: DeskContext, member: Member, incident_id: int) -> None:
    """🕘 要素变更: every version of the facts, old → new, for whoever may read the incident."""
    inc = await incidents.get(ctx.services.db.read, incident_id)
    if inc is None or not may_see_incident(member, inc.unit_code):
        await refuse(update, ctx, Stale() if inc is None else NotYourUnit())
        return
    await answer_query(update)
    await say(update, ctx, await history_text(ctx.services, inc))


async def show_incident(update: Update, ctx: DeskContext) -> None:
    """/incident 2026-0007."""
    member = await guard_private(update, ctx)
    if member is None:
        return
    number = parse_incident_number(ctx.args[0]) if ctx.args else None
    if number is None:
        await say(update, ctx, ctx.t("incident.views.usage"))
        return
    inc = await incidents.by_number(ctx.services.db.read, number)
    if inc is None or not may_see_incident(member, inc.unit_code):
        # Another unit's incident reads as absent: its existence is a detail too.
        await say(update, ctx, ctx.t("incident.views.not_found", number=esc(number)))
        return
    await send_detail(update, ctx, member, inc.id)


def menu_pattern() -> re.Pattern[str]:
    labels = {Texts(lang)("core.menu.incidents") for lang in LANGUAGES}
    return re.compile("^(" + "|".join(re.escape(x) for x in labels) + ")$")


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("incidents", list_incidents))
    app.add_handler(CommandHandler("incident", show_incident))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.Regex(menu_pattern()), list_incidents))
