"""/holiday (or 节假日离京报备 in /leave's first question): a district leader reports a trip out of
the city over a statutory holiday. A report, not a request: no approval buttons anywhere.

departure (今天/明天 or typed) → return → destination → contact while away → summary with
报备 / 取消. Every answer is committed to the drafts table; the dialogue state is persisted.
"""

from __future__ import annotations

from enum import IntEnum

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain import leave as dates
from bot.domain.holiday_report import HolidayDraft
from bot.domain.leave import LeaveInputError
from bot.domain.members import Action
from bot.fmt import esc
from bot.services import holiday as svc
from bot.services import leave_text as txt
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
    stray_handler,
    text_into_draft,
)

KIND = svc.DRAFT_KIND
PREFIX = cb.HOLIDAY  # hr:d:today|tomorrow, hr:ok, hr:x — inside the dialogue only
LEAVE_KIND_BUTTON = "l:k:holiday"  # offered in /leave's first question to those who report
MAX_DESTINATION, MAX_CONTACT = 100, 100


class S(IntEnum):
    START = 1100
    END = 1101
    DESTINATION = 1102
    CONTACT = 1103
    CONFIRM = 1104


_slot = DraftSlot(KIND, HolidayDraft.from_dict)
_draft, _save = _slot.load, _slot.save


def _days(ctx: DeskContext) -> dict[str, object]:
    return cb.keyboard([[(ctx.t("holiday.btn.today"), f"{PREFIX}:d:today"),
                         (ctx.t("holiday.btn.tomorrow"), f"{PREFIX}:d:tomorrow")]])


async def start_report(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /holiday, or the button in /leave's first question."""
    await answer_query(update)
    member = await guard_private(update, ctx, Action.REPORT_HOLIDAY)
    if member is None:
        return ConversationHandler.END
    await _save(update, ctx, HolidayDraft())
    return await ask_start(update, ctx)


async def ask_start(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("holiday.ask_start", city=esc(ctx.services.config.general.city)), _days(ctx))
    return S.START


async def ask_end(update: Update, ctx: DeskContext, draft: HolidayDraft) -> S:
    assert draft.start is not None
    await say(update, ctx, ctx.t("holiday.ask_end", start=txt.start_text(ctx.services, draft.start)), _days(ctx))
    return S.END


async def _read_day(update: Update, ctx: DeskContext, ref: dates.DayPoint | None = None) -> dates.DayPoint | None:
    """A 今天/明天 button or a typed date; explains and returns None when unreadable."""
    s = ctx.services
    today = s.now().astimezone(s.config.tz).date()
    got = await button_or_text(update, ctx, limit=40, hint=ctx.t("leave.err_bad_date"))
    if got is None:
        return None
    if got.pressed:
        word = {f"{PREFIX}:d:today": "今天", f"{PREFIX}:d:tomorrow": "明天"}.get(got.data)
        return dates.parse_day(word, today) if word else None
    try:
        return dates.parse_day(got.text, today, ref.day if ref else None)
    except LeaveInputError as err:
        await say(update, ctx, ctx.t(f"leave.err_{err.code}", **err.kw))
        return None


async def got_start(update: Update, ctx: DeskContext) -> S:
    """Reads the day of departure (a past one is taken: the report is then late)."""
    point = await _read_day(update, ctx)
    if point is None:
        return S.START
    draft = await _draft(update, ctx)
    draft.start_at, draft.end_at = point.start(ctx.services.config.tz).isoformat(), None
    await _save(update, ctx, draft)
    return await ask_end(update, ctx, draft)


async def got_end(update: Update, ctx: DeskContext) -> S:
    """Reads the day of return; refuses a trip with no statutory holiday, an overlap, a trip over."""
    s = ctx.services
    draft = await _draft(update, ctx)
    start = draft.start
    member = await guard(update, ctx, Action.REPORT_HOLIDAY)
    if start is None or member is None:
        await say(update, ctx, ctx.t("holiday.draft_lost"))
        return S.END
    point = await _read_day(update, ctx, dates.DayPoint(start.astimezone(s.config.tz).date()))
    if point is None:
        return S.END
    end = point.end(s.config.tz)
    try:
        svc.check_dates(s, start, end)
        await svc.check_overlap(s, s.db.read, member, start, end)
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
        return S.END
    draft.end_at = end.isoformat()
    await _save(update, ctx, draft)
    await say(update, ctx, ctx.t("holiday.ask_destination"))
    return S.DESTINATION


async def got_destination(update: Update, ctx: DeskContext) -> S:
    """Reads where to."""
    if await text_into_draft(update, ctx, _slot, "destination", limit=MAX_DESTINATION) is None:
        return S.DESTINATION
    await say(update, ctx, ctx.t("holiday.ask_contact"))
    return S.CONTACT


async def got_contact(update: Update, ctx: DeskContext) -> S:
    """Reads how to reach the leader while away; shows the summary."""
    draft = await text_into_draft(update, ctx, _slot, "contact", limit=MAX_CONTACT)
    if draft is None:
        return S.CONTACT
    return await show_summary(update, ctx, draft)


async def confirm_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("holiday.btn.submit"), f"{PREFIX}:ok"), (ctx.t("holiday.btn.cancel"), f"{PREFIX}:x")]])


async def show_summary(update: Update, ctx: DeskContext, draft: HolidayDraft) -> S:
    """The report as the offices will read it, with 报备 / 取消."""
    member = await guard(update, ctx)
    s = ctx.services
    if member is None or draft.start is None or draft.end is None:
        return S.CONTACT
    try:
        names = svc.check_dates(s, draft.start, draft.end)
    except ServiceError as err:  # a day passed since the dates were typed: say so
        await say(update, ctx, ctx.t(err.key, **err.kw))
        return S.CONTACT
    facts = ctx.t("holiday.facts", name=esc(member.name), unit=esc(s.unit_name(member.unit_code)),
                  period=txt.period_text(s, draft.start, draft.end), destination=esc(draft.destination),
                  contact=esc(draft.contact), holidays=esc(svc.names_text(s, names)))
    step = await confirm_buttons(update, ctx)
    await say(update, ctx, ctx.t("holiday.summary", facts=facts), cb.keyboard(step.rows))
    return S.CONFIRM


async def confirm(update: Update, ctx: DeskContext) -> S | int:
    """报备 delivers it; 取消 drops the draft."""
    await answer_query(update)
    assert update.effective_user is not None
    if (done := await done_before(update, ctx, KIND)) is not None:  # committed, then a crash: not twice
        await drop_drafts(ctx, update.effective_user.id)
        await say(update, ctx, ctx.t("holiday.already_submitted", id=done))
        return ConversationHandler.END
    if callback_data(update) == f"{PREFIX}:x":
        await drop_drafts(ctx, update.effective_user.id)
        await say(update, ctx, ctx.t("core.cancelled"))
        return ConversationHandler.END
    member = await guard(update, ctx, Action.REPORT_HOLIDAY)
    if member is None:
        return ConversationHandler.END
    try:  # late or not by when 报备 was pressed; the answer goes out with the report
        await svc.submit(ctx.services, member, await _draft(update, ctx), at=await acted_at(update, ctx))
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
        return ConversationHandler.END if err.key == "holiday.draft_lost" else S.CONFIRM
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


stray = stray_handler("holiday.answer_above")
TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [CommandHandler("holiday", start_report)]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = [CallbackQueryHandler(stray, pattern=rf"^{PREFIX}:"), MessageHandler(~filters.COMMAND, stray)]
    days = rf"^{PREFIX}:d:(today|tomorrow)$"
    return {
        S.START: [CallbackQueryHandler(got_start, pattern=days), MessageHandler(TEXT, got_start), *other],
        S.END: [CallbackQueryHandler(got_end, pattern=days), MessageHandler(TEXT, got_end), *other],
        S.DESTINATION: [MessageHandler(TEXT, got_destination), *other],
        S.CONTACT: [MessageHandler(TEXT, got_contact), *other],
        S.CONFIRM: [CallbackQueryHandler(confirm, pattern=rf"^{PREFIX}:(ok|x)$"), other[0],
                    MessageHandler(~filters.COMMAND, buttons_only(confirm_buttons))],
    }


# --- what the dialogue map needs to keep a half-written report (handlers/dialogs.py) ----------


def _answers(rows: DraftRows) -> int:
    return count_set(rows.get(KIND, {}), "start_at", "end_at", "destination", "contact")


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again, every answer kept."""
    draft = await _draft(update, ctx)
    if state == S.END and draft.start is not None:
        return await ask_end(update, ctx, draft)
    if state == S.DESTINATION:
        await say(update, ctx, ctx.t("holiday.ask_destination"))
        return S.DESTINATION
    if state == S.CONTACT:
        await say(update, ctx, ctx.t("holiday.ask_contact"))
        return S.CONTACT
    if state == S.CONFIRM and draft.complete():
        return await show_summary(update, ctx, draft)
    return await ask_start(update, ctx)


def dialogs() -> list[DialogKind]:
    return [DialogKind("holiday", frozenset(S), (KIND,), (start_report,), _answers, resume)]
