"""督查督办 dialogues after assignment: the unit's progress and completion reports (text and
attachments) and extension requests, and the director's 退回 (reason, then the deadline kept or
a new one). The conversation states of the whole feature are numbered here (600s).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import ConversationHandler

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.members import Action, Member
from bot.domain.supervision import Assignment, Task
from bot.fmt import esc
from bot.services import supervision as svc
from bot.services import supervision_text as txt
from bot.services.errors import ServiceError
from handlers.common import (
    ANSWERED,
    DraftSlot,
    acted_at,
    answer_query,
    button_or_text,
    drop_drafts,
    guard,
    guard_private,
    read_text,
    refuse,
    say,
    stray_handler,
    use_button,
)
from storage import drafts
from storage import supervision as store
from storage.supervision import Attachment

REPORT, EXTEND, RETURN = svc.DRAFT_REPORT, "task_ext", "task_return"
MAX_TEXT = 2000


@dataclass
class WorkDraft:
    """A report, extension or 退回 in the making (one drafts row of its kind): the assignment, the answers."""

    aid: int | None = None
    mode: str = ""  # report: "progress" or "done"
    text: str = ""  # report
    files: list[Attachment] = field(default_factory=list)  # report
    due: datetime | None = None  # extension: the deadline asked for
    reason: str | None = None  # 退回
    done_as: int | None = None  # the report was filed as this event (drafts.mark_done): 提交 again is not twice

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WorkDraft:
        due, reason = d.get("due"), d.get("reason")
        return cls(aid=d["aid"] if isinstance(d.get("aid"), int) else None, mode=str(d.get("mode") or ""),
                   text=str(d.get("text") or ""), files=[Attachment(**f) for f in d.get("files") or []],
                   due=datetime.fromisoformat(due) if isinstance(due, str) else None,
                   reason=reason if isinstance(reason, str) else None, done_as=drafts.done_as(d))

    def to_dict(self) -> dict[str, Any]:
        """The row as it always was: a report's {aid, mode, text, files}, an extension's {aid, due},
        a 退回's {aid, reason} (what handlers/supervision.py counts as answers)."""
        out: dict[str, Any] = {} if self.aid is None else {"aid": self.aid}
        if self.mode:
            out |= {"mode": self.mode, "text": self.text, "files": [f.__dict__ for f in self.files]}
        if self.due is not None:
            out["due"] = self.due.isoformat()
        if self.reason is not None:
            out["reason"] = self.reason
        return out


_report, _extension, _return = (DraftSlot(kind, WorkDraft.from_dict) for kind in (REPORT, EXTEND, RETURN))


class S(IntEnum):
    TITLE = 600
    SOURCE = 601
    REQUIREMENT = 602
    UNITS = 603
    LEADER = 604
    DUE = 605
    CHASE = 606
    CONFIRM = 607
    REPORT_TEXT = 610
    REPORT_FILES = 611
    EXT_DUE = 620
    EXT_REASON = 621
    RET_REASON = 630
    RET_DUE = 631


def user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def finish(update: Update, ctx: DeskContext) -> int:
    await drop_drafts(ctx, user_id(update))
    return ConversationHandler.END


async def reply(update: Update, ctx: DeskContext, out: svc.Reply) -> None:
    await say(update, ctx, out.text, out.markup)


async def conclude(update: Update, ctx: DeskContext, use_case: Awaitable[svc.Reply]) -> int:
    """The dialogue's last step: runs the use case, answers with its reply or the refusal, ends."""
    try:
        out = await use_case
    except ServiceError as err:
        await refuse(update, ctx, err)
        return await finish(update, ctx)
    await reply(update, ctx, out)
    # A report's draft is now "done as #id" (same transaction), kept until the next report starts.
    return ConversationHandler.END


# --- the unit: progress and completion (text + attachments) ---------------------------


async def read_due(update: Update, ctx: DeskContext) -> datetime | None:
    """A typed deadline (Beijing time); None after saying why it is unusable."""
    text = await read_text(update, ctx, limit=40)
    if text is None:
        return None
    try:
        return svc.parse_due(ctx.services, text)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return None


async def _start_report(update: Update, ctx: DeskContext, member: Member, aid: int, mode: str) -> S | int:
    action = Action.SUBMIT_TASK if mode == "done" else Action.REPORT_TASK
    try:
        task, _a = await svc.check_can(ctx.services, member, aid, action)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return ConversationHandler.END
    await answer_query(update)
    await _report.save(update, ctx, WorkDraft(aid=aid, mode=mode))
    return await ask_report_text(update, ctx, task, mode)


async def ask_report_text(update: Update, ctx: DeskContext, task: Task, mode: str) -> S:
    key = "task.ask_summary" if mode == "done" else "task.ask_progress"
    await say(update, ctx, ctx.t(key, number=txt.label(task), title=esc(task.title)))
    return S.REPORT_TEXT


async def start_report_button(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 📝 报进展 / ✅ 办结 on a task message."""
    async def use(member: Member, action: str, aid: int) -> S | int:
        return await _start_report(update, ctx, member, aid, "done" if action == txt.DONE else "progress")

    state = await use_button(update, ctx, txt.PREFIX, (txt.PROGRESS, txt.DONE), use)
    return ConversationHandler.END if state is ANSWERED else state


async def start_progress_command(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /progress. One item in hand starts at once; several are offered as buttons."""
    member = await guard_private(update, ctx, Action.REPORT_TASK)
    if member is None:
        return ConversationHandler.END
    items = await svc.open_assignments_for(ctx.services, member)
    if not items:
        await say(update, ctx, ctx.t("task.none_open"))
        return ConversationHandler.END
    if len(items) == 1:
        return await _start_report(update, ctx, member, items[0][1].id, "progress")
    rows = [[(f"{txt.label(t)} {t.title[:30]}", txt.data(txt.PROGRESS, a.id))] for t, a in items[:20]]
    await say(update, ctx, ctx.t("task.choose_item"), cb.keyboard(rows))
    return ConversationHandler.END


def _submit_keyboard(ctx: DeskContext) -> dict[str, object]:
    return cb.keyboard([[(ctx.t("task.btn.submit"), "sx:submit")]])


def _attachment(update: Update) -> Attachment | None:
    msg = update.effective_message
    if msg is None:
        return None
    if msg.photo:
        return Attachment("photo", msg.photo[-1].file_id)
    if msg.document:
        return Attachment("document", msg.document.file_id, msg.document.file_name)
    return None


async def report_text(update: Update, ctx: DeskContext) -> S:
    """Reads the progress or completion text (a photo or file with a caption counts as both)."""
    draft = await _report.load(update, ctx)
    msg = update.effective_message
    file = _attachment(update)
    if file is not None:
        draft.files.append(file)
        text = (msg.caption or "").strip()[:MAX_TEXT] if msg else ""
        if not text:
            await _report.save(update, ctx, draft)
            await say(update, ctx, ctx.t("task.file_added", count=len(draft.files)))
            return S.REPORT_TEXT
    else:
        got = await read_text(update, ctx, limit=MAX_TEXT)
        if got is None:
            return S.REPORT_TEXT
        text = got
    draft.text = text
    await _report.save(update, ctx, draft)
    await say(update, ctx, ctx.t("task.ask_files", limit=svc.MAX_ATTACHMENTS), _submit_keyboard(ctx))
    return S.REPORT_FILES


async def report_file(update: Update, ctx: DeskContext) -> S:
    """Adds a photo or file (or more text) until 提交."""
    draft = await _report.load(update, ctx)
    file = _attachment(update)
    if file is None:
        more = await read_text(update, ctx, limit=MAX_TEXT)
        if more is None:
            return S.REPORT_FILES
        text = (draft.text + "\n" + more).strip()
        if len(text) > MAX_TEXT:  # the whole report must fit one message to the director
            await say(update, ctx, ctx.t("task.text_full", limit=MAX_TEXT), _submit_keyboard(ctx))
            return S.REPORT_FILES
        draft.text = text
    elif len(draft.files) >= svc.MAX_ATTACHMENTS:
        await say(update, ctx, ctx.t("task.files_limit", limit=svc.MAX_ATTACHMENTS), _submit_keyboard(ctx))
        return S.REPORT_FILES
    else:
        draft.files.append(file)
    await _report.save(update, ctx, draft)
    await say(update, ctx, ctx.t("task.file_added", count=len(draft.files)), _submit_keyboard(ctx))
    return S.REPORT_FILES


async def report_submit(update: Update, ctx: DeskContext) -> int:
    """提交: files the progress or the completion report."""
    await answer_query(update)
    draft = await _report.load(update, ctx)
    if draft.done_as is not None:  # 提交 committed, then a crash before the dialogue ended: not twice
        await say(update, ctx, ctx.t("task.report_already"))
        return ConversationHandler.END
    member = await guard(update, ctx)
    if member is None or draft.aid is None:
        if member is not None:
            await say(update, ctx, ctx.t("task.draft_lost"))
        return await finish(update, ctx)
    use_case = svc.submit_completion if draft.mode == "done" else svc.report_progress
    return await conclude(update, ctx, use_case(ctx.services, member, draft.aid, draft.text, draft.files,
                                                at=await acted_at(update, ctx)))


# --- the unit: extension requests -----------------------------------------------------


async def _start_on(update: Update, ctx: DeskContext, button: str, action: Action,
                    slot: DraftSlot[WorkDraft]) -> tuple[Task, Assignment] | None:
    """A button under an assignment opens a `kind` dialogue about it; None after refusing."""
    checked = await use_button(update, ctx, txt.PREFIX, (button,),
                               lambda member, _button, aid: svc.check_can(ctx.services, member, aid, action))
    if checked is ANSWERED:
        return None
    task, a = checked
    await answer_query(update)
    await slot.save(update, ctx, WorkDraft(aid=a.id))
    return task, a


async def start_extension(update: Update, ctx: DeskContext) -> S | int:
    """Entry from ⏳ 申请延期: asks the new deadline."""
    opened = await _start_on(update, ctx, txt.EXTEND, Action.SUBMIT_TASK, _extension)
    if opened is None:
        return ConversationHandler.END
    return await ask_ext_due(update, ctx, *opened)


async def ask_ext_due(update: Update, ctx: DeskContext, task: Task, a: Assignment) -> S:
    due = ctx.services.fmt.dt(a.due_at, year=True)
    await say(update, ctx, ctx.t("task.ask_ext_due", number=txt.label(task), due=due))
    return S.EXT_DUE


async def ext_due(update: Update, ctx: DeskContext) -> S:
    """Reads the deadline asked for; asks the reason."""
    due = await read_due(update, ctx)
    if due is None:
        return S.EXT_DUE
    draft = await _extension.load(update, ctx)
    draft.due = due
    await _extension.save(update, ctx, draft)
    await say(update, ctx, ctx.t("task.ask_ext_reason"))
    return S.EXT_REASON


async def ext_reason(update: Update, ctx: DeskContext) -> S | int:
    """Reads the reason and sends the request to the director."""
    text = await read_text(update, ctx, limit=MAX_TEXT)
    if text is None:
        return S.EXT_REASON
    member = await guard(update, ctx)
    draft = await _extension.load(update, ctx)
    if member is None or draft.aid is None or draft.due is None:
        return await finish(update, ctx)
    return await conclude(update, ctx, svc.request_extension(ctx.services, member, draft.aid, draft.due, text))


# --- the director: 退回 with a reason, keeping or changing the deadline ----------------


async def start_return(update: Update, ctx: DeskContext) -> S | int:
    """Entry from ↩️ 退回 under a completion report: asks the reason."""
    opened = await _start_on(update, ctx, txt.RETURN, Action.REVIEW_TASK, _return)
    if opened is None:
        return ConversationHandler.END
    return await ask_return_reason(update, ctx, *opened)


async def ask_return_reason(update: Update, ctx: DeskContext, task: Task, a: Assignment) -> S:
    await say(update, ctx, ctx.t("task.ask_return_reason", number=txt.label(task),
                                 unit=esc(ctx.services.unit_name(a.unit_code))))
    return S.RET_REASON


async def return_reason(update: Update, ctx: DeskContext) -> S | int:
    """Reads the reason; asks whether the deadline stays."""
    text = await read_text(update, ctx, limit=MAX_TEXT)
    if text is None:
        return S.RET_REASON
    draft = await _return.load(update, ctx)
    if draft.aid is None:
        return await finish(update, ctx)
    draft.reason = text
    await _return.save(update, ctx, draft)
    return await ask_return_due(update, ctx, await store.assignment(ctx.services.db.read, draft.aid))


async def ask_return_due(update: Update, ctx: DeskContext, a: Assignment | None) -> S:
    due = ctx.services.fmt.dt(a.due_at, year=True) if a else "—"
    await say(update, ctx, ctx.t("task.ask_return_due", due=due),
              cb.keyboard([[(ctx.t("task.btn.keep_due", due=due), "sx:keep")]]))
    return S.RET_DUE


async def return_due(update: Update, ctx: DeskContext) -> S | int:
    """维持原时限, or a typed new deadline; then returns it."""
    got = await button_or_text(update, ctx, limit=40)
    if got is None:
        return S.RET_DUE
    new_due = None  # 维持原时限
    if not got.pressed:
        try:
            new_due = svc.parse_due(ctx.services, got.text)
        except ServiceError as err:
            await refuse(update, ctx, err)
            return S.RET_DUE
    member = await guard(update, ctx)
    draft = await _return.load(update, ctx)
    if member is None or draft.aid is None or draft.reason is None:
        return await finish(update, ctx)
    return await conclude(update, ctx, svc.return_completion(ctx.services, member, draft.aid, draft.reason, new_due))


stray = stray_handler("task.answer_above")  # anything else inside a supervision dialogue: say what is expected; stay


# --- what the dialogue map needs to keep these answers (handlers/dialogs.py) -------------------

_RESUMES = {S.REPORT_TEXT: (_report, Action.REPORT_TASK), S.REPORT_FILES: (_report, Action.REPORT_TASK),
            S.EXT_DUE: (_extension, Action.SUBMIT_TASK), S.EXT_REASON: (_extension, Action.SUBMIT_TASK),
            S.RET_REASON: (_return, Action.REVIEW_TASK), S.RET_DUE: (_return, Action.REVIEW_TASK)}


async def resume_work(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of a report, extension or 退回 step again, the item checked again first."""
    step = S(state)
    slot, action = _RESUMES[step]
    draft = await slot.load(update, ctx)
    member = await guard(update, ctx)
    if member is None or draft.aid is None:
        return await finish(update, ctx)
    if draft.mode == "done":
        action = Action.SUBMIT_TASK
    try:
        task, a = await svc.check_can(ctx.services, member, draft.aid, action)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return await finish(update, ctx)
    if step is S.REPORT_TEXT:
        return await ask_report_text(update, ctx, task, draft.mode)
    if step is S.REPORT_FILES:
        await say(update, ctx, ctx.t("task.ask_files", limit=svc.MAX_ATTACHMENTS), _submit_keyboard(ctx))
        return step
    if step is S.EXT_DUE:
        return await ask_ext_due(update, ctx, task, a)
    if step is S.EXT_REASON:
        await say(update, ctx, ctx.t("task.ask_ext_reason"))
        return step
    if step is S.RET_REASON:
        return await ask_return_reason(update, ctx, task, a)
    return await ask_return_due(update, ctx, a)
