"""The review of an incident's facts, pre-filled, to confirm or correct one by one: the written
report (书面报告), the unit's first report on an event the office put on record (with when it
learnt of it), the corrected written report owed after a 误报 mark, and a director's 误报
correction (handlers/marks.py asks the reason first). Each correction is committed to the draft."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.app import DeskContext
from bot.domain.casualties import Casualties, CasualtyInputError, parse_casualties
from bot.domain.incidents import Category, Stage
from bot.domain.members import Action
from bot.domain.report_draft import MAX_DESCRIPTION, MAX_PLACE
from bot.domain.timeparse import TimeBounds, TimeInputError, parse_event_time
from bot.services import incident_text as txt
from bot.services.errors import ServiceError
from bot.services.incident_findings import mark_wrong
from bot.services.incident_record import correct_facts, file_unit_first
from bot.services.incidents import file_written
from handlers.common import acted_at, answer_query, guard, read_text, refuse, say
from handlers.stages import _draft, _finish, _open, _save, stray
from storage import incidents


class S(IntEnum):
    W_REVIEW = 200
    W_TIME = 201
    W_PLACE = 202
    W_CASUALTIES = 203
    W_DESCRIPTION = 204
    W_LEARNT = 205
    W_CATEGORY = 206


# One review of the facts, pre-filled, to confirm or correct, for four purposes: the written
# report; the unit's first report on an event the office put on record (plus when it learnt of
# it); the corrected written report owed after a 误报 mark; a director's 误报 correction
# (handlers/marks.py asks the reason first).
WRITTEN, FIRST, CORRECTED, WRONG, OFFICE = "written", "first", "corrected", "wrong", "office"
NOTHING_CORRECTED = ("incident.marks.no_correction", "record.no_correction")
PURPOSE_ACTION = {WRITTEN: Action.FILE_STAGE, FIRST: Action.FILE_STAGE, CORRECTED: Action.FILE_STAGE,
                  WRONG: Action.MARK_INCIDENT, OFFICE: Action.CORRECT_FACTS}


async def _start_review(update: Update, ctx: DeskContext, purpose: str, stage: Stage | None) -> S | int:
    opened = await _open(update, ctx, PURPOSE_ACTION[purpose])
    if opened is None:
        return ConversationHandler.END
    _member, inc = opened
    rec = inc.stage(stage) if stage is not None else None
    if stage is not None and (rec is None or rec.filed_at is not None):
        await say(update, ctx, ctx.t("incident.stages.already_filed", number=inc.number,
                                     stage=ctx.t(f"incident.stage.{stage.value}")))
        return ConversationHandler.END
    await _save(update, ctx, {"incident_id": inc.id, "corrections": {}, "purpose": purpose})
    return await show_written(update, ctx)


async def start_written(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 📝 书面报告: show the first report's facts, pre-filled, to confirm or correct."""
    return await _start_review(update, ctx, WRITTEN, None)


async def start_first(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 🚨 首报 on an event the office put on record: the unit's own first report."""
    return await _start_review(update, ctx, FIRST, Stage.FIRST)


async def start_corrected(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 📝 更正书面报告, owed after a director's 误报 mark."""
    return await _start_review(update, ctx, CORRECTED, Stage.CORRECTED)


async def start_office(update: Update, ctx: DeskContext) -> S | int:
    """Entry from ✏️ 更正要素: the duty room corrects the facts it holds (not a finding)."""
    return await _start_review(update, ctx, OFFICE, None)


def _when(c: dict[str, Any], key: str, default: datetime) -> datetime:
    return datetime.fromisoformat(c[key]) if key in c else default


async def show_written(update: Update, ctx: DeskContext) -> S:
    s = ctx.services
    draft = await _draft(update, ctx)
    inc = await incidents.get(s.db.read, draft["incident_id"])
    assert inc is not None
    c = draft["corrections"]
    purpose = draft.get("purpose", WRITTEN)
    facts = txt.facts(
        s, unit_code=inc.unit_code, category=c.get("category", inc.category.value),
        occurred_at=_when(c, "occurred_at", inc.occurred_at), learnt_at=_when(c, "learnt_at", inc.learnt_at),
        place=c.get("place", inc.place), latitude=c.get("latitude", inc.latitude),
        longitude=c.get("longitude", inc.longitude),
        casualties=Casualties(*c["casualties"]) if "casualties" in c else inc.casualties,
        description=c.get("description", inc.description),
    )
    fixes = ["time", "learnt", "place", "casualties", "description", "category"] if purpose == FIRST else \
        ["time", "place", "casualties", "description", "category"]
    buttons = [(ctx.t(f"incident.stage_btn.{k}"), f"iw:{k}") for k in fixes]
    rows = [[(ctx.t(f"incident.stage_btn.ok_{purpose}"), "iw:ok")], *(buttons[i:i + 2] for i in range(0, len(buttons), 2))]
    await say(update, ctx, ctx.t(f"incident.stages.{purpose}_intro", number=inc.number, facts=facts), cb.keyboard(rows))
    return S.W_REVIEW


async def written_choice(update: Update, ctx: DeskContext) -> S | int:
    """确认无误 files it; the others ask for one correction."""
    choice = (update.callback_query.data or "") if update.callback_query else ""
    await answer_query(update)
    if choice == "iw:time":
        await say(update, ctx, ctx.t("incident.ask_occurred"))
        return S.W_TIME
    if choice == "iw:learnt":
        await say(update, ctx, ctx.t("incident.stages.ask_unit_learnt"))
        return S.W_LEARNT
    if choice == "iw:place":
        await say(update, ctx, ctx.t("incident.ask_place"))
        return S.W_PLACE
    if choice == "iw:casualties":
        await say(update, ctx, ctx.t("incident.ask_casualties"))
        return S.W_CASUALTIES
    if choice == "iw:description":
        await say(update, ctx, ctx.t("incident.ask_description", limit=MAX_DESCRIPTION))
        return S.W_DESCRIPTION
    if choice == "iw:category":
        names = [(ctx.t(f"incident.cat.{c.value}"), f"iwc:{c.value}") for c in Category]
        await say(update, ctx, ctx.t("incident.stages.ask_category"),
                  cb.keyboard([names[i:i + 2] for i in range(0, len(names), 2)]))
        return S.W_CATEGORY
    draft = await _draft(update, ctx)
    if not draft or "incident_id" not in draft:
        await say(update, ctx, ctx.t("incident.draft_lost"))
        return ConversationHandler.END
    purpose = draft.get("purpose", WRITTEN)
    member = await guard(update, ctx, PURPOSE_ACTION.get(purpose, Action.FILE_STAGE))
    if member is None:
        return await _finish(update, ctx)
    c = dict(draft["corrections"])
    if "casualties" in c:
        c["casualties"] = Casualties(*c["casualties"])
    for key in ("occurred_at", "learnt_at"):
        if key in c:
            c[key] = datetime.fromisoformat(c[key])
    s = ctx.services
    try:
        if purpose in (WRONG, OFFICE):
            done = await (mark_wrong(s, member, draft["incident_id"], draft.get("reason", ""), c) if purpose == WRONG
                          else correct_facts(s, member, draft["incident_id"], c))
            await say(update, ctx, done)
            return await _finish(update, ctx)
        if purpose == FIRST:
            late = await file_unit_first(s, member, draft["incident_id"], c, at=await acted_at(update, ctx))
        else:
            late = await file_written(s, member, draft["incident_id"], c, at=await acted_at(update, ctx),
                                      stage=Stage.CORRECTED if purpose == CORRECTED else Stage.WRITTEN)
    except ServiceError as err:
        if err.key in NOTHING_CORRECTED:  # nothing corrected yet: stay in the review
            await say(update, ctx, ctx.t(err.key, **err.kw))
            return S.W_REVIEW
        await refuse(update, ctx, err)
        return await _finish(update, ctx)
    inc = await incidents.get(s.db.read, draft["incident_id"])
    assert inc is not None
    await say(update, ctx, ctx.t(f"incident.stages.{purpose}_done", number=inc.number, late=late),
              txt.unit_keyboard(s, inc))
    return await _finish(update, ctx)


async def _correct(update: Update, ctx: DeskContext, **changes: Any) -> S:
    draft = await _draft(update, ctx)
    draft.setdefault("corrections", {}).update(changes)
    await _save(update, ctx, draft)
    return await show_written(update, ctx)


async def _typed_time(update: Update, ctx: DeskContext) -> datetime | None:
    s = ctx.services
    text = await read_text(update, ctx, limit=64)
    if text is None:
        return None
    try:
        return parse_event_time(text, s.now(), s.config.tz, TimeBounds(s.config.incident.max_backdate))
    except TimeInputError as err:
        await say(update, ctx, ctx.t(f"incident.time_{err.code}", days=s.config.incident.max_backdate.days))
        return None


async def written_time(update: Update, ctx: DeskContext) -> S:
    """Reads the corrected time of the event."""
    when = await _typed_time(update, ctx)
    if when is None:
        return S.W_TIME
    return await _correct(update, ctx, occurred_at=when.isoformat())


async def written_learnt(update: Update, ctx: DeskContext) -> S:
    """Reads when the unit learnt of the event (its deadlines count from then)."""
    when = await _typed_time(update, ctx)
    if when is None:
        return S.W_LEARNT
    return await _correct(update, ctx, learnt_at=when.isoformat())


async def written_category(update: Update, ctx: DeskContext) -> S:
    """Reads the corrected category (a button)."""
    value = (update.callback_query.data or "").removeprefix("iwc:") if update.callback_query else ""
    if value not in {c.value for c in Category}:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.W_CATEGORY
    await answer_query(update)
    return await _correct(update, ctx, category=value)


async def written_place(update: Update, ctx: DeskContext) -> S:
    """Reads the corrected place (text or location)."""
    msg = update.effective_message
    if msg is not None and msg.location is not None:
        return await _correct(update, ctx, latitude=msg.location.latitude, longitude=msg.location.longitude)
    text = await read_text(update, ctx, limit=MAX_PLACE)
    if text is None:
        return S.W_PLACE
    return await _correct(update, ctx, place=text)


async def written_casualties(update: Update, ctx: DeskContext) -> S:
    """Reads corrected casualty figures."""
    text = await read_text(update, ctx, limit=100)
    if text is None:
        return S.W_CASUALTIES
    try:
        c = parse_casualties(text)
    except CasualtyInputError:
        await say(update, ctx, ctx.t("incident.casualties_bad"))
        return S.W_CASUALTIES
    return await _correct(update, ctx, casualties=[c.deaths, c.injured, c.missing])


async def written_description(update: Update, ctx: DeskContext) -> S:
    """Reads the corrected description."""
    text = await read_text(update, ctx, limit=MAX_DESCRIPTION)
    if text is None:
        return S.W_DESCRIPTION
    return await _correct(update, ctx, description=text)


TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(start_written, pattern=rf"^i:{cb.WRITTEN}:\d+$"),
        CallbackQueryHandler(start_first, pattern=rf"^i:{cb.FIRST}:\d+$"),
        CallbackQueryHandler(start_corrected, pattern=rf"^i:{cb.CORRECTED}:\d+$"),
        CallbackQueryHandler(start_office, pattern=rf"^i:{cb.FIX}:\d+$"),
    ]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = [CallbackQueryHandler(stray, pattern=r"^(iw|iwc):"), MessageHandler(~filters.COMMAND, stray)]
    return {
        S.W_REVIEW: [CallbackQueryHandler(
            written_choice, pattern=r"^iw:(ok|time|learnt|place|casualties|description|category)$"), *other],
        S.W_TIME: [MessageHandler(TEXT, written_time), *other],
        S.W_LEARNT: [MessageHandler(TEXT, written_learnt), *other],
        S.W_CATEGORY: [CallbackQueryHandler(written_category, pattern=r"^iwc:[a-z]{1,16}$"), *other],
        S.W_PLACE: [MessageHandler(TEXT | filters.LOCATION, written_place), *other],
        S.W_CASUALTIES: [MessageHandler(TEXT, written_casualties), *other],
        S.W_DESCRIPTION: [MessageHandler(TEXT, written_description), *other],
    }
