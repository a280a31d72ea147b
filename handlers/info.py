"""/info: routine information (政务信息报送) from a unit; the office's adoption buttons; /infostats.

kind (button) → title (text) → body (text) → check, attachments, 提交. Every answer is
committed to the drafts table and the dialogue state is persisted, so a restart resumes.
"""

from __future__ import annotations

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
from bot.domain.info import MAX_BODY, MAX_FILES, MAX_TITLE, InfoDraft, InfoKind, parse_month
from bot.domain.members import Action
from bot.fmt import esc
from bot.services import info as svc
from bot.services.errors import ServiceError
from handlers.common import (
    ANSWERED,
    ButtonStep,
    DialogKind,
    DraftRows,
    DraftSlot,
    acted_at,
    answer_query,
    buttons_only,
    callback_data,
    count_set,
    done_before,
    guard,
    private_only,
    read_text,
    refuse,
    say,
    text_into_draft,
    use_button,
)

KIND = svc.DRAFT_KIND
DIALOG = svc.DIALOG_PREFIX


class S(IntEnum):
    KIND = 700
    TITLE = 701
    BODY = 702
    CHECK = 703


_data = callback_data


_slot = DraftSlot(KIND, InfoDraft.from_dict)
_draft, _save = _slot.load, _slot.save


async def check_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    """提交 / 取消; photos and documents are the step's other answer."""
    return ButtonStep([[(ctx.t("info.btn.ok"), f"{DIALOG}:ok"), (ctx.t("info.btn.cancel"), f"{DIALOG}:x")]],
                      ctx.t("info.files_note", limit=MAX_FILES))


async def show_check(update: Update, ctx: DeskContext, draft: InfoDraft) -> S:
    """Shows the item as it will be sent; asks for attachments or 提交."""
    await say(update, ctx, ctx.t("info.ask_files", kind=ctx.t(f"info.kind.{draft.kind}"), title=esc(draft.title),
                                 body=esc(draft.body), files=len(draft.files), limit=MAX_FILES),
              cb.keyboard((await check_buttons(update, ctx)).rows))
    return S.CHECK


async def kind_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    names = [(ctx.t(f"info.kind.{k.value}"), f"{DIALOG}:k:{k.value}") for k in InfoKind]
    return ButtonStep([names[:3], names[3:]])


async def ask_kind(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("info.ask_kind"), cb.keyboard((await kind_buttons(update, ctx)).rows))
    return S.KIND


async def ask_title(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("info.ask_title", limit=MAX_TITLE))
    return S.TITLE


async def ask_body(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("info.ask_body", limit=MAX_BODY))
    return S.BODY


async def start_info(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /info or ✍️ 报送信息 on a quota reminder; asks the kind."""
    member = await guard(update, ctx, Action.SUBMIT_INFO)
    if member is None:
        return ConversationHandler.END
    await answer_query(update)
    if not await private_only(update, ctx):
        return ConversationHandler.END
    await _save(update, ctx, InfoDraft())
    return await ask_kind(update, ctx)


async def got_kind(update: Update, ctx: DeskContext) -> S:
    """Reads the kind button; asks the title."""
    value = _data(update).removeprefix(f"{DIALOG}:k:")
    if value not in {k.value for k in InfoKind}:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.KIND
    await answer_query(update, ctx.t(f"info.kind.{value}"))
    draft = await _draft(update, ctx)
    draft.kind = value
    await _save(update, ctx, draft)
    return await ask_title(update, ctx)


async def got_title(update: Update, ctx: DeskContext) -> S:
    """Reads the title; asks the text."""
    text = await read_text(update, ctx, limit=MAX_TITLE)
    if text is None:
        return S.TITLE
    draft = await _draft(update, ctx)
    draft.title = text.replace("\n", " ")
    await _save(update, ctx, draft)
    return await ask_body(update, ctx)


async def got_body(update: Update, ctx: DeskContext) -> S:
    """Reads the text; shows the check page."""
    draft = await text_into_draft(update, ctx, _slot, "body", limit=MAX_BODY)
    if draft is None:
        return S.BODY
    return await show_check(update, ctx, draft)


async def got_file(update: Update, ctx: DeskContext) -> S:
    """At the check page, a photo or a document is attached."""
    msg = update.effective_message
    assert msg is not None
    draft = await _draft(update, ctx)
    if len(draft.files) >= MAX_FILES:
        await say(update, ctx, ctx.t("info.file_limit", limit=MAX_FILES))
        return S.CHECK
    if msg.photo:
        draft.files.append(("photo", msg.photo[-1].file_id))
    elif msg.document:
        draft.files.append(("document", msg.document.file_id))
    await _save(update, ctx, draft)
    await say(update, ctx, ctx.t("info.file_added", count=len(draft.files)))
    return S.CHECK


async def confirm(update: Update, ctx: DeskContext) -> S | int:
    """提交 / 取消 on the check page."""
    done = await done_before(update, ctx, KIND)
    if done is not None:  # 提交 committed, then a crash before the dialogue ended: not twice
        await answer_query(update)
        await say(update, ctx, ctx.t("info.already_submitted", id=done))
        return ConversationHandler.END
    if _data(update) == f"{DIALOG}:x":
        await answer_query(update)
        from handlers.start import cancel

        return await cancel(update, ctx)
    member = await guard(update, ctx, Action.SUBMIT_INFO)
    if member is None:
        return ConversationHandler.END
    draft = await _draft(update, ctx)
    try:
        submitted = await svc.submit(ctx.services, member, draft, at=await acted_at(update, ctx))
    except ServiceError as err:
        await refuse(update, ctx, err)
        return ConversationHandler.END
    await answer_query(update)
    # The draft is now "done as #id" (same transaction) and stays until /info starts again.
    await say(update, ctx, submitted.receipt)
    return ConversationHandler.END


async def wrong_kind(update: Update, ctx: DeskContext) -> None:
    """A stray button or the wrong kind of message: explain, stay."""
    if update.callback_query is not None:
        await answer_query(update, ctx.t("core.stale_button"))
        return
    await say(update, ctx, ctx.t("info.answer_above"))


# --- the office's buttons and the statistics ------------------------------------------------


async def on_mark(update: Update, ctx: DeskContext) -> None:
    """区采用 / 市采用 / 省采用 / 领导批示 / 不采用 on a review message; data is never trusted."""
    done = await use_button(update, ctx, svc.PREFIX, svc.MARK_ACTIONS,
                            lambda member, mark, item_id: svc.mark(ctx.services, member, item_id, mark))
    if done is not ANSWERED:
        await answer_query(update, done.answer)


async def info_stats(update: Update, ctx: DeskContext) -> None:
    """/infostats [month]: per unit sent, adopted by level, score, quota weeks met, rank."""
    member = await guard(update, ctx, Action.VIEW_INFO_STATS)
    if member is None:
        return
    s = ctx.services
    today = s.now().astimezone(s.config.tz).date()
    if ctx.args:
        ym = parse_month(" ".join(ctx.args)[:20], today)
        if ym is None:
            await say(update, ctx, ctx.t("info.stats_usage"))
            return
    else:
        ym = (today.year, today.month)
    await say(update, ctx, await svc.stats_text(s, s.db.read, *ym))


TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("info", start_info),
        CallbackQueryHandler(start_info, pattern=rf"^{DIALOG}:new$"),
    ]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    stray = [CallbackQueryHandler(wrong_kind, pattern=rf"^{DIALOG}:"), MessageHandler(~filters.COMMAND, wrong_kind)]
    return {
        S.KIND: [CallbackQueryHandler(got_kind, pattern=rf"^{DIALOG}:k:"), stray[0],
                 MessageHandler(~filters.COMMAND, buttons_only(kind_buttons))],
        S.TITLE: [MessageHandler(TEXT, got_title), *stray],
        S.BODY: [MessageHandler(TEXT, got_body), *stray],
        S.CHECK: [CallbackQueryHandler(confirm, pattern=rf"^{DIALOG}:(ok|x)$"),
                  MessageHandler(filters.PHOTO | filters.Document.ALL, got_file), stray[0],
                  MessageHandler(~filters.COMMAND, buttons_only(check_buttons))],
    }


# --- what the dialogue map needs to keep these answers (handlers/dialogs.py) -------------------


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again; the draft keeps every answer."""
    draft = await _draft(update, ctx)
    if state == S.CHECK and draft.complete():
        return await show_check(update, ctx, draft)
    # (A check page whose text is gone asks the text.)
    return await {S.KIND: ask_kind, S.TITLE: ask_title, S.BODY: ask_body, S.CHECK: ask_body}[S(state)](update, ctx)


def _answers(rows: DraftRows) -> int:
    return count_set(rows.get(KIND, {}), "kind", "title", "body", "files")


def dialogs() -> list[DialogKind]:
    return [DialogKind("info", frozenset(S), (KIND,), (start_info,), _answers, resume)]


def register(app: Application) -> None:  # type: ignore[type-arg]
    # Any "n:" data reaches on_mark, which parses strictly: forged data is refused, not ignored.
    app.add_handler(CallbackQueryHandler(on_mark, pattern=rf"^{svc.PREFIX}:"))
    app.add_handler(CommandHandler("infostats", info_stats))
