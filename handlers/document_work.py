"""办文 routing in Telegram: 拟办 (a short dialogue), 批办 and 退回拟办 (one tap, the leader named),
电话请示 and 补签, 办结 (with an optional result), 补充附件, 详情. Data is never trusted: the
services re-check role, the person the document names and its state in the writing transaction.

拟办: proposal → handler (name or #number) → the leader to 批办 (button) → limit (按默认, or typed)
→ 呈批 / 取消.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain import parse
from bot.domain.documents import Document, ProposalDraft
from bot.domain.members import Action, Member, can
from bot.domain.roster import find_member
from bot.fmt import esc
from bot.services import document_text as txt
from bot.services import document_views as views
from bot.services import documents as svc
from bot.services.errors import ServiceError
from bot.services.supervision import parse_due
from handlers.common import (
    ANSWERED,
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
    drop_drafts,
    guard,
    load_draft,
    read_text,
    refuse,
    save_draft,
    say,
    stray_handler,
    text_into_draft,
    use_button,
)
from storage import documents as doc_store
from storage import members

PROPOSAL = "doc_proposal"
ACTION = "doc_action"  # {"doc_id": …} while the result or files are asked for
PREFIX = cb.DOCUMENT_WORK  # dw:l:<member>, dw:def, dw:ok, dw:x — inside the dialogues only
MAX_TEXT = 1000
MAX_LEADERS = 20


class S(IntEnum):
    PROPOSAL = 1310
    HANDLER = 1311
    LEADER = 1312
    DUE = 1313
    CONFIRM = 1314
    RESULT = 1320
    MORE_FILES = 1321


_slot = DraftSlot(PROPOSAL, ProposalDraft.from_dict)
_draft, _save = _slot.load, _slot.save


def _doc_id(update: Update, action: str) -> int | None:
    parsed = cb.parse_id(callback_data(update), txt.PREFIX, (action,))
    return parsed[1] if parsed else None


async def _finish(update: Update, ctx: DeskContext) -> int:
    assert update.effective_user is not None
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


# --- 拟办 -----------------------------------------------------------------------------------------


async def start_propose(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 拟办 on a registered document: the office only, once."""
    d = await use_button(update, ctx, txt.PREFIX, (txt.PROPOSE,),
                         lambda member, _propose, doc_id: svc.check_can_propose(ctx.services, member, doc_id),
                         action=Action.PROPOSE_DOCUMENT)
    if d is ANSWERED:
        return ConversationHandler.END
    await answer_query(update)
    await _save(update, ctx, ProposalDraft(doc_id=d.id))
    return await ask_proposal(update, ctx, d)


async def ask_proposal(update: Update, ctx: DeskContext, d: Document) -> S:
    await say(update, ctx, ctx.t("doc.ask_proposal", number=d.number, title=esc(d.title)))
    return S.PROPOSAL


async def got_proposal(update: Update, ctx: DeskContext) -> S:
    """Reads the 拟办意见; asks who handles it."""
    if await text_into_draft(update, ctx, _slot, "proposal", limit=MAX_TEXT) is None:
        return S.PROPOSAL
    await say(update, ctx, ctx.t("doc.ask_handler"))
    return S.HANDLER


async def got_handler(update: Update, ctx: DeskContext) -> S:
    """Reads the handler: a name or #number of an active member who may handle documents."""
    text = await read_text(update, ctx, limit=40)
    if text is None:
        return S.HANDLER
    found = [m for m in find_member(text, await members.all_members(ctx.services.db.read))
             if can(m, Action.HANDLE_DOCUMENT)]
    if len(found) != 1:
        await say(update, ctx, ctx.t("doc.handler_ambiguous" if found else "doc.handler_unknown", name=esc(text)))
        return S.HANDLER
    draft = await _draft(update, ctx)
    draft.handler_id = found[0].id
    await _save(update, ctx, draft)
    return await ask_leader(update, ctx, found[0].name)


async def leader_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    """The leaders who may 批办 (district leaders and office directors), and how one not listed gets there."""
    leaders = await svc.leaders(ctx.services)
    office = next((u.code for u in ctx.services.config.units if u.kind == "office"), "office")
    note = ctx.t("doc.leader_none" if not leaders else "doc.leader_who", unit=office, limit=MAX_LEADERS)
    return ButtonStep([[(m.name, f"{PREFIX}:l:{m.id}")] for m in leaders[:MAX_LEADERS]], note)


async def ask_leader(update: Update, ctx: DeskContext, handler: str) -> S:
    step = await leader_buttons(update, ctx)
    text: str = ctx.t("doc.ask_leader_choice", handler=esc(handler))
    if not step.rows:  # nobody to choose: say so with the question, and how to fix it
        text += "\n" + step.note
    await say(update, ctx, text, cb.keyboard(step.rows))
    return S.LEADER


async def got_leader(update: Update, ctx: DeskContext) -> S:
    """Reads the leader who is to 批办; asks the limit (default from registration and urgency)."""
    leader_id = parse.record_id(callback_data(update).removeprefix(f"{PREFIX}:l:"))
    leader = await members.by_id(ctx.services.db.read, leader_id) if leader_id is not None else None
    if leader is None or not can(leader, Action.ASSIGN_DOCUMENT):
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.LEADER
    await answer_query(update)
    draft = await _draft(update, ctx)
    draft.leader_id = leader.id
    await _save(update, ctx, draft)
    return await ask_due(update, ctx, draft)


async def ask_due(update: Update, ctx: DeskContext, draft: ProposalDraft) -> S:
    d = await doc_store.get(ctx.services.db.read, draft.doc_id)
    await say(update, ctx, ctx.t("doc.ask_due", due=ctx.services.fmt.dt(d.due_at if d else None)),
              cb.keyboard([[(ctx.t("doc.btn.default_due"), f"{PREFIX}:def")]]))
    return S.DUE


async def got_due(update: Update, ctx: DeskContext) -> S:
    """Reads 按默认 or a typed limit (12-31, 3天, 2026-12-01 17:00); shows the summary."""
    got = await button_or_text(update, ctx, limit=40)
    if got is None:
        return S.DUE
    draft = await _draft(update, ctx)
    if got.pressed:
        draft.due_at = ""
    else:
        try:
            draft.due_at = parse_due(ctx.services, got.text).isoformat()
        except ServiceError as err:
            await say(update, ctx, ctx.t(err.key, **err.kw))
            return S.DUE
    await _save(update, ctx, draft)
    return await show_proposal(update, ctx, draft)


async def confirm_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("doc.btn.submit"), f"{PREFIX}:ok"), (ctx.t("doc.btn.cancel"), f"{PREFIX}:x")]])


async def show_proposal(update: Update, ctx: DeskContext, draft: ProposalDraft) -> S:
    s = ctx.services
    d = await doc_store.get(s.db.read, draft.doc_id)
    names = {m.id: m.name for m in await members.all_members(s.db.read)}
    due = datetime.fromisoformat(draft.due_at) if draft.due_at else (d.due_at if d else None)
    await say(update, ctx, ctx.t("doc.proposal_summary", number=d.number if d else "?", proposal=esc(draft.proposal),
                                 handler=esc(names.get(draft.handler_id or 0, "?")),
                                 leader=esc(names.get(draft.leader_id or 0, "?")), due=s.fmt.dt(due)),
              cb.keyboard((await confirm_buttons(update, ctx)).rows))
    return S.CONFIRM


async def confirm_proposal(update: Update, ctx: DeskContext) -> int:
    """呈批 sends it to the leader; 取消 drops the draft."""
    await answer_query(update)
    if callback_data(update) == f"{PREFIX}:x":
        await say(update, ctx, ctx.t("core.cancelled"))
        return await _finish(update, ctx)
    member = await guard(update, ctx, Action.PROPOSE_DOCUMENT)
    if member is not None:
        try:
            await svc.propose(ctx.services, member, await _draft(update, ctx))
        except ServiceError as err:
            await say(update, ctx, ctx.t(err.key, **err.kw))
    return await _finish(update, ctx)


# --- 办结 with an optional result; 补充附件 ---------------------------------------------------------


async def start_finish(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 办结: the handler named, after a leader's 批办 (无签批不办)."""
    d = await use_button(update, ctx, txt.PREFIX, (txt.DONE,),
                         lambda member, _done, doc_id: svc.check_can_finish(ctx.services, member, doc_id),
                         action=Action.HANDLE_DOCUMENT)
    if d is ANSWERED:
        return ConversationHandler.END
    await answer_query(update)
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, ACTION, {"doc_id": d.id})
    return await ask_result(update, ctx, d)


async def ask_result(update: Update, ctx: DeskContext, d: Document) -> S:
    await say(update, ctx, ctx.t("doc.ask_result", number=d.number),
              cb.keyboard([[(ctx.t("doc.btn.no_result"), f"{PREFIX}:ok")]]))
    return S.RESULT


async def got_result(update: Update, ctx: DeskContext) -> S | int:
    """Reads the result (or 不填写) and records 办结."""
    got = await button_or_text(update, ctx, limit=MAX_TEXT)
    if got is None:
        return S.RESULT
    result = got.text  # "" for 不填写
    member = await guard(update, ctx, Action.HANDLE_DOCUMENT)
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, ACTION)
    if member is not None and isinstance(draft.get("doc_id"), int):
        try:  # on time or not by when the person sent it
            await say(update, ctx, await svc.finish(ctx.services, member, draft["doc_id"], result,
                                                    at=await acted_at(update, ctx)))
        except ServiceError as err:
            await say(update, ctx, ctx.t(err.key, **err.kw))
    return await _finish(update, ctx)


async def start_files(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 补充附件: refused at once for a classified document, with the reason."""
    member = await guard(update, ctx, Action.REGISTER_DOCUMENT)
    doc_id = _doc_id(update, txt.FILES)
    if member is None or doc_id is None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return ConversationHandler.END
    d = await doc_store.get(ctx.services.db.read, doc_id)
    if d is None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return ConversationHandler.END
    if (err := svc.file_refusal(ctx.services, d.classification)) is not None:
        await refuse(update, ctx, err)
        return ConversationHandler.END
    await answer_query(update)
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, ACTION, {"doc_id": d.id, "files": []})
    return await ask_more_files(update, ctx)


async def files_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("doc.btn.files_done"), f"{PREFIX}:ok")]], ctx.t("doc.file_expected"))


async def ask_more_files(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("doc.ask_files", limit=svc.MAX_FILES),
              cb.keyboard((await files_buttons(update, ctx)).rows))
    return S.MORE_FILES


async def got_more_file(update: Update, ctx: DeskContext) -> S | int:
    """Collects files; 完成 stores them (re-checked: never for a classified document)."""
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, ACTION)
    files = list(draft.get("files") or [])
    msg = update.effective_message
    if update.callback_query is None:
        assert msg is not None and (msg.document or msg.photo)  # anything else: files_buttons' hint
        files.append(["document", msg.document.file_id, (msg.document.file_name or "")[:100]] if msg.document
                     else ["photo", msg.photo[-1].file_id, ""])
        await save_draft(ctx, update.effective_user.id, ACTION, {**draft, "files": files[:svc.MAX_FILES]})
        await say(update, ctx, ctx.t("doc.file_added", count=len(files)),
                  cb.keyboard([[(ctx.t("doc.btn.files_done"), f"{PREFIX}:ok")]]))
        return S.MORE_FILES
    await answer_query(update)
    member = await guard(update, ctx, Action.REGISTER_DOCUMENT)
    if member is not None and isinstance(draft.get("doc_id"), int) and files:
        try:
            d = await svc.add_files(ctx.services, member, draft["doc_id"], files)
            await say(update, ctx, ctx.t("doc.files_saved", number=d.number, n=d.files))
        except ServiceError as err:
            await say(update, ctx, ctx.t(err.key, **err.kw))
    return await _finish(update, ctx)


# --- one-tap buttons ------------------------------------------------------------------------------


async def on_button(update: Update, ctx: DeskContext) -> None:
    """批办, 退回拟办, 电话请示, 补签, 详情."""
    s = ctx.services

    async def use(member: Member, action: str, doc_id: int) -> str | None:
        if action == txt.VIEW:
            d = await doc_store.get(s.db.read, doc_id)
            if d is None:
                raise ServiceError("core.stale_button")
            text, d = await views.detail(s, member, d.number)
            await answer_query(update)
            await say(update, ctx, text, views.detail_keyboard(s, member, d))
            return None
        if action in (txt.PHONE, txt.SIGN):  # recorded as pressed, however late the bot got to it
            timed = {txt.PHONE: svc.by_phone, txt.SIGN: svc.sign}[action]
            return await timed(s, member, doc_id, at=await acted_at(update, ctx))
        return await {txt.ASSIGN: svc.assign, txt.BACK: svc.send_back}[action](s, member, doc_id)

    reply = await use_button(update, ctx, txt.PREFIX, txt.BUTTON_ACTIONS, use)
    if reply is ANSWERED or reply is None:
        return
    await answer_query(update)
    await say(update, ctx, reply)


stray = stray_handler("doc.answer_above")
TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(start_propose, pattern=txt.pattern((txt.PROPOSE,))),
        CallbackQueryHandler(start_finish, pattern=txt.pattern((txt.DONE,))),
        CallbackQueryHandler(start_files, pattern=txt.pattern((txt.FILES,))),
    ]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = [CallbackQueryHandler(stray, pattern=rf"^{PREFIX}:"), MessageHandler(~filters.COMMAND, stray)]
    return {
        S.PROPOSAL: [MessageHandler(TEXT, got_proposal), *other],
        S.HANDLER: [MessageHandler(TEXT, got_handler), *other],
        S.LEADER: [CallbackQueryHandler(got_leader, pattern=rf"^{PREFIX}:l:\d{{1,12}}$"), other[0],
                   MessageHandler(~filters.COMMAND, buttons_only(leader_buttons))],
        S.DUE: [CallbackQueryHandler(got_due, pattern=rf"^{PREFIX}:def$"), MessageHandler(TEXT, got_due), *other],
        S.CONFIRM: [CallbackQueryHandler(confirm_proposal, pattern=rf"^{PREFIX}:(ok|x)$"), other[0],
                    MessageHandler(~filters.COMMAND, buttons_only(confirm_buttons))],
        S.RESULT: [CallbackQueryHandler(got_result, pattern=rf"^{PREFIX}:ok$"), MessageHandler(TEXT, got_result),
                   *other],
        S.MORE_FILES: [CallbackQueryHandler(got_more_file, pattern=rf"^{PREFIX}:ok$"),
                       MessageHandler(filters.Document.ALL | filters.PHOTO, got_more_file), other[0],
                       MessageHandler(~filters.COMMAND, buttons_only(files_buttons))],
    }


# --- what the dialogue map needs to keep these answers (handlers/dialogs.py) -------------------


def _proposed(rows: DraftRows) -> int:
    return count_set(rows.get(PROPOSAL, {}), "proposal", "handler_id", "leader_id", "due_at")


def _files(rows: DraftRows) -> int:
    return len(rows.get(ACTION, {}).get("files") or [])


def _nothing(rows: DraftRows) -> int:
    return 0  # the result is the only answer, and giving it records 办结


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again, every answer kept."""
    assert update.effective_user is not None
    s = ctx.services
    if state in (S.RESULT, S.MORE_FILES):
        action = await load_draft(ctx, update.effective_user.id, ACTION)
        d = await doc_store.get(s.db.read, action["doc_id"]) if isinstance(action.get("doc_id"), int) else None
        if d is None:
            await say(update, ctx, ctx.t("doc.draft_lost"))
            return await _finish(update, ctx)
        if state == S.RESULT:
            return await ask_result(update, ctx, d)
        if action.get("files"):  # what is attached so far, and the way on
            await say(update, ctx, ctx.t("doc.file_added", count=len(action["files"])),
                      cb.keyboard((await files_buttons(update, ctx)).rows))
            return S.MORE_FILES
        return await ask_more_files(update, ctx)
    draft = await _draft(update, ctx)
    d = await doc_store.get(s.db.read, draft.doc_id) if draft.doc_id else None
    if d is None:
        await say(update, ctx, ctx.t("doc.draft_lost"))
        return await _finish(update, ctx)
    if state == S.HANDLER:
        await say(update, ctx, ctx.t("doc.ask_handler"))
        return S.HANDLER
    if state == S.LEADER:
        handler = await members.by_id(s.db.read, draft.handler_id or 0)
        return await ask_leader(update, ctx, handler.name if handler else "?")
    if state == S.DUE:
        return await ask_due(update, ctx, draft)
    if state == S.CONFIRM:
        return await show_proposal(update, ctx, draft)
    return await ask_proposal(update, ctx, d)


def dialogs() -> list[DialogKind]:
    proposal = {S.PROPOSAL, S.HANDLER, S.LEADER, S.DUE, S.CONFIRM}
    return [
        DialogKind("doc_proposal", frozenset(proposal), (PROPOSAL,), (start_propose,), _proposed, resume),
        DialogKind("doc_result", frozenset({S.RESULT}), (ACTION,), (start_finish,), _nothing, resume),
        DialogKind("doc_files", frozenset({S.MORE_FILES}), (ACTION,), (start_files,), _files, resume),
    ]


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_button, pattern=txt.pattern(txt.BUTTON_ACTIONS)))
