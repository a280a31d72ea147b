"""A director's findings from /incident N: ⚠️ 误报 (reason, then the corrected facts in the
review of handlers/fact_review.py), 🚫 瞒报 (reason), 📝 a note on any finding (约谈, 通报批评)."""

from __future__ import annotations

from enum import IntEnum

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.app import DeskContext
from bot.domain.accountability import MarkKind
from bot.domain.members import Action
from bot.services import incident_findings as findings
from bot.services.errors import ServiceError
from handlers import fact_review
from handlers.common import answer_query, drop_drafts, guard, load_draft, read_text, refuse, save_draft, say
from handlers.stages import KIND as REVIEW_KIND
from storage import incident_marks

KIND = "mark"


class S(IntEnum):
    REASON = 260
    NOTE = 261


def _target(update: Update, prefix: str, actions: tuple[str, ...]) -> int | None:
    q = update.callback_query
    parsed = cb.parse_id(q.data if q else None, prefix, actions)
    return parsed[1] if parsed else None


async def _start_mark(update: Update, ctx: DeskContext, kind: MarkKind) -> S | int:
    member = await guard(update, ctx, Action.MARK_INCIDENT)
    ident = _target(update, cb.INCIDENT, (cb.WRONG, cb.CONCEAL))
    if member is None or ident is None:
        if ident is None and member is not None:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return ConversationHandler.END
    try:
        inc = await findings.check_can_mark(ctx.services, member, ident, kind)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return ConversationHandler.END
    await answer_query(update)
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, KIND, {"incident_id": inc.id, "kind": kind.value})
    await say(update, ctx, ctx.t(f"incident.marks.ask_reason_{kind.value}", number=inc.number,
                                 limit=findings.MAX_REASON))
    return S.REASON


async def start_wrong(update: Update, ctx: DeskContext) -> S | int:
    """Entry from ⚠️ 误报: the reason first, then the corrected facts."""
    return await _start_mark(update, ctx, MarkKind.WRONG)


async def start_concealed(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 🚫 瞒报: the reason, then it is on record."""
    return await _start_mark(update, ctx, MarkKind.CONCEALED)


async def got_reason(update: Update, ctx: DeskContext) -> S | int:
    """Reads the reason. 瞒报 is then recorded; 误报 goes on to the corrected facts."""
    text = await read_text(update, ctx, limit=findings.MAX_REASON)
    if text is None:
        return S.REASON
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, KIND)
    member = await guard(update, ctx, Action.MARK_INCIDENT)
    if member is None or "incident_id" not in draft:
        return ConversationHandler.END
    if draft.get("kind") == MarkKind.WRONG:
        await save_draft(ctx, update.effective_user.id, REVIEW_KIND, {
            "incident_id": draft["incident_id"], "purpose": fact_review.WRONG, "reason": text, "corrections": {}})
        return await fact_review.show_written(update, ctx)
    try:
        done = await findings.mark_concealed(ctx.services, member, draft["incident_id"], text)
    except ServiceError as err:
        await refuse(update, ctx, err)
    else:
        await say(update, ctx, done)
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


async def start_note(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 📝 问责备注: which finding the note is for."""
    member = await guard(update, ctx, Action.MARK_INCIDENT)
    ident = _target(update, cb.INCIDENT, (cb.NOTE,))
    if member is None or ident is None:
        if ident is None and member is not None:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return ConversationHandler.END
    s = ctx.services
    marks = await incident_marks.of(s.db.read, ident)
    if not marks:
        await answer_query(update, ctx.t("incident.marks.none"), alert=True)
        return ConversationHandler.END
    try:
        await findings.check_can_note(s, member, marks[0].id)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return ConversationHandler.END
    await answer_query(update)
    rows = [[(findings.mark_label(s, m), f"{cb.MARK}:{cb.MARK_NOTE}:{m.id}")] for m in marks]
    await say(update, ctx, ctx.t("incident.marks.pick"), cb.keyboard(rows))
    return ConversationHandler.END


async def pick_mark(update: Update, ctx: DeskContext) -> S | int:
    """Entry from one finding's button (mk:note:<id>): ask for the note."""
    member = await guard(update, ctx, Action.MARK_INCIDENT)
    ident = _target(update, cb.MARK, (cb.MARK_NOTE,))
    if member is None or ident is None:
        if ident is None and member is not None:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return ConversationHandler.END
    try:
        inc, mark = await findings.check_can_note(ctx.services, member, ident)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return ConversationHandler.END
    await answer_query(update)
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, KIND, {"mark_id": mark.id})
    await say(update, ctx, ctx.t("incident.marks.ask_note", number=inc.number,
                                 mark=findings.mark_label(ctx.services, mark), limit=findings.MAX_REASON))
    return S.NOTE


async def got_note(update: Update, ctx: DeskContext) -> S | int:
    """Reads the note (约谈, 通报批评 …) and keeps it with the finding."""
    text = await read_text(update, ctx, limit=findings.MAX_REASON)
    if text is None:
        return S.NOTE
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, KIND)
    member = await guard(update, ctx, Action.MARK_INCIDENT)
    if member is None or "mark_id" not in draft:
        return ConversationHandler.END
    try:
        done = await findings.add_note(ctx.services, member, draft["mark_id"], text)
    except ServiceError as err:
        await refuse(update, ctx, err)
    else:
        await say(update, ctx, done)
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


async def stray(update: Update, ctx: DeskContext) -> None:
    """Media, or a button from elsewhere, while a reason or note is expected."""
    if update.callback_query is not None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
    else:
        await say(update, ctx, ctx.t("core.text_expected", hint=""))


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(start_wrong, pattern=rf"^i:{cb.WRONG}:\d+$"),
        CallbackQueryHandler(start_concealed, pattern=rf"^i:{cb.CONCEAL}:\d+$"),
        CallbackQueryHandler(start_note, pattern=rf"^i:{cb.NOTE}:\d+$"),
        CallbackQueryHandler(pick_mark, pattern=cb.pattern(cb.MARK, (cb.MARK_NOTE,))),
    ]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return {
        S.REASON: [MessageHandler(text, got_reason), MessageHandler(~filters.COMMAND, stray)],
        S.NOTE: [MessageHandler(text, got_note), MessageHandler(~filters.COMMAND, stray)],
    }
