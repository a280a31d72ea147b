"""交接班 buttons: 交班说明 (one question: the notes), 交班 and 接班 on the handover cards.
Data is never trusted: the service re-checks, in the writing transaction, that the person is an
outgoing (交班) or incoming (接班) officer of that very shift change."""

from __future__ import annotations

from enum import IntEnum

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.members import Action, Member
from bot.services import handover as svc
from bot.services.errors import ServiceError
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
    save_draft,
    say,
    stray_handler,
    use_button,
)

NOTE_DRAFT = "handover_note"
MAX_NOTE = 1000


class S(IntEnum):
    NOTE = 1210


async def on_button(update: Update, ctx: DeskContext) -> None:
    """交班 / 接班."""
    async def use(member: Member, action: str, handover_id: int) -> str:
        do = svc.hand_over if action == svc.HAND else svc.take_over
        return await do(ctx.services, member, handover_id, at=await acted_at(update, ctx))  # as pressed, however late

    text = await use_button(update, ctx, svc.PREFIX, (svc.HAND, svc.TAKE), use, action=Action.KEEP_DUTY_LOG)
    if text is ANSWERED:
        return
    await answer_query(update)
    await say(update, ctx, text)


async def start_note(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 交班说明: an outgoing officer of a handover not yet handed over; asks the notes."""
    h = await use_button(update, ctx, svc.PREFIX, (svc.NOTE,),
                         lambda member, _note, ident: svc.check_can_note(ctx.services, member, ident),
                         action=Action.KEEP_DUTY_LOG)
    if h is ANSWERED:
        return ConversationHandler.END
    await answer_query(update)
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, NOTE_DRAFT, {"handover_id": h.id})
    await say(update, ctx, ctx.t("duty.ask_note"))
    return S.NOTE


async def got_note(update: Update, ctx: DeskContext) -> S | int:
    """Reads the notes; offers 交班 again."""
    text = await read_text(update, ctx, limit=MAX_NOTE)
    if text is None:
        return S.NOTE
    member = await guard(update, ctx, Action.KEEP_DUTY_LOG)
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, NOTE_DRAFT)
    await drop_drafts(ctx, update.effective_user.id)
    if member is None or not isinstance(draft.get("handover_id"), int):
        return ConversationHandler.END
    try:
        h = await svc.add_note(ctx.services, member, draft["handover_id"], text)
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
        return ConversationHandler.END
    await say(update, ctx, ctx.t("duty.note_saved"),
              cb.keyboard([[(ctx.t("duty.btn.hand"), f"{svc.PREFIX}:{svc.HAND}:{h.id}")]]))
    return ConversationHandler.END


stray = stray_handler("duty.answer_above")


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [CallbackQueryHandler(start_note, pattern=cb.pattern(svc.PREFIX, (svc.NOTE,)))]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    return {S.NOTE: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_note),
                     CallbackQueryHandler(stray, pattern=r"^ho:note:"), MessageHandler(~filters.COMMAND, stray)]}


# --- what the dialogue map needs (handlers/dialogs.py) -------------------------------------------


def _nothing(rows: DraftRows) -> int:
    return 0  # the notes are the only answer, and typing them saves them


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    await say(update, ctx, ctx.t("duty.ask_note"))
    return S.NOTE


def dialogs() -> list[DialogKind]:
    return [DialogKind("handover_note", frozenset(S), (NOTE_DRAFT,), (start_note,), _nothing, resume)]


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_button, pattern=cb.pattern(svc.PREFIX, (svc.HAND, svc.TAKE))))
