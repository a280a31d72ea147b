"""督查督办 in Telegram: /task (assign), 签收, /progress and 办结 (with attachments), 申请延期,
the director's 通过 / 退回 / 延期审批, /tasks, /task N and /bulletin.

This module holds the director's /task dialogue and the map of every supervision dialogue;
the unit's reports, extensions and 退回 are in handlers/supervision_work.py, the buttons and
views in handlers/supervision_views.py.

/task: title → source (button) → requirement → units (multi-select) → responsible leader
(button) → deadline (typed) → chase plan (default button or typed) → 确认交办.
Every answer is committed to the drafts table; the dialogue state is persisted.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
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
from bot.domain import parse
from bot.domain import supervision as rules
from bot.domain.members import Action, Role, can
from bot.domain.supervision import Source
from bot.services import supervision as svc
from bot.services import supervision_text as txt
from bot.services.errors import ServiceError
from handlers import supervision_views
from handlers.common import (
    ButtonStep,
    DialogKind,
    DraftRows,
    DraftSlot,
    StepButtons,
    answer_query,
    button_or_text,
    buttons_only,
    callback_data,
    count_set,
    done_before,
    guard,
    private_only,
    refuse,
    say,
    text_into_draft,
)
from handlers.supervision_work import (
    EXTEND,
    REPORT,
    RETURN,
    S,
    ext_due,
    ext_reason,
    finish,
    read_due,
    report_file,
    report_submit,
    report_text,
    resume_work,
    return_due,
    return_reason,
    start_extension,
    start_progress_command,
    start_report_button,
    start_return,
    stray,
)
from storage import members
from storage import supervision as store

TASK = svc.DRAFT_KIND
MAX_TITLE, MAX_TEXT = 200, 2000


_slot = DraftSlot(TASK, svc.TaskDraft.from_dict)
_draft, _save = _slot.load, _slot.save



# --- /task: the director assigns an item ------------------------------------------------


async def start_task(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /task without a number. Directors assign; others are shown how to look one up."""
    member = await guard(update, ctx)
    if member is None:
        return ConversationHandler.END
    if not can(member, Action.ASSIGN_TASK):
        await say(update, ctx, ctx.t("task.usage"))
        return ConversationHandler.END
    if not await private_only(update, ctx):
        return ConversationHandler.END
    await _save(update, ctx, svc.TaskDraft())
    return await ask_title(update, ctx)


async def ask_title(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("task.ask_title"))
    return S.TITLE


async def source_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    names = [(ctx.t(f"task.source.{x.value}"), f"sx:src:{x.value}") for x in Source]
    return ButtonStep([names[i:i + 2] for i in range(0, len(names), 2)])


async def ask_source(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("task.ask_source"), cb.keyboard((await source_buttons(update, ctx)).rows))
    return S.SOURCE


async def got_title(update: Update, ctx: DeskContext) -> S:
    """Reads the title; asks the source."""
    draft = await text_into_draft(update, ctx, _slot, "title", limit=MAX_TITLE)
    if draft is None:
        return S.TITLE
    return await ask_source(update, ctx)


async def got_source(update: Update, ctx: DeskContext) -> S:
    """Reads the source button; asks the requirement."""
    value = callback_data(update).removeprefix("sx:src:")
    if value not in {x.value for x in Source}:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.SOURCE
    await answer_query(update, ctx.t(f"task.source.{value}"))
    draft = await _draft(update, ctx)
    draft.source = value
    await _save(update, ctx, draft)
    return await ask_requirement(update, ctx)


async def ask_requirement(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("task.ask_requirement", limit=MAX_TEXT))
    return S.REQUIREMENT


def _unit_choices(ctx: DeskContext) -> list[str]:
    return [u.code for u in ctx.services.config.units if u.kind != "office"]


def _units_keyboard(ctx: DeskContext, chosen: list[str]) -> dict[str, object]:
    return cb.keyboard(_units_rows(ctx, chosen))


def _units_rows(ctx: DeskContext, chosen: list[str]) -> list[list[tuple[str, str]]]:
    s = ctx.services
    buttons = [(("✅ " if code in chosen else "") + s.unit_name(code), f"sx:u:{code}") for code in _unit_choices(ctx)]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(ctx.t("task.btn.units_done"), "sx:u:ok")])
    return rows


async def units_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    """The units that can take an item (every configured unit but the district office's own)."""
    return ButtonStep(_units_rows(ctx, (await _draft(update, ctx)).units), ctx.t("task.units_who"))


async def ask_units(update: Update, ctx: DeskContext, draft: svc.TaskDraft) -> S:
    await say(update, ctx, ctx.t("task.ask_units"), _units_keyboard(ctx, draft.units))
    return S.UNITS


async def got_requirement(update: Update, ctx: DeskContext) -> S:
    """Reads the requirement; asks the responsible units."""
    draft = await text_into_draft(update, ctx, _slot, "requirement", limit=MAX_TEXT)
    if draft is None:
        return S.REQUIREMENT
    return await ask_units(update, ctx, draft)


async def got_unit(update: Update, ctx: DeskContext) -> S:
    """Toggles a unit; 选好了 moves on to the responsible leader."""
    value = callback_data(update).removeprefix("sx:u:")
    draft = await _draft(update, ctx)
    if value == "ok":
        if not draft.units:
            await answer_query(update, ctx.t("task.units_none"), alert=True)
            return S.UNITS
        await answer_query(update)
        return await ask_leader(update, ctx)
    if value not in _unit_choices(ctx):
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.UNITS
    draft.units = [u for u in draft.units if u != value] if value in draft.units else [*draft.units, value]
    await _save(update, ctx, draft)
    await answer_query(update)
    q = update.callback_query
    if q is not None and q.message is not None:
        try:
            await q.edit_message_reply_markup(InlineKeyboardMarkup.de_json(_units_keyboard(ctx, draft.units), None))
        except TelegramError:  # unchanged or too old: show a fresh one
            await say(update, ctx, ctx.t("task.ask_units"), _units_keyboard(ctx, draft.units))
    return S.UNITS


MAX_LEADERS = 20


async def leader_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    """Registered, active 区领导 (at most MAX_LEADERS) and 暂不指定; who can appear and how."""
    leaders = [m for m in await members.with_roles(ctx.services.db.read, [Role.LEADER]) if m.active]
    rows = [[(m.name, f"sx:l:{m.id}")] for m in leaders[:MAX_LEADERS]]
    rows.append([(ctx.t("task.btn.no_leader"), "sx:l:0")])
    office = next((u.code for u in ctx.services.config.units if u.kind == "office"), "office")
    return ButtonStep(rows, ctx.t("task.leader_none" if not leaders else "task.leader_who", unit=office,
                                  limit=MAX_LEADERS))


async def ask_leader(update: Update, ctx: DeskContext) -> S:
    step = await leader_buttons(update, ctx)
    text: str = ctx.t("task.ask_leader")
    if len(step.rows) == 1:  # nobody registered yet: say so with the question, and how to fix it
        text += "\n" + step.note
    await say(update, ctx, text, cb.keyboard(step.rows))
    return S.LEADER


async def got_leader(update: Update, ctx: DeskContext) -> S:
    """Reads the responsible leader (a registered 区领导, or none); asks the deadline."""
    raw = callback_data(update).removeprefix("sx:l:")
    leader_id = 0 if raw == "0" else parse.record_id(raw)  # 0: 不指定
    leader = await members.by_id(ctx.services.db.read, leader_id) if leader_id else None
    if leader_id is None or (leader_id and (leader is None or not leader.active or not leader.has(Role.LEADER))):
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.LEADER
    await answer_query(update)
    draft = await _draft(update, ctx)
    draft.leader_id = leader.id if leader else None
    await _save(update, ctx, draft)
    return await ask_due(update, ctx)


async def ask_due(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("task.ask_due", time=ctx.services.config.supervision.due_time))
    return S.DUE


def _plan_text(ctx: DeskContext, plan: tuple[Any, ...]) -> str:
    return ctx.t("core.list_sep").join(ctx.services.fmt.dur(p) for p in plan) or ctx.t("core.none")


async def got_due(update: Update, ctx: DeskContext) -> S:
    """Reads the deadline (Beijing time); asks the chase plan."""
    due = await read_due(update, ctx)
    if due is None:
        return S.DUE
    draft = await _draft(update, ctx)
    draft.due_at = due.isoformat()
    await _save(update, ctx, draft)
    return await ask_chase(update, ctx)


async def ask_chase(update: Update, ctx: DeskContext) -> S:
    default = _plan_text(ctx, svc.TaskDraft().plan(ctx.services))
    await say(update, ctx, ctx.t("task.ask_chase", plan=default),
              cb.keyboard([[(ctx.t("task.btn.default_plan"), "sx:plan")]]))
    return S.CHASE


async def got_chase(update: Update, ctx: DeskContext) -> S:
    """Reads the chase plan (按默认, or typed like 3天 1天 2小时); shows the summary."""
    got = await button_or_text(update, ctx, limit=60)
    if got is None:
        return S.CHASE
    draft = await _draft(update, ctx)
    if got.pressed:
        draft.chase_plan = None
    else:
        try:
            plan = rules.parse_chase_plan(got.text)
        except rules.DueInputError:
            await say(update, ctx, ctx.t("task.chase_bad"))
            return S.CHASE
        draft.chase_plan = [int(p.total_seconds()) for p in plan]
    await _save(update, ctx, draft)
    return await show_summary(update, ctx, draft)


async def show_summary(update: Update, ctx: DeskContext, draft: svc.TaskDraft) -> S:
    s = ctx.services
    leader = await members.by_id(s.db.read, draft.leader_id) if draft.leader_id else None
    card = txt.draft_card(s, number=ctx.t("task.new_number"), title=draft.title, source=draft.source,
                          requirement=draft.requirement, units=draft.units,
                          leader=leader.name if leader else None, due=draft.due)
    text = ctx.t("task.summary", card=card, plan=_plan_text(ctx, draft.plan(s)),
                 within=s.fmt.dur(s.config.supervision.accept_within))
    await say(update, ctx, text, cb.keyboard((await confirm_buttons(update, ctx)).rows))
    return S.CONFIRM


async def confirm_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("task.btn.confirm"), "sx:ok"), (ctx.t("task.btn.cancel"), "sx:x")]])


async def confirm(update: Update, ctx: DeskContext) -> int:
    """确认交办 assigns it; 取消 drops the draft."""
    await answer_query(update)
    done = await done_before(update, ctx, TASK)
    if done is not None:  # 确认交办 committed, then a crash before the dialogue ended: not twice
        task = await store.get(ctx.services.db.read, done)
        await say(update, ctx, ctx.t("task.already_assigned", number=txt.label(task) if task else f"#{done}"))
        return ConversationHandler.END
    if callback_data(update) == "sx:x":
        await say(update, ctx, ctx.t("core.cancelled"))
        return await finish(update, ctx)
    member = await guard(update, ctx, Action.ASSIGN_TASK)
    if member is None:
        return await finish(update, ctx)
    try:
        task = await svc.assign(ctx.services, member, await _draft(update, ctx))
    except ServiceError as err:
        await refuse(update, ctx, err)
        return await finish(update, ctx)
    await say(update, ctx, ctx.t("task.assigned", number=txt.label(task),
                                 units=txt.units_text(ctx.services, [a.unit_code for a in task.assignments])))
    return ConversationHandler.END  # the draft is now "done as #id" (same transaction), kept until /task again



TEXT = filters.TEXT & ~filters.COMMAND
FILES = filters.PHOTO | filters.Document.ALL


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("task", start_task, has_args=False),
        CommandHandler("progress", start_progress_command),
        CallbackQueryHandler(start_report_button, pattern=txt.pattern((txt.PROGRESS, txt.DONE))),
        CallbackQueryHandler(start_extension, pattern=txt.pattern((txt.EXTEND,))),
        CallbackQueryHandler(start_return, pattern=txt.pattern((txt.RETURN,))),
    ]


def _only(step: StepButtons) -> list[BaseHandler]:  # type: ignore[type-arg]
    """The catch-all of a step that takes only a button: names the buttons when text is typed."""
    return [CallbackQueryHandler(stray, pattern=r"^sx:"), MessageHandler(~filters.COMMAND, buttons_only(step))]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = [CallbackQueryHandler(stray, pattern=r"^sx:"), MessageHandler(~filters.COMMAND, stray)]
    return {
        S.TITLE: [MessageHandler(TEXT, got_title), *other],
        S.SOURCE: [CallbackQueryHandler(got_source, pattern=r"^sx:src:[a-z]{1,20}$"), *_only(source_buttons)],
        S.REQUIREMENT: [MessageHandler(TEXT, got_requirement), *other],
        S.UNITS: [CallbackQueryHandler(got_unit, pattern=r"^sx:u:[a-z0-9_]{1,32}$"), *_only(units_buttons)],
        S.LEADER: [CallbackQueryHandler(got_leader, pattern=r"^sx:l:\d{1,12}$"), *_only(leader_buttons)],
        S.DUE: [MessageHandler(TEXT, got_due), *other],
        S.CHASE: [CallbackQueryHandler(got_chase, pattern=r"^sx:plan$"), MessageHandler(TEXT, got_chase), *other],
        S.CONFIRM: [CallbackQueryHandler(confirm, pattern=r"^sx:(ok|x)$"), *_only(confirm_buttons)],
        S.REPORT_TEXT: [MessageHandler(TEXT | FILES, report_text), *other],
        S.REPORT_FILES: [CallbackQueryHandler(report_submit, pattern=r"^sx:submit$"),
                         MessageHandler(TEXT | FILES, report_file), *other],
        S.EXT_DUE: [MessageHandler(TEXT, ext_due), *other],
        S.EXT_REASON: [MessageHandler(TEXT, ext_reason), *other],
        S.RET_REASON: [MessageHandler(TEXT, return_reason), *other],
        S.RET_DUE: [CallbackQueryHandler(return_due, pattern=r"^sx:keep$"), MessageHandler(TEXT, return_due), *other],
    }


# --- what the dialogue map needs to keep these answers (handlers/dialogs.py) -------------------


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of a /task step again; the draft keeps every answer."""
    draft = await _draft(update, ctx)
    step = S(state)
    if step is S.UNITS:
        return await ask_units(update, ctx, draft)
    if step is S.CONFIRM and draft.due is not None:
        return await show_summary(update, ctx, draft)
    # (A summary without its deadline, which it cannot be shown without, asks the deadline.)
    ask = {S.TITLE: ask_title, S.SOURCE: ask_source, S.REQUIREMENT: ask_requirement, S.LEADER: ask_leader,
           S.DUE: ask_due, S.CHASE: ask_chase, S.CONFIRM: ask_due}[step]
    return await ask(update, ctx)


def _answers(rows: DraftRows) -> int:
    return count_set(rows.get(TASK, {}), "title", "source", "requirement", "units", "leader_id", "due_at",
                     "chase_plan")


def _reported(rows: DraftRows) -> int:
    return count_set(rows.get(REPORT, {}), "text", "files")


def _asked(rows: DraftRows) -> int:
    return count_set(rows.get(EXTEND, {}), "due")


def _returned(rows: DraftRows) -> int:
    return int("aid" in rows.get(RETURN, {})) + count_set(rows.get(RETURN, {}), "reason")  # 退回 pressed: a decision


def dialogs() -> list[DialogKind]:
    task = {S.TITLE, S.SOURCE, S.REQUIREMENT, S.UNITS, S.LEADER, S.DUE, S.CHASE, S.CONFIRM}
    return [
        DialogKind("task", frozenset(task), (TASK,), (start_task,), _answers, resume),
        DialogKind("task_report", frozenset({S.REPORT_TEXT, S.REPORT_FILES}), (REPORT,),
                   (start_progress_command, start_report_button), _reported, resume_work),
        DialogKind("task_ext", frozenset({S.EXT_DUE, S.EXT_REASON}), (EXTEND,), (start_extension,), _asked,
                   resume_work),
        DialogKind("task_return", frozenset({S.RET_REASON, S.RET_DUE}), (RETURN,), (start_return,), _returned,
                   resume_work),
    ]


def register(app: Application) -> None:  # type: ignore[type-arg]
    supervision_views.register(app)
