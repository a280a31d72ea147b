"""/doc: register an incoming document (收文登记); /doc N shows one; /docs lists the open ones.
The routing (拟办, 批办, 电话请示, 补签, 办结, 补充附件) is in handlers/document_work.py.

title → issuing body → 文号 (or 无文号) → 密级 (button) → urgency (button) → received (刚收到, or
typed) → summary (非密/秘密 only) → files (非密 only) → summary with 登记 / 取消. A file sent for a
document classified 机密 or above is refused with the reason at every step; nothing half is kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.documents import Classification, DocDraft, Urgency
from bot.domain.duty_log import EntryTimeError, parse_entry_time
from bot.domain.incidents import parse_incident_number
from bot.domain.members import Action
from bot.fmt import esc
from bot.services import document_views as views
from bot.services import documents as svc
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
PREFIX = cb.DOCUMENT_DRAFT  # dr:l:<level>, dr:u:<urgency>, dr:now, dr:skip, dr:ok, dr:x — inside the dialogue only
MAX_TITLE, MAX_TEXT = 200, 1000
MAX_BACKDATE = timedelta(days=7)


class S(IntEnum):
    TITLE = 1300
    ISSUER = 1301
    DOC_NO = 1302
    LEVEL = 1303
    URGENCY = 1304
    RECEIVED = 1305
    SUMMARY = 1306
    FILES = 1307
    CONFIRM = 1308


_slot = DraftSlot(KIND, DocDraft.from_dict)
_draft, _save = _slot.load, _slot.save


def _one(ctx: DeskContext, key: str, data: str) -> dict[str, object]:
    return cb.keyboard([[(ctx.t(key), f"{PREFIX}:{data}")]])


async def start_doc(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /doc (register) or /doc N (show one)."""
    if ctx.args:
        await show_doc(update, ctx)
        return ConversationHandler.END
    member = await guard_private(update, ctx, Action.REGISTER_DOCUMENT)
    if member is None:
        return ConversationHandler.END
    await _save(update, ctx, DocDraft())
    await say(update, ctx, ctx.t("doc.ask_title", limit=MAX_TITLE))
    return S.TITLE


async def got_title(update: Update, ctx: DeskContext) -> S:
    """Reads the title; asks the issuing body."""
    if await text_into_draft(update, ctx, _slot, "title", limit=MAX_TITLE) is None:
        return S.TITLE
    await say(update, ctx, ctx.t("doc.ask_issuer"))
    return S.ISSUER


async def got_issuer(update: Update, ctx: DeskContext) -> S:
    """Reads the issuing body; asks the 文号."""
    if await text_into_draft(update, ctx, _slot, "issuer", limit=MAX_TITLE) is None:
        return S.ISSUER
    return await ask_doc_no(update, ctx)


async def ask_doc_no(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("doc.ask_doc_no"), _one(ctx, "doc.btn.no_doc_no", "skip"))
    return S.DOC_NO


async def got_doc_no(update: Update, ctx: DeskContext) -> S:
    """Reads the 文号 (or 无文号); asks the 密级."""
    if update.callback_query is not None:
        await answer_query(update)
    elif await text_into_draft(update, ctx, _slot, "doc_no", limit=60) is None:
        return S.DOC_NO
    return await ask_level(update, ctx)


async def level_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    levels = [(ctx.t(f"doc.level.{c.value}"), f"{PREFIX}:l:{c.value}") for c in Classification]
    return ButtonStep([levels[:2], levels[2:]])


async def ask_level(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("doc.ask_level"), cb.keyboard((await level_buttons(update, ctx)).rows))
    return S.LEVEL


async def urgency_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t(f"doc.urgency.{u.value}"), f"{PREFIX}:u:{u.value}") for u in Urgency]])


async def ask_urgency(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("doc.ask_urgency"), cb.keyboard((await urgency_buttons(update, ctx)).rows))
    return S.URGENCY


async def got_level(update: Update, ctx: DeskContext) -> S:
    """Reads the 密级; asks the urgency. From 机密 up, only registration and routing are kept."""
    level = Classification(callback_data(update).removeprefix(f"{PREFIX}:l:"))
    await answer_query(update, ctx.t(f"doc.level.{level}"))
    draft = await _draft(update, ctx)
    draft.classification, draft.summary, draft.files = level.value, "", []
    await _save(update, ctx, draft)
    if not level.electronic:
        await say(update, ctx, ctx.t("doc.offline_note", level=ctx.t(f"doc.level.{level}")))
    return await ask_urgency(update, ctx)


async def got_urgency(update: Update, ctx: DeskContext) -> S:
    """Reads the urgency; asks when it was received."""
    urgency = Urgency(callback_data(update).removeprefix(f"{PREFIX}:u:"))
    await answer_query(update)
    draft = await _draft(update, ctx)
    draft.urgency = urgency.value
    await _save(update, ctx, draft)
    return await ask_received(update, ctx)


async def ask_received(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("doc.ask_received"), _one(ctx, "doc.btn.received_now", "now"))
    return S.RECEIVED


async def got_received(update: Update, ctx: DeskContext) -> S:
    """Reads 刚收到 or a typed time, as of when the person answered; then the summary, files or the
    check, as the 密级 allows."""
    s = ctx.services
    got = await button_or_text(update, ctx, limit=40)
    if got is None:
        return S.RECEIVED
    if got.pressed:
        when = await acted_at(update, ctx)
    else:
        try:
            when = parse_entry_time(got.text, sent_time(ctx), s.config.tz, MAX_BACKDATE)
        except EntryTimeError as err:
            await say(update, ctx, ctx.t(f"doc.err_{err.code}"))
            return S.RECEIVED
    draft = await _draft(update, ctx)
    draft.received_at = when.isoformat()
    await _save(update, ctx, draft)
    level = draft.level
    if level is not None and level.electronic:
        return await ask_summary(update, ctx)
    return await show_summary(update, ctx, draft)


async def ask_summary(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("doc.ask_summary", limit=MAX_TEXT), _one(ctx, "doc.btn.skip", "skip"))
    return S.SUMMARY


async def files_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("doc.btn.files_done"), f"{PREFIX}:ok")]], ctx.t("doc.file_expected"))


async def ask_files(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("doc.ask_files", limit=svc.MAX_FILES), _one(ctx, "doc.btn.files_done", "ok"))
    return S.FILES


async def got_summary(update: Update, ctx: DeskContext) -> S:
    """Reads the summary (or 跳过); files for a non-classified document only."""
    if update.callback_query is not None:
        await answer_query(update)
        draft = await _draft(update, ctx)
    else:
        found = await text_into_draft(update, ctx, _slot, "summary", limit=MAX_TEXT)
        if found is None:
            return S.SUMMARY
        draft = found
    level = draft.level
    if level is not None and level.attachments:
        return await ask_files(update, ctx)
    if level is not None:
        await say(update, ctx, ctx.t("doc.no_files_note", level=ctx.t(f"doc.level.{level}")))
    return await show_summary(update, ctx, draft)


async def got_file(update: Update, ctx: DeskContext) -> S:
    """Collects a file or photo of a non-classified document (anything else: files_buttons' hint)."""
    msg = update.effective_message
    assert msg is not None and (msg.document or msg.photo)
    draft = await _draft(update, ctx)
    if len(draft.files) >= svc.MAX_FILES:
        await say(update, ctx, ctx.t("doc.file_limit", limit=svc.MAX_FILES), _one(ctx, "doc.btn.files_done", "ok"))
        return S.FILES
    if msg.document:
        draft.files.append(["document", msg.document.file_id, (msg.document.file_name or "")[:100]])
    else:
        draft.files.append(["photo", msg.photo[-1].file_id, ""])
    await _save(update, ctx, draft)
    await say(update, ctx, ctx.t("doc.file_added", count=len(draft.files)), _one(ctx, "doc.btn.files_done", "ok"))
    return S.FILES


async def files_done(update: Update, ctx: DeskContext) -> S:
    await answer_query(update)
    return await show_summary(update, ctx, await _draft(update, ctx))


async def show_summary(update: Update, ctx: DeskContext, draft: DocDraft) -> S:
    s, level = ctx.services, draft.level
    if level is None or not draft.urgency:
        await say(update, ctx, ctx.t("doc.draft_lost"))
        return S.CONFIRM
    urgency = Urgency(draft.urgency)
    due = s.now() + svc.limits(s)[urgency.value]
    text = ctx.t("doc.summary", title=esc(draft.title), issuer=esc(draft.issuer),
                 doc_no=esc(draft.doc_no) or ctx.t("doc.no_doc_no"), level=ctx.t(f"doc.level.{level}"),
                 urgency=ctx.t(f"doc.urgency.{urgency}"),
                 received=s.fmt.dt(datetime.fromisoformat(draft.received_at) if draft.received_at else None),
                 summary=esc(draft.summary) or ctx.t("core.none"), files=len(draft.files),
                 limit=s.fmt.dur(due - s.now()), due=s.fmt.dt(due))
    await say(update, ctx, text, cb.keyboard((await confirm_buttons(update, ctx)).rows))
    return S.CONFIRM


async def confirm_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("doc.btn.register"), f"{PREFIX}:ok"), (ctx.t("doc.btn.cancel"), f"{PREFIX}:x")]])


async def confirm(update: Update, ctx: DeskContext) -> S | int:
    """登记 stores it (the office is asked to 拟办); 取消 drops the draft."""
    await answer_query(update)
    assert update.effective_user is not None
    if (done := await done_before(update, ctx, KIND)) is not None:  # committed, then a crash: not twice
        await drop_drafts(ctx, update.effective_user.id)
        await say(update, ctx, ctx.t("doc.already_registered", id=done))
        return ConversationHandler.END
    if callback_data(update) == f"{PREFIX}:x":
        await drop_drafts(ctx, update.effective_user.id)
        await say(update, ctx, ctx.t("core.cancelled"))
        return ConversationHandler.END
    member = await guard(update, ctx, Action.REGISTER_DOCUMENT)
    if member is None:
        return ConversationHandler.END
    try:
        await svc.register(ctx.services, member, await _draft(update, ctx))  # the card goes out with the record
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
        await drop_drafts(ctx, update.effective_user.id)
        return ConversationHandler.END
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


async def file_in_wrong_place(update: Update, ctx: DeskContext) -> None:
    """A file sent anywhere but the files step: for a 机密/绝密 (or 秘密) document, the reason it is
    refused — 密级在机密以上的公文不得以电子公文的形式传输; otherwise what is expected."""
    draft = await _draft(update, ctx)
    level = draft.level
    err = svc.file_refusal(ctx.services, level) if level is not None else None
    await say(update, ctx, ctx.t(err.key, **err.kw) if err is not None else ctx.t("doc.answer_above"))


# --- /doc N and /docs -----------------------------------------------------------------------------


async def show_doc(update: Update, ctx: DeskContext) -> None:
    """/doc 2026-0003: the card and its trail, with the viewer's next step."""
    member = await guard_private(update, ctx)
    if member is None:
        return
    number = parse_incident_number(ctx.args[0]) if ctx.args else None  # the same YYYY-NNNN form
    if number is None:
        await say(update, ctx, ctx.t("doc.usage"))
        return
    try:
        text, d = await views.detail(ctx.services, member, number)
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
        return
    await say(update, ctx, text, views.detail_keyboard(ctx.services, member, d))


async def list_docs(update: Update, ctx: DeskContext) -> None:
    """/docs: open documents by state, overdue first."""
    member = await guard_private(update, ctx)
    if member is None:
        return
    try:
        await say(update, ctx, await views.list_text(ctx.services, member))
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))


stray = stray_handler("doc.answer_above")
TEXT = filters.TEXT & ~filters.COMMAND
FILES = filters.Document.ALL | filters.PHOTO


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [CommandHandler("doc", start_doc)]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    refused = MessageHandler(FILES, file_in_wrong_place)
    other = [CallbackQueryHandler(stray, pattern=rf"^{PREFIX}:"), MessageHandler(~filters.COMMAND, stray)]
    levels = "|".join(c.value for c in Classification)
    urgencies = "|".join(u.value for u in Urgency)
    return {
        S.TITLE: [MessageHandler(TEXT, got_title), *other],
        S.ISSUER: [MessageHandler(TEXT, got_issuer), *other],
        S.DOC_NO: [CallbackQueryHandler(got_doc_no, pattern=rf"^{PREFIX}:skip$"), MessageHandler(TEXT, got_doc_no),
                   *other],
        S.LEVEL: [CallbackQueryHandler(got_level, pattern=rf"^{PREFIX}:l:({levels})$"), other[0],
                  MessageHandler(~filters.COMMAND, buttons_only(level_buttons))],
        S.URGENCY: [CallbackQueryHandler(got_urgency, pattern=rf"^{PREFIX}:u:({urgencies})$"), refused, other[0],
                    MessageHandler(~filters.COMMAND, buttons_only(urgency_buttons))],
        S.RECEIVED: [CallbackQueryHandler(got_received, pattern=rf"^{PREFIX}:now$"), MessageHandler(TEXT, got_received),
                     refused, *other],
        S.SUMMARY: [CallbackQueryHandler(got_summary, pattern=rf"^{PREFIX}:skip$"), MessageHandler(TEXT, got_summary),
                    refused, *other],
        S.FILES: [CallbackQueryHandler(files_done, pattern=rf"^{PREFIX}:ok$"), MessageHandler(FILES, got_file),
                  other[0], MessageHandler(~filters.COMMAND, buttons_only(files_buttons))],
        S.CONFIRM: [CallbackQueryHandler(confirm, pattern=rf"^{PREFIX}:(ok|x)$"), refused, other[0],
                    MessageHandler(~filters.COMMAND, buttons_only(confirm_buttons))],
    }


# --- what the dialogue map needs to keep a half-written registration (handlers/dialogs.py) ----


def _answers(rows: DraftRows) -> int:
    return count_set(rows.get(KIND, {}), "title", "issuer", "doc_no", "classification", "urgency", "received_at",
                     "summary", "files")


_QUESTION = {S.TITLE: ("doc.ask_title", {"limit": MAX_TITLE}), S.ISSUER: ("doc.ask_issuer", {})}


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again, every answer kept."""
    if state in _QUESTION:
        key, kw = _QUESTION[S(state)]
        await say(update, ctx, ctx.t(key, **kw))
        return state
    ask = {S.DOC_NO: ask_doc_no, S.LEVEL: ask_level, S.URGENCY: ask_urgency, S.RECEIVED: ask_received,
           S.SUMMARY: ask_summary, S.FILES: ask_files}.get(S(state)) if state in S._value2member_map_ else None
    if ask is not None:
        return await ask(update, ctx)
    return await show_summary(update, ctx, await _draft(update, ctx))


def dialogs() -> list[DialogKind]:
    return [DialogKind("document", frozenset(S), (KIND,), (start_doc,), _answers, resume)]


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("docs", list_docs))
