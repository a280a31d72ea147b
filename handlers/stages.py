"""Later stages of an incident, opened from its buttons: full report (cause … consequences),
follow-ups, closing (the written report's review of the facts: handlers/fact_review.py).
Each answer is committed to a draft."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.app import DeskContext
from bot.domain.casualties import CasualtyInputError, parse_casualties
from bot.domain.incidents import FULL_FIELDS
from bot.domain.members import Action
from bot.domain.report_draft import MAX_DESCRIPTION
from bot.services import incident_text as txt
from bot.services.errors import ServiceError
from bot.services.incidents import close_incident, file_followup, file_full, load_for, missed_line
from handlers.common import (
    DialogKind,
    DraftRows,
    acted_at,
    answer_query,
    drop_drafts,
    guard,
    load_draft,
    read_text,
    refuse,
    save_draft,
    say,
    stray_handler,
)
from storage import incidents

KIND = "stage"


class S(IntEnum):
    # 200–209: the review of the facts (written report …), handlers/fact_review.py
    FULL = 210  # one state; the draft knows which field is being asked
    U_TEXT = 220
    U_CASUALTIES = 221
    C_OUTCOME = 230


async def _open(update: Update, ctx: DeskContext, action: Action) -> tuple[Any, Any] | None:
    """Common entry: the member and the incident named by the button, if allowed and open."""
    member = await guard(update, ctx, action)
    if member is None:
        return None
    data = update.callback_query.data if update.callback_query else None
    parsed = cb.parse_id(data, cb.INCIDENT, cb.INCIDENT_ACTIONS)
    if parsed is None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return None
    try:
        inc = await load_for(ctx.services, ctx.services.db.read, member, parsed[1], action)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return None
    if not inc.open:
        await answer_query(update, ctx.t("incident.stages.already_closed", number=inc.number), alert=True)
        return None
    await answer_query(update)
    return member, inc


async def _draft(update: Update, ctx: DeskContext) -> dict[str, Any]:
    assert update.effective_user is not None
    return await load_draft(ctx, update.effective_user.id, KIND)


async def _save(update: Update, ctx: DeskContext, draft: dict[str, Any]) -> None:
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, KIND, draft)


async def _finish(update: Update, ctx: DeskContext) -> int:
    assert update.effective_user is not None
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


# --- full report: cause, background, development, handling, consequences -------------


async def _ask_full(update: Update, ctx: DeskContext, index: int) -> S:
    await say(update, ctx, ctx.t(f"incident.stages.ask_{FULL_FIELDS[index]}"),
              cb.keyboard([[(ctx.t("incident.btn.unknown"), "if:unk")]]))
    return S.FULL


async def start_full(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 📄 续报: five questions, one per element; 暂不清楚 leaves it open."""
    opened = await _open(update, ctx, Action.FILE_STAGE)
    if opened is None:
        return ConversationHandler.END
    _member, inc = opened
    await _save(update, ctx, {"incident_id": inc.id, "index": 0, "answers": {}})
    await say(update, ctx, ctx.t("incident.stages.full_intro", number=inc.number))
    return await _ask_full(update, ctx, 0)


async def full_answer(update: Update, ctx: DeskContext) -> S | int:
    """Reads one element (or 暂不清楚) and asks the next; files after the fifth."""
    draft = await _draft(update, ctx)
    if not draft or "index" not in draft:
        await say(update, ctx, ctx.t("incident.draft_lost"))
        return ConversationHandler.END
    index = int(draft["index"])
    if update.callback_query is not None:
        await answer_query(update)
    # index past the last element: its answer was saved, the filing cut short (restart, locked
    # database); the answer sent again files what is saved — file_full refuses a second filing.
    if index < len(FULL_FIELDS):
        value = None
        if update.callback_query is None:
            value = await read_text(update, ctx, limit=MAX_DESCRIPTION)
            if value is None:
                return S.FULL
        draft["answers"][FULL_FIELDS[index]] = value
        draft["index"] = index + 1
        await _save(update, ctx, draft)
        if index + 1 < len(FULL_FIELDS):
            return await _ask_full(update, ctx, index + 1)
    member = await guard(update, ctx, Action.FILE_STAGE)
    if member is None:
        return await _finish(update, ctx)
    try:
        late, open_fields = await file_full(ctx.services, member, draft["incident_id"], draft["answers"],
                                            at=await acted_at(update, ctx))
    except ServiceError as err:
        await refuse(update, ctx, err)
        return await _finish(update, ctx)
    inc = await incidents.get(ctx.services.db.read, draft["incident_id"])
    assert inc is not None
    extra = ctx.t("incident.stages.full_open", fields=ctx.t("core.list_sep").join(open_fields)) if open_fields else ""
    await say(update, ctx, ctx.t("incident.stages.full_done", number=inc.number, late=late, open=extra),
              txt.unit_keyboard(ctx.services, inc))
    return await _finish(update, ctx)


# --- follow-up (续报) ------------------------------------------------------------------


async def start_followup(update: Update, ctx: DeskContext) -> S | int:
    """Entry from ➕ 续报进展."""
    opened = await _open(update, ctx, Action.FILE_STAGE)
    if opened is None:
        return ConversationHandler.END
    _member, inc = opened
    await _save(update, ctx, {"incident_id": inc.id})
    await say(update, ctx, ctx.t("incident.stages.ask_followup", number=inc.number))
    return S.U_TEXT


async def ask_followup_casualties(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("incident.stages.ask_followup_casualties"),
              cb.keyboard([[(ctx.t("incident.btn.no_change"), "iu:same")]]))
    return S.U_CASUALTIES


async def followup_text(update: Update, ctx: DeskContext) -> S:
    """Reads the new development."""
    text = await read_text(update, ctx, limit=MAX_DESCRIPTION)
    if text is None:
        return S.U_TEXT
    draft = await _draft(update, ctx)
    draft["text"] = text
    await _save(update, ctx, draft)
    return await ask_followup_casualties(update, ctx)


async def followup_casualties(update: Update, ctx: DeskContext) -> S | int:
    """Reads changed casualty figures (or 无变化) and files the follow-up."""
    c = None
    if update.callback_query is not None:
        await answer_query(update)
    else:
        text = await read_text(update, ctx, limit=100)
        if text is None:
            return S.U_CASUALTIES
        try:
            c = parse_casualties(text)
        except CasualtyInputError:
            await say(update, ctx, ctx.t("incident.casualties_bad"))
            return S.U_CASUALTIES
    member = await guard(update, ctx, Action.FILE_STAGE)
    draft = await _draft(update, ctx)
    if member is None or "text" not in draft:
        return await _finish(update, ctx)
    try:
        inc = await file_followup(ctx.services, member, draft["incident_id"], draft["text"], c)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return await _finish(update, ctx)
    await say(update, ctx, ctx.t("incident.stages.followup_done", number=inc.number))
    return await _finish(update, ctx)


# --- closing (终报/结案) ----------------------------------------------------------------


async def start_close(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 🏁 结案: unit head or director only."""
    opened = await _open(update, ctx, Action.CLOSE_INCIDENT)
    if opened is None:
        return ConversationHandler.END
    _member, inc = opened
    await _save(update, ctx, {"incident_id": inc.id})
    await say(update, ctx, ctx.t("incident.stages.ask_outcome", number=inc.number))
    return S.C_OUTCOME


async def close_outcome(update: Update, ctx: DeskContext) -> int | S:
    """Reads the outcome and closes; stages never filed are recorded as 漏报."""
    text = await read_text(update, ctx, limit=MAX_DESCRIPTION)
    if text is None:
        return S.C_OUTCOME
    member = await guard(update, ctx, Action.CLOSE_INCIDENT)
    draft = await _draft(update, ctx)
    if member is None or "incident_id" not in draft:
        return await _finish(update, ctx)
    try:
        missed = await close_incident(ctx.services, member, draft["incident_id"], text)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return await _finish(update, ctx)
    inc = await incidents.get(ctx.services.db.read, draft["incident_id"])
    assert inc is not None
    await say(update, ctx, ctx.t("incident.stages.closed", number=inc.number, missed=missed_line(ctx.services, missed)))
    return await _finish(update, ctx)


stray = stray_handler("incident.answer_above")  # anything else inside a stage dialogue: say what is expected; stay


TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(start_full, pattern=rf"^i:{cb.FULL}:\d+$"),
        CallbackQueryHandler(start_followup, pattern=rf"^i:{cb.FOLLOWUP}:\d+$"),
        CallbackQueryHandler(start_close, pattern=rf"^i:{cb.CLOSE}:\d+$"),
    ]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = [CallbackQueryHandler(stray, pattern=r"^(iw|if|iu):"), MessageHandler(~filters.COMMAND, stray)]
    return {
        S.FULL: [CallbackQueryHandler(full_answer, pattern=r"^if:unk$"), MessageHandler(TEXT, full_answer), *other],
        S.U_TEXT: [MessageHandler(TEXT, followup_text), *other],
        S.U_CASUALTIES: [CallbackQueryHandler(followup_casualties, pattern=r"^iu:same$"),
                         MessageHandler(TEXT, followup_casualties), *other],
        S.C_OUTCOME: [MessageHandler(TEXT, close_outcome), *other],
    }


# --- what the dialogue map needs to keep these answers (handlers/dialogs.py) -------------------


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again; the draft keeps every answer."""
    draft = await _draft(update, ctx)
    inc = await incidents.get(ctx.services.db.read, draft["incident_id"]) if "incident_id" in draft else None
    if inc is None:
        await say(update, ctx, ctx.t("incident.draft_lost"))
        return await _finish(update, ctx)
    if not inc.open:  # closed meanwhile: nothing left to file
        await say(update, ctx, ctx.t("incident.stages.already_closed", number=inc.number))
        return await _finish(update, ctx)
    if state == S.FULL:
        return await _ask_full(update, ctx, min(int(draft.get("index", 0)), len(FULL_FIELDS) - 1))
    if state == S.U_CASUALTIES:
        return await ask_followup_casualties(update, ctx)
    key = "incident.stages.ask_followup" if state == S.U_TEXT else "incident.stages.ask_outcome"
    await say(update, ctx, ctx.t(key, number=inc.number))
    return S(state)


def _elements(rows: DraftRows) -> int:
    return len(rows.get(KIND, {}).get("answers") or {})


def _development(rows: DraftRows) -> int:
    return int("text" in rows.get(KIND, {}))


def _nothing(rows: DraftRows) -> int:
    return 0  # closing: the outcome is its only answer, and typing it closes the incident


def dialogs() -> list[DialogKind]:
    # Full and follow-up reports are emergency answers with deadlines: never set aside (the written
    # report's review lives in handlers/fact_review.py).
    return [
        DialogKind("full", frozenset({S.FULL}), (KIND,), (start_full,), _elements, resume, urgent=True),
        DialogKind("followup", frozenset({S.U_TEXT, S.U_CASUALTIES}), (KIND,), (start_followup,), _development,
                   resume, urgent=True),
        DialogKind("close", frozenset({S.C_OUTCOME}), (KIND,), (start_close,), _nothing, resume),
    ]
