"""/record (📞 登记事件): the duty room puts an event on record for a unit (代报/登记).

unit (button or typed) → source (button) → [phone report: caller's name → caller's number]
→ when the office learnt of it (the call) → then the /report dialogue's own steps, answered
by the duty officer: category → time → place → casualties → description → summary → 确认上报.
The draft is the /report draft with the record's fields set (bot/domain/report_draft.py), so
every later step, parser and hint is the one /report uses.
"""

from __future__ import annotations

import re
from enum import IntEnum

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.incidents import Incident
from bot.domain.members import Action
from bot.domain.record import RECORD_SOURCES, Source, match_unit, parse_phone, parse_source
from bot.domain.report_draft import ReportDraft
from bot.fmt import esc
from bot.i18n import LANGUAGES, Texts
from bot.services import incident_text as txt
from bot.services.incident_record import owed_lines
from handlers import report
from handlers.common import (
    ButtonStep,
    DialogKind,
    DraftRows,
    answer_query,
    buttons_only,
    callback_data,
    count_set,
    guard,
    is_private,
    load_drafts,
    read_text,
    say,
)

MAX_CALLER = 40
REPORTING_KINDS = ("street", "bureau")  # the unit buttons; any configured unit may be typed


class S(IntEnum):
    """/record's own first steps; from the category on, /report's states (100s) take over."""

    UNIT = 150
    SOURCE = 151
    CALLER = 152
    PHONE = 153
    OFFICE_AT = 154


async def _step(update: Update, ctx: DeskContext, state: S, text: str, markup: dict[str, object] | None = None,
                unsaved: ReportDraft | None = None) -> S:
    """Ask one step's question, noted and saved as /report's steps are (see report._asking, _at)."""
    await report._asking(update, ctx, state, unsaved)
    await say(update, ctx, text, markup)
    await report._at(update, ctx, state)
    return state


async def ask_unit(update: Update, ctx: DeskContext) -> S:
    units = [u for u in ctx.services.config.units if u.kind in REPORTING_KINDS]
    buttons = [(ctx.services.unit_name(u.code), f"rc:u:{u.code}") for u in units]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    return await _step(update, ctx, S.UNIT, ctx.t("record.ask_unit"), cb.keyboard(rows))


async def source_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    buttons = [(ctx.t(f"record.source.{src.value}"), f"rc:s:{src.value}") for src in RECORD_SOURCES]
    return ButtonStep([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


async def ask_source(update: Update, ctx: DeskContext, unsaved: ReportDraft | None = None) -> S:
    rows = (await source_buttons(update, ctx)).rows
    return await _step(update, ctx, S.SOURCE, ctx.t("record.ask_source"), cb.keyboard(rows), unsaved)


async def ask_caller(update: Update, ctx: DeskContext, unsaved: ReportDraft | None = None) -> S:
    return await _step(update, ctx, S.CALLER, ctx.t("record.ask_caller", limit=MAX_CALLER), unsaved=unsaved)


async def ask_phone(update: Update, ctx: DeskContext, unsaved: ReportDraft | None = None) -> S:
    return await _step(update, ctx, S.PHONE, ctx.t("record.ask_phone"), unsaved=unsaved)


async def ask_office_at(update: Update, ctx: DeskContext, unsaved: ReportDraft | None = None) -> S:
    draft = unsaved or await report._draft(update, ctx)
    key = "record.ask_call_time" if draft.source == Source.PHONE else "record.ask_office_at"
    row = [(ctx.t("incident.btn.now"), "r:t:now"), (ctx.t("incident.btn.m30"), "r:t:m30"),
           (ctx.t("incident.btn.h1"), "r:t:h1")]
    return await _step(update, ctx, S.OFFICE_AT, ctx.t(key), cb.keyboard([row]), unsaved)


# --- answers ----------------------------------------------------------------------------


async def start_record(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /record or the 📞 登记事件 button (duty officers and directors)."""
    member = await guard(update, ctx, Action.RECORD_INCIDENT)
    if member is None:
        return ConversationHandler.END
    if not is_private(update):
        await say(update, ctx, ctx.t("core.private_only"))
        return ConversationHandler.END
    await report._save(update, ctx, ReportDraft())
    await report._at(update, ctx, S.UNIT)  # as /report's first step: saved before it is asked
    return await ask_unit(update, ctx)


async def got_unit(update: Update, ctx: DeskContext) -> S:
    """Reads the unit: a button, or its name (or code) typed."""
    s = ctx.services
    data = callback_data(update)
    if data:
        code = data.removeprefix("rc:u:")
        if s.config.unit(code) is None:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
            return S.UNIT
        await answer_query(update)
    else:
        text = await read_text(update, ctx, limit=40, hint=ctx.t("record.unit_hint"))
        if text is None:
            return S.UNIT
        found = match_unit(text, [(u.code, u.name) for u in s.config.units])
        if found is None:
            names = ctx.t("core.list_sep").join(esc(u.name) for u in s.config.units)
            await say(update, ctx, ctx.t("record.unit_unknown_typed", unit=esc(text), units=names))
            return S.UNIT
        code = found
    draft = await report._draft(update, ctx)
    draft.unit_code = code
    await say(update, ctx, ctx.t("record.unit_chosen", unit=esc(s.unit_name(code))))
    return await ask_source(update, ctx, draft)


async def got_source(update: Update, ctx: DeskContext) -> S:
    """Reads how the office learnt of it."""
    source = parse_source(callback_data(update).removeprefix("rc:s:"))
    if source is None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.SOURCE
    await answer_query(update, ctx.t(f"record.source.{source.value}"))
    draft = await report._draft(update, ctx)
    draft.source = source.value
    if source is Source.PHONE:
        return await ask_caller(update, ctx, draft)
    draft.caller_name = draft.caller_phone = ""
    return await ask_office_at(update, ctx, draft)


async def got_caller(update: Update, ctx: DeskContext) -> S:
    """Reads who called (name, and post if given)."""
    text = await read_text(update, ctx, limit=MAX_CALLER)
    if text is None:
        return S.CALLER
    draft = await report._draft(update, ctx)
    draft.caller_name = text
    return await ask_phone(update, ctx, draft)


async def got_phone(update: Update, ctx: DeskContext) -> S:
    """Reads the caller's number; anything that is not a phone number gets a hint."""
    text = await read_text(update, ctx, limit=40, hint=ctx.t("record.phone_bad"))
    if text is None:
        return S.PHONE
    phone = parse_phone(text)
    if phone is None:
        await say(update, ctx, ctx.t("record.phone_bad"))
        return S.PHONE
    draft = await report._draft(update, ctx)
    draft.caller_phone = phone
    return await ask_office_at(update, ctx, draft)


async def got_office_at(update: Update, ctx: DeskContext) -> S:
    """Reads when the office learnt of it (the call); then /report's questions."""
    when = await report.parse_time_answer(update, ctx, S.OFFICE_AT)
    if when is None:
        return S.OFFICE_AT
    draft = await report._draft(update, ctx)
    draft.office_at = when
    if draft.editing:  # changed from the summary's 修改: back to it
        draft.editing = False
        return await report.show_summary(update, ctx, draft, save=True)  # type: ignore[return-value]
    await report._save(update, ctx, draft)
    return await report.ask_category(update, ctx)  # type: ignore[return-value]


def summary_lines(ctx: DeskContext, draft: ReportDraft) -> str:
    """What the summary adds for a record: the source, the caller, when the office learnt of it."""
    source = ctx.t(f"record.source.{draft.source}")
    if draft.source == Source.PHONE:
        source += ctx.t("record.caller", name=esc(draft.caller_name), phone=esc(draft.caller_phone))
    key = "record.summary_phone" if draft.source == Source.PHONE else "record.summary_other"
    return ctx.t(key, source=source, time=ctx.services.fmt.dt(draft.office_at_time))


async def confirmed(update: Update, ctx: DeskContext, inc: Incident) -> None:
    """After 确认上报 of a record: the number, what it counts as, what the unit now owes."""
    s = ctx.services
    key = "record.confirmed_phone" if inc.source == Source.PHONE else "record.confirmed_other"
    text: str = ctx.t(key, number=inc.number, unit=esc(s.unit_name(inc.unit_code)), deadlines=owed_lines(s, inc))
    flag = txt.first_late_flag(s, inc)
    if flag:
        text += "\n" + flag.strip()
    await say(update, ctx, text, cb.keyboard([[(ctx.t("incident.btn.detail"), cb.incident(cb.DETAIL, inc.id))]]))


# --- wiring -----------------------------------------------------------------------------


def menu_pattern() -> re.Pattern[str]:
    labels = {Texts(lang)("core.menu.record") for lang in LANGUAGES}
    return re.compile("^(" + "|".join(re.escape(x) for x in labels) + ")$")


TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("record", start_record),
        MessageHandler(filters.ChatType.PRIVATE & filters.Regex(menu_pattern()), start_record),
    ]


def _stray(state: S) -> CallbackQueryHandler:  # type: ignore[type-arg]
    """A button of another step: say so, ask this step again."""
    async def stray(update: Update, ctx: DeskContext) -> S:
        await report.wrong_kind(update, ctx)
        await ASK_AGAIN[state](update, ctx)
        return state

    return CallbackQueryHandler(stray, pattern=r"^(r|rc):")


ASK_AGAIN = {S.UNIT: ask_unit, S.SOURCE: ask_source, S.CALLER: ask_caller, S.PHONE: ask_phone,
             S.OFFICE_AT: ask_office_at}
report.EXTRA_STEPS.update({int(k): v for k, v in ASK_AGAIN.items()})


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = MessageHandler(~filters.COMMAND, report.wrong_kind)
    answer = report._answer_for
    return {
        S.UNIT: [CallbackQueryHandler(got_unit, pattern=r"^rc:u:[a-z0-9_]{1,32}$"),
                 MessageHandler(TEXT, answer(S.UNIT, got_unit)), _stray(S.UNIT), other],
        S.SOURCE: [CallbackQueryHandler(got_source, pattern=r"^rc:s:[a-z]{1,16}$"), _stray(S.SOURCE),
                   MessageHandler(~filters.COMMAND, buttons_only(source_buttons))],
        S.CALLER: [MessageHandler(TEXT, answer(S.CALLER, got_caller)), _stray(S.CALLER), other],
        S.PHONE: [MessageHandler(TEXT, answer(S.PHONE, got_phone)), _stray(S.PHONE), other],
        S.OFFICE_AT: [CallbackQueryHandler(got_office_at, pattern=r"^r:t:(now|m30|h1)$"),
                      MessageHandler(TEXT, answer(S.OFFICE_AT, got_office_at)), _stray(S.OFFICE_AT), other],
    }


# --- what the dialogue map needs to keep a half-written record (handlers/dialogs.py) ----------


def _recording(rows: DraftRows) -> bool:
    """A /report draft written by the duty room (its unit chosen): /record's, in /report's steps too."""
    d = ReportDraft.from_dict(rows.get(report.KIND, {}))
    return d.unit_code is not None or d.recording


def _answered(rows: DraftRows) -> int:
    """The report's answers plus the record's own (unit, source, caller, number, time of the call)."""
    d = ReportDraft.from_dict(rows.get(report.KIND, {})).to_dict()
    return report._answered(rows) + count_set(d, "unit_code", "source", "caller_name", "caller_phone", "office_at")


def _noted_step(rows: DraftRows) -> int | None:
    """The step whose question went out last (the `_asking` note), once the record has a unit."""
    asking = rows.get(report.ASKING, {}).get("state")
    if not isinstance(asking, int) or not _recording(rows):
        return None
    return asking if asking in ASK_AGAIN or asking in report.S._value2member_map_ else None


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again, every answer kept: one of the record's own, or /report's."""
    assert update.effective_user is not None
    asking = _noted_step(await load_drafts(ctx, update.effective_user.id, (report.ASKING, report.KIND)))
    step = asking if asking is not None else state
    if step in ASK_AGAIN:
        return await ASK_AGAIN[S(step)](update, ctx)
    return await report.resume(update, ctx, step)


def dialogs() -> list[DialogKind]:
    # Emergency answers, like /report's: never set aside; its later steps are /report's own.
    return [DialogKind("record", frozenset(S), (report.KIND, report.ASKING), (start_record,), _answered, resume,
                       urgent=True, step_of=_noted_step, borrows=frozenset(report.S), mine=_recording)]
