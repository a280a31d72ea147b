"""/log: the officers on shift write a duty log entry from their phone; `/log done N` closes
its pending item. The handover buttons and notes are in handlers/handover.py.

kind (button) → time (现在, or typed) → from whom → what → what was done (or 暂未处理)
→ what is pending (or 无待办) → photos (完成) → saved. Every answer is committed to the drafts
table; the dialogue state is persisted.
"""

from __future__ import annotations

from enum import IntEnum

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain import parse
from bot.domain.duty_log import MAX_PHOTOS, EntryKind, LogDraft
from bot.domain.members import Action
from bot.services import duty_log as svc
from bot.services.errors import ServiceError
from handlers.common import (
    ButtonStep,
    DialogKind,
    DraftRows,
    DraftSlot,
    acted_at,
    answer_query,
    button_or_text,
    buttons_only,
    callback_data,
    count_set,
    done_before,
    drop_drafts,
    guard,
    guard_private,
    say,
    sent_time,
    stray_handler,
    text_into_draft,
)

KIND = svc.DRAFT_KIND
PREFIX = cb.DUTY_LOG  # dl:k:<kind>, dl:now, dl:skip, dl:ok — inside the dialogue only
MAX_SOURCE, MAX_TEXT = 100, 1000


class S(IntEnum):
    KIND = 1200
    TIME = 1201
    SOURCE = 1202
    CONTENT = 1203
    ACTION = 1204
    PENDING = 1205
    PHOTOS = 1206


_slot = DraftSlot(KIND, LogDraft.from_dict)
_draft, _save = _slot.load, _slot.save


def _one(ctx: DeskContext, key: str, data: str) -> dict[str, object]:
    return cb.keyboard([[(ctx.t(key), data)]])


def _done(ctx: DeskContext) -> dict[str, object]:
    return _one(ctx, "duty.btn.photos_done", f"{PREFIX}:ok")


async def start_log(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /log (or `/log done N`, which closes a pending item at once)."""
    member = await guard_private(update, ctx, Action.KEEP_DUTY_LOG)
    if member is None:
        return ConversationHandler.END
    args = ctx.args or []
    if args:
        number = parse.record_id(args[1]) if len(args) == 2 and args[0].lower() in ("done", "办结") else None
        if number is None:
            await say(update, ctx, ctx.t("duty.done_usage"))
            return ConversationHandler.END
        try:
            await say(update, ctx, await svc.mark_done(ctx.services, member, number))
        except ServiceError as err:
            await say(update, ctx, ctx.t(err.key, **err.kw))
        return ConversationHandler.END
    await _save(update, ctx, LogDraft())
    return await ask_kind(update, ctx)


async def kind_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    kinds = [(ctx.t(f"duty.kind.{k.value}"), f"{PREFIX}:k:{k.value}") for k in EntryKind]
    return ButtonStep([kinds[:3], kinds[3:]])


async def ask_kind(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("duty.ask_kind"), cb.keyboard((await kind_buttons(update, ctx)).rows))
    return S.KIND


async def ask_time(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("duty.ask_time"), _one(ctx, "duty.btn.now", f"{PREFIX}:now"))
    return S.TIME


async def got_kind(update: Update, ctx: DeskContext) -> S:
    """Reads the kind (来电, 来报, 来文, 来访, 其他); asks when."""
    value = callback_data(update).removeprefix(f"{PREFIX}:k:")
    await answer_query(update)
    draft = await _draft(update, ctx)
    draft.kind = EntryKind(value).value
    await _save(update, ctx, draft)
    return await ask_time(update, ctx)


async def got_time(update: Update, ctx: DeskContext) -> S:
    """Reads 现在 or a typed time (not in the future, not older than two days), both as of when
    the person answered: 现在 pressed while the bot was down is the moment it was pressed."""
    s = ctx.services
    got = await button_or_text(update, ctx, limit=40)
    if got is None:
        return S.TIME
    if got.pressed:
        when = await acted_at(update, ctx)
    else:
        try:
            when = svc.entry_time(s, got.text, at=sent_time(ctx))
        except ServiceError as err:
            await say(update, ctx, ctx.t(err.key, **err.kw))
            return S.TIME
    draft = await _draft(update, ctx)
    draft.at = when.isoformat()
    await _save(update, ctx, draft)
    await say(update, ctx, ctx.t("duty.ask_source"))
    return S.SOURCE


async def got_source(update: Update, ctx: DeskContext) -> S:
    """Reads from whom."""
    if await text_into_draft(update, ctx, _slot, "source", limit=MAX_SOURCE) is None:
        return S.SOURCE
    await say(update, ctx, ctx.t("duty.ask_content"))
    return S.CONTENT


async def got_content(update: Update, ctx: DeskContext) -> S:
    """Reads what came in."""
    if await text_into_draft(update, ctx, _slot, "content", limit=MAX_TEXT) is None:
        return S.CONTENT
    await say(update, ctx, ctx.t("duty.ask_action"), _one(ctx, "duty.btn.no_action", f"{PREFIX}:skip"))
    return S.ACTION


async def got_action(update: Update, ctx: DeskContext) -> S:
    """Reads what was done (or 暂未处理)."""
    if update.callback_query is not None:
        await answer_query(update)
    elif await text_into_draft(update, ctx, _slot, "action", limit=MAX_TEXT) is None:
        return S.ACTION
    await say(update, ctx, ctx.t("duty.ask_pending"), _one(ctx, "duty.btn.no_pending", f"{PREFIX}:skip"))
    return S.PENDING


async def got_pending(update: Update, ctx: DeskContext) -> S:
    """Reads what is pending (or 无待办); asks for photos."""
    if update.callback_query is not None:
        await answer_query(update)
    elif await text_into_draft(update, ctx, _slot, "pending", limit=MAX_TEXT) is None:
        return S.PENDING
    await say(update, ctx, ctx.t("duty.ask_photos", limit=MAX_PHOTOS), _done(ctx))
    return S.PHOTOS


async def photos_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("duty.btn.photos_done"), f"{PREFIX}:ok")]], ctx.t("duty.photo_expected"))


async def got_photo(update: Update, ctx: DeskContext) -> S:
    """Collects a photo (anything else gets the step's hint: photos_buttons)."""
    msg = update.effective_message
    assert msg is not None and msg.photo
    draft = await _draft(update, ctx)
    if len(draft.photos) >= MAX_PHOTOS:
        await say(update, ctx, ctx.t("duty.photo_limit", limit=MAX_PHOTOS), _done(ctx))
        return S.PHOTOS
    draft.photos.append(msg.photo[-1].file_id)
    await _save(update, ctx, draft)
    await say(update, ctx, ctx.t("duty.photo_added", count=len(draft.photos)), _done(ctx))
    return S.PHOTOS


async def save_entry(update: Update, ctx: DeskContext) -> S | int:
    """完成: the entry is stored with its photos, in one transaction."""
    await answer_query(update)
    if (done := await done_before(update, ctx, KIND)) is not None:  # committed, then a crash: not twice
        assert update.effective_user is not None
        await drop_drafts(ctx, update.effective_user.id)
        await say(update, ctx, ctx.t("duty.already_saved", id=done))
        return ConversationHandler.END
    member = await guard(update, ctx, Action.KEEP_DUTY_LOG)
    assert update.effective_user is not None
    if member is None:
        return ConversationHandler.END
    s = ctx.services
    try:
        e = await svc.add_entry(s, member, await _draft(update, ctx))
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
        await drop_drafts(ctx, update.effective_user.id)
        return ConversationHandler.END
    await drop_drafts(ctx, update.effective_user.id)
    await say(update, ctx, ctx.t("duty.saved", id=e.id, time=s.fmt.dt(e.at), kind=ctx.t(f"duty.kind.{e.kind}"),
                                 pending=ctx.t("duty.saved_pending", id=e.id) if e.pending else ""))
    return ConversationHandler.END


stray = stray_handler("duty.answer_above")
TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [CommandHandler("log", start_log)]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = [CallbackQueryHandler(stray, pattern=rf"^{PREFIX}:"), MessageHandler(~filters.COMMAND, stray)]
    kinds = "|".join(k.value for k in EntryKind)
    return {
        S.KIND: [CallbackQueryHandler(got_kind, pattern=rf"^{PREFIX}:k:({kinds})$"), other[0],
                 MessageHandler(~filters.COMMAND, buttons_only(kind_buttons))],
        S.TIME: [CallbackQueryHandler(got_time, pattern=rf"^{PREFIX}:now$"), MessageHandler(TEXT, got_time), *other],
        S.SOURCE: [MessageHandler(TEXT, got_source), *other],
        S.CONTENT: [MessageHandler(TEXT, got_content), *other],
        S.ACTION: [CallbackQueryHandler(got_action, pattern=rf"^{PREFIX}:skip$"), MessageHandler(TEXT, got_action),
                   *other],
        S.PENDING: [CallbackQueryHandler(got_pending, pattern=rf"^{PREFIX}:skip$"), MessageHandler(TEXT, got_pending),
                    *other],
        S.PHOTOS: [CallbackQueryHandler(save_entry, pattern=rf"^{PREFIX}:ok$"),
                   MessageHandler(filters.PHOTO, got_photo), other[0],
                   MessageHandler(~filters.COMMAND, buttons_only(photos_buttons))],
    }


# --- what the dialogue map needs to keep a half-written entry (handlers/dialogs.py) ----------


def _answers(rows: DraftRows) -> int:
    return count_set(rows.get(KIND, {}), "kind", "at", "source", "content", "action", "pending", "photos")


_QUESTION = {S.SOURCE: "duty.ask_source", S.CONTENT: "duty.ask_content"}


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again, every answer kept."""
    if state == S.TIME:
        return await ask_time(update, ctx)
    if state in _QUESTION:
        await say(update, ctx, ctx.t(_QUESTION[S(state)]))
        return state
    if state == S.ACTION:
        await say(update, ctx, ctx.t("duty.ask_action"), _one(ctx, "duty.btn.no_action", f"{PREFIX}:skip"))
        return state
    if state == S.PENDING:
        await say(update, ctx, ctx.t("duty.ask_pending"), _one(ctx, "duty.btn.no_pending", f"{PREFIX}:skip"))
        return state
    if state == S.PHOTOS:
        await say(update, ctx, ctx.t("duty.ask_photos", limit=MAX_PHOTOS), _done(ctx))
        return state
    return await ask_kind(update, ctx)


def dialogs() -> list[DialogKind]:
    return [DialogKind("duty_log", frozenset(S), (KIND,), (start_log,), _answers, resume)]
