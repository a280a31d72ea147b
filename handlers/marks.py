"""A director's findings from /incident N: ⚠️ 误报 (reason, then the corrected facts in the
review of handlers/fact_review.py), 🚫 瞒报 (reason), 📝 a note on any finding (约谈, 通报批评)."""

from __future__ import annotations

from enum import IntEnum

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.accountability import Mark, MarkKind
from bot.domain.members import Action
from bot.services import incident_findings as findings
from bot.services.errors import ServiceError
from handlers import fact_review
from handlers.common import (
    ANSWERED,
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
    use_button,
)
from handlers.stages import KIND as REVIEW_KIND
from handlers.stages import StageDraft
from storage import incident_marks, incidents

KIND = "mark"


class S(IntEnum):
    REASON = 260  # 瞒报's reason
    NOTE = 261
    WRONG_REASON = 262  # 误报's reason; its corrected facts are fact_review's steps (270s)


def _target(update: Update, prefix: str, actions: tuple[str, ...]) -> int | None:
    q = update.callback_query
    parsed = cb.parse_id(q.data if q else None, prefix, actions)
    return parsed[1] if parsed else None


async def _start_mark(update: Update, ctx: DeskContext, kind: MarkKind) -> S | int:
    inc = await use_button(update, ctx, cb.INCIDENT, (cb.WRONG, cb.CONCEAL),
                           lambda member, _kind, ident: findings.check_can_mark(ctx.services, member, ident, kind),
                           action=Action.MARK_INCIDENT)
    if inc is ANSWERED:
        return ConversationHandler.END
    await answer_query(update)
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, KIND, {"incident_id": inc.id, "kind": kind.value})
    return await ask_reason(update, ctx, kind, inc.number)


async def ask_reason(update: Update, ctx: DeskContext, kind: MarkKind, number: str) -> S:
    await say(update, ctx, ctx.t(f"incident.marks.ask_reason_{kind.value}", number=number, limit=findings.MAX_REASON))
    return S.WRONG_REASON if kind is MarkKind.WRONG else S.REASON


async def start_wrong(update: Update, ctx: DeskContext) -> S | int:
    """Entry from ⚠️ 误报: the reason first, then the corrected facts."""
    return await _start_mark(update, ctx, MarkKind.WRONG)


async def start_concealed(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 🚫 瞒报: the reason, then it is on record."""
    return await _start_mark(update, ctx, MarkKind.CONCEALED)


async def got_reason(update: Update, ctx: DeskContext) -> S | int:
    """Reads the reason. 瞒报 is then recorded; 误报 goes on to the corrected facts."""
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, KIND)
    wrong = draft.get("kind") == MarkKind.WRONG
    text = await read_text(update, ctx, limit=findings.MAX_REASON)
    if text is None:
        return S.WRONG_REASON if wrong else S.REASON
    member = await guard(update, ctx, Action.MARK_INCIDENT)
    if member is None or "incident_id" not in draft:
        return ConversationHandler.END
    if wrong:
        review = StageDraft(draft["incident_id"], purpose=fact_review.WRONG, reason=text, corrections={})
        await save_draft(ctx, update.effective_user.id, REVIEW_KIND, review.to_dict())
        return await fact_review.show_written(update, ctx)
    try:
        done = await findings.mark_concealed(ctx.services, member, draft["incident_id"], text,
                                             at=await acted_at(update, ctx))
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
    checked = await use_button(update, ctx, cb.MARK, (cb.MARK_NOTE,),
                               lambda member, _note, ident: findings.check_can_note(ctx.services, member, ident),
                               action=Action.MARK_INCIDENT)
    if checked is ANSWERED:
        return ConversationHandler.END
    inc, mark = checked
    await answer_query(update)
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, KIND, {"mark_id": mark.id})
    return await ask_note(update, ctx, inc.number, mark)


async def ask_note(update: Update, ctx: DeskContext, number: str, mark: Mark) -> S:
    await say(update, ctx, ctx.t("incident.marks.ask_note", number=number,
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
        done = await findings.add_note(ctx.services, member, draft["mark_id"], text, at=await acted_at(update, ctx))
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
        CallbackQueryHandler(start_wrong, pattern=cb.pattern(cb.INCIDENT, (cb.WRONG,))),
        CallbackQueryHandler(start_concealed, pattern=cb.pattern(cb.INCIDENT, (cb.CONCEAL,))),
        CallbackQueryHandler(start_note, pattern=cb.pattern(cb.INCIDENT, (cb.NOTE,))),
        CallbackQueryHandler(pick_mark, pattern=cb.pattern(cb.MARK, (cb.MARK_NOTE,))),
    ]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return {
        S.REASON: [MessageHandler(text, got_reason), MessageHandler(~filters.COMMAND, stray)],
        S.WRONG_REASON: [MessageHandler(text, got_reason), MessageHandler(~filters.COMMAND, stray)],
        S.NOTE: [MessageHandler(text, got_note), MessageHandler(~filters.COMMAND, stray)],
        **fact_review.review_states(fact_review.WRONG),
    }


# --- what the dialogue map needs to keep these answers (handlers/dialogs.py) -------------------


def _wrong_answers(rows: DraftRows) -> int:
    """The reason (kept with the review's draft once given) and each fact corrected."""
    review = StageDraft.from_dict(rows.get(REVIEW_KIND, {}))
    return int(bool(review.reason)) + len(review.corrections or {})


def _nothing(rows: DraftRows) -> int:
    return 0  # a 瞒报 reason or a note is the only answer, and typing it records it


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again: the reason, the note, or the 误报's review."""
    assert update.effective_user is not None
    s = ctx.services
    if state not in (S.REASON, S.WRONG_REASON, S.NOTE):
        return await fact_review.resume(update, ctx, state)
    draft = await load_draft(ctx, update.effective_user.id, KIND)
    if state == S.NOTE:
        mark = await incident_marks.get(s.db.read, draft["mark_id"]) if "mark_id" in draft else None
        inc = await incidents.get(s.db.read, mark.incident_id) if mark is not None else None
        if mark is not None and inc is not None:
            return await ask_note(update, ctx, inc.number, mark)
    else:
        inc = await incidents.get(s.db.read, draft["incident_id"]) if "incident_id" in draft else None
        if inc is not None:
            wrong = draft.get("kind") == MarkKind.WRONG
            return await ask_reason(update, ctx, MarkKind.WRONG if wrong else MarkKind.CONCEALED, inc.number)
    await say(update, ctx, ctx.t("incident.draft_lost"))
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


def dialogs() -> list[DialogKind]:
    # Findings are the office's own work, not emergency answers: set aside when another dialogue starts.
    wrong = fact_review.states_of(fact_review.WRONG) | {S.WRONG_REASON}
    return [
        DialogKind("wrong", frozenset(wrong), (KIND, REVIEW_KIND), (start_wrong,), _wrong_answers, resume),
        DialogKind("concealed", frozenset({S.REASON}), (KIND,), (start_concealed,), _nothing, resume),
        DialogKind("mark_note", frozenset({S.NOTE}), (KIND,), (start_note, pick_mark), _nothing, resume),
    ]
