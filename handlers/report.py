"""/report: the first report of an emergency, from a phone, in at most five answers.

category (button) → occurred time (button) → place (GPS button) → casualties (button)
→ description (text) → summary with 确认上报 / 修改 / 取消. Every answer is committed to
the drafts table; the dialogue state is persisted, so a restart resumes at the step.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.casualties import CasualtyInputError, is_lone_number, parse_casualties, parse_count
from bot.domain.incidents import Category
from bot.domain.members import Action
from bot.domain.report_draft import MAX_DESCRIPTION, MAX_PHOTOS, MAX_PLACE, ReportDraft
from bot.domain.timeparse import TimeBounds, TimeInputError, parse_event_time
from bot.fmt import esc
from bot.i18n import LANGUAGES, Texts
from bot.services import incident_text as txt
from bot.services.errors import ServiceError
from bot.services.incidents import file_first_report, filed_as
from handlers.common import (
    ButtonStep,
    DialogKind,
    DraftRows,
    DraftSlot,
    Rows,
    acted_at,
    answer_query,
    buttons_only,
    callback_data,
    count_set,
    guard,
    is_private,
    load_draft,
    load_drafts,
    read_text,
    refuse,
    save_drafts,
    say,
    sent_time,
)

KIND = "report"
# Refusals at 确认上报 that the person fixes with 修改 (the dialogue stays at the summary).
FIXED_AT_SUMMARY = frozenset({"record.time_office_before_occurred", "record.time_learnt_after_call"})


class S(IntEnum):
    CATEGORY = 100
    OCCURRED = 101
    LEARNT = 102
    PLACE = 103
    CASUALTIES = 104
    INJURED = 105
    MISSING = 106
    DESCRIPTION = 107
    CONFIRM = 108
    EDIT_FIELD = 109


_data = callback_data


_slot = DraftSlot(KIND, ReportDraft.from_dict)
_draft, _save = _slot.load, _slot.save


def _kb(rows: Rows) -> dict[str, object]:
    return cb.keyboard(rows)


# --- questions --------------------------------------------------------------------------

ASKING = "report.asking"  # drafts row: the step whose question is being (or was last) sent
# The reporter's confirmation waits at most this long for the alerts' direct sends: ample for
# their requests to be written (a few ms), short enough that a slow Telegram never holds up
# the bot handling this person's next update.
ALERTS_FIRST_S = 0.05


async def _asking(update: Update, ctx: DeskContext, state: IntEnum, unsaved: ReportDraft | None = None) -> None:
    """Before a question goes out: note it. If the bot dies after the question was delivered but
    before the step was saved (`_at`), the restarted bot sees the note and does not take the
    person's answer to the new question as one to the old (see `_answer_for`).

    `unsaved`: the draft holding the previous answer, saved in the same statement (one trip to
    the database thread instead of two; a step's answer is then never saved without the note)."""
    assert update.effective_user is not None
    payloads = {ASKING: {"state": int(state)}}
    if unsaved is not None:
        payloads[KIND] = unsaved.to_dict()
    await save_drafts(ctx, update.effective_user.id, payloads)


# The steps /record asks before these (unit, source, caller, time of the call: handlers/record.py),
# by state, each with the function that asks it again.
EXTRA_STEPS: dict[int, Callable[[Update, DeskContext], Awaitable[object]]] = {}


def _answer_for(state: IntEnum, fn: Any) -> Any:
    """A typed answer in `state`, unless a later question may already be on the person's screen:
    then that question is asked again and the text is not taken for this step's answer."""
    async def read(update: Update, ctx: DeskContext) -> IntEnum | int:
        assert update.effective_user is not None
        # The step's draft comes along in the same trip: the answer's handler reads it next.
        asking = (await load_drafts(ctx, update.effective_user.id, (ASKING, KIND)))[ASKING].get("state")
        if isinstance(asking, int) and asking != int(state) and asking in EXTRA_STEPS:
            await say(update, ctx, ctx.t("incident.answer_above"))
            await EXTRA_STEPS[asking](update, ctx)
            return asking
        if isinstance(asking, int) and asking != int(state) and asking in S._value2member_map_:
            await say(update, ctx, ctx.t("incident.answer_above"))
            await _ask_again(update, ctx, S(asking))
            return S(asking)
        return await fn(update, ctx)  # type: ignore[no-any-return]

    read.__doc__ = fn.__doc__
    return read


async def _at(update: Update, ctx: DeskContext, state: IntEnum) -> None:
    """Save the step as soon as its question is delivered. PTB saves the state only after the
    handler returns (and the update's other handlers ran); a crash in between would resume one
    step behind what the person sees. Saved *after* the question, never before: a step saved
    but never asked would take a repeated answer to the previous question as its own."""
    from handlers import DIALOG_NAME

    chat, user, persistence = update.effective_chat, update.effective_user, ctx.application.persistence
    if chat is not None and user is not None and persistence is not None:
        await persistence.update_conversation(DIALOG_NAME, (chat.id, user.id), int(state))


async def category_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    names = [(ctx.t(f"incident.cat.{c.value}"), f"r:cat:{c.value}") for c in Category]
    return ButtonStep([names[i:i + 2] for i in range(0, len(names), 2)])


async def ask_category(update: Update, ctx: DeskContext) -> S:
    await _asking(update, ctx, S.CATEGORY)
    await say(update, ctx, ctx.t("incident.ask_category"), _kb((await category_buttons(update, ctx)).rows))
    await _at(update, ctx, S.CATEGORY)
    return S.CATEGORY


async def ask_occurred(update: Update, ctx: DeskContext, unsaved: ReportDraft | None = None) -> S:
    row = [(ctx.t("incident.btn.now"), "r:t:now"), (ctx.t("incident.btn.m30"), "r:t:m30"),
           (ctx.t("incident.btn.h1"), "r:t:h1")]
    await _asking(update, ctx, S.OCCURRED, unsaved)
    await say(update, ctx, ctx.t("incident.ask_occurred"), _kb([row]))
    await _at(update, ctx, S.OCCURRED)
    return S.OCCURRED


async def ask_learnt(update: Update, ctx: DeskContext, draft: ReportDraft, *, save: bool = False) -> S:
    await _asking(update, ctx, S.LEARNT, draft if save else None)
    # On an event the office learnt of elsewhere, the unit's time of learning is unknown until it says.
    same = "record.btn.learnt_unknown" if draft.recording and draft.source != "phone" else "incident.btn.same_time"
    await say(update, ctx, ctx.t("incident.ask_learnt", occurred=ctx.services.fmt.dt(draft.occurred)),
              _kb([[(ctx.t(same), "r:t:same")]]))
    await _at(update, ctx, S.LEARNT)
    return S.LEARNT


async def ask_place(update: Update, ctx: DeskContext, unsaved: ReportDraft | None = None) -> S:
    keyboard = ReplyKeyboardMarkup([[KeyboardButton(ctx.t("incident.btn.location"), request_location=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    await _asking(update, ctx, S.PLACE, unsaved)
    await say(update, ctx, ctx.t("incident.ask_place"), keyboard)
    await _at(update, ctx, S.PLACE)
    return S.PLACE


async def ask_casualties(update: Update, ctx: DeskContext, unsaved: ReportDraft | None = None) -> S:
    row = [(ctx.t("incident.btn.no_casualties"), "r:cas:none"), (ctx.t("incident.btn.unknown"), "r:cas:unk")]
    await _asking(update, ctx, S.CASUALTIES, unsaved)
    await say(update, ctx, ctx.t("incident.ask_casualties"), _kb([row]))
    await _at(update, ctx, S.CASUALTIES)
    return S.CASUALTIES


async def ask_count(update: Update, ctx: DeskContext, state: S, unsaved: ReportDraft | None = None) -> S:
    key = "incident.ask_injured" if state is S.INJURED else "incident.ask_missing"
    await _asking(update, ctx, state, unsaved)
    await say(update, ctx, ctx.t(key), _kb([[(ctx.t("incident.btn.unknown"), "r:cnt:unk")]]))
    await _at(update, ctx, state)
    return state


async def ask_description(update: Update, ctx: DeskContext, unsaved: ReportDraft | None = None) -> S:
    await _asking(update, ctx, S.DESCRIPTION, unsaved)
    await say(update, ctx, ctx.t("incident.ask_description", limit=MAX_DESCRIPTION))
    await _at(update, ctx, S.DESCRIPTION)
    return S.DESCRIPTION


async def confirm_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    row = [(ctx.t("incident.btn.confirm"), "r:ok"), (ctx.t("incident.btn.edit"), "r:edit"),
           (ctx.t("incident.btn.cancel"), "r:x")]
    return ButtonStep([row], ctx.t("incident.confirm_note"))


async def edit_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    fields = ["occurred", "learnt", "place", "casualties", "description"]
    rows = [[(ctx.t(f"incident.btn.edit_{f}"), f"r:e:{f}") for f in fields[i:i + 3]] for i in (0, 3)]
    assert update.effective_user is not None
    if ReportDraft.from_dict(await load_draft(ctx, update.effective_user.id, KIND)).recording:
        rows[1].append((ctx.t("record.btn.edit_office"), "r:e:office"))  # /record: the time of the call
    return ButtonStep(rows)


async def ask_edit_field(update: Update, ctx: DeskContext) -> S:
    await _asking(update, ctx, S.EDIT_FIELD)
    await say(update, ctx, ctx.t("incident.ask_edit_field"), _kb((await edit_buttons(update, ctx)).rows))
    await _at(update, ctx, S.EDIT_FIELD)
    return S.EDIT_FIELD


async def show_summary(update: Update, ctx: DeskContext, draft: ReportDraft, *, save: bool = False) -> S:
    s = ctx.services
    occurred, learnt = draft.occurred, draft.learnt
    assert occurred is not None and learnt is not None and update.effective_user is not None
    member = await guard(update, ctx)
    unit = draft.unit_code or "" if draft.recording else member.unit_code if member else ""
    facts = txt.facts(s, unit_code=unit, category=draft.category or "other", occurred_at=occurred, learnt_at=learnt,
                      place=draft.place, latitude=draft.latitude, longitude=draft.longitude,
                      casualties=draft.casualties, description=draft.description)
    if draft.recording:
        from handlers.record import summary_lines

        facts += "\n" + summary_lines(ctx, draft)
    row = (await confirm_buttons(update, ctx)).rows[0]
    await _asking(update, ctx, S.CONFIRM, draft if save else None)
    await say(update, ctx, ctx.t("incident.summary", facts=facts, photos=len(draft.photos)), _kb([row]))
    await _at(update, ctx, S.CONFIRM)
    return S.CONFIRM


async def _next_after(update: Update, ctx: DeskContext, draft: ReportDraft, nxt: S) -> S:
    """After an answer: back to the summary when editing one field, else the next question. The
    draft with the answer is saved together with the next question's note (`_asking`)."""
    if draft.editing:
        draft.editing = False
        return await show_summary(update, ctx, draft, save=True)
    if nxt is S.PLACE:
        return await ask_place(update, ctx, draft)
    if nxt is S.CASUALTIES:
        return await ask_casualties(update, ctx, draft)
    if nxt is S.DESCRIPTION:
        return await ask_description(update, ctx, draft)
    return await show_summary(update, ctx, draft, save=True)


# --- answers ----------------------------------------------------------------------------


async def start_report(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /report or the 上报突发事件 button."""
    member = await guard(update, ctx, Action.REPORT_INCIDENT)
    if member is None:
        return ConversationHandler.END
    if not is_private(update):
        await say(update, ctx, ctx.t("core.private_only"))
        return ConversationHandler.END
    await _save(update, ctx, ReportDraft())
    # The first question has no earlier one whose repeated answer it could mistake for its own,
    # so its step is saved before it is asked as well: a bot killed after the question went out
    # but before `_at` otherwise had no dialogue at all, and answered every category pressed
    # after the restart with "button expired".
    await _at(update, ctx, S.CATEGORY)
    return await ask_category(update, ctx)


async def got_category(update: Update, ctx: DeskContext) -> S:
    """Reads the category button."""
    value = _data(update).removeprefix("r:cat:")
    if value not in {c.value for c in Category}:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.CATEGORY
    await answer_query(update, ctx.t(f"incident.cat.{value}"))
    draft = await _draft(update, ctx)
    draft.category = value
    return await ask_occurred(update, ctx, draft)


def _time_input(update: Update) -> str | None:
    data = _data(update)
    if data:
        return {"r:t:now": "刚刚", "r:t:m30": "30分钟前", "r:t:h1": "1小时前"}.get(data)
    msg = update.effective_message
    return msg.text if msg and msg.text else None


async def parse_time_answer(update: Update, ctx: DeskContext, state: IntEnum) -> str | None:
    """A time answered by button (刚刚 / 30分钟前 / 1小时前) or typed; ISO UTC, or None after a hint."""
    s = ctx.services
    await answer_query(update)
    raw = _time_input(update)
    if raw is None:
        await say(update, ctx, ctx.t("incident.time_bad_format"))
        return None
    bounds = TimeBounds(max_back=s.config.incident.max_backdate)
    try:
        # "刚刚", "30分钟前": from when the person said it, however late the bot got to it
        when = parse_event_time(raw[:64], sent_time(ctx), s.config.tz, bounds)
    except TimeInputError as err:
        await say(update, ctx, ctx.t(f"incident.time_{err.code}", days=bounds.max_back.days))
        return None
    return when.isoformat()


async def got_occurred(update: Update, ctx: DeskContext) -> S:
    """Reads when it happened (button or typed)."""
    when = await parse_time_answer(update, ctx, S.OCCURRED)
    if when is None:
        return S.OCCURRED
    draft = await _draft(update, ctx)
    draft.occurred_at = when
    if draft.learnt_at and draft.learnt_at < when:
        draft.learnt_at = None  # the learnt time cannot precede the event
    return await _next_after(update, ctx, draft, S.PLACE)


async def got_learnt(update: Update, ctx: DeskContext) -> S:
    """Reads when the unit learnt of it (default: when it happened)."""
    draft = await _draft(update, ctx)
    if _data(update) == "r:t:same":
        await answer_query(update)
        draft.learnt_at = None
    else:
        when = await parse_time_answer(update, ctx, S.LEARNT)
        if when is None:
            return S.LEARNT
        if draft.occurred_at and when < draft.occurred_at:
            occurred = ctx.services.fmt.dt(draft.occurred)
            await say(update, ctx, ctx.t("incident.learnt_before_occurred", occurred=occurred))
            return S.LEARNT
        draft.learnt_at = when
    draft.editing = True
    return await _next_after(update, ctx, draft, S.CONFIRM)


async def got_location(update: Update, ctx: DeskContext) -> S:
    """Reads the phone's location (keeps the coordinates)."""
    msg = update.effective_message
    assert msg is not None and msg.location is not None
    draft = await _draft(update, ctx)
    draft.latitude, draft.longitude = msg.location.latitude, msg.location.longitude
    await _save(update, ctx, draft)
    await say(update, ctx, ctx.t("incident.ask_place_text"), ReplyKeyboardRemove())
    return await _next_after(update, ctx, draft, S.CASUALTIES)


async def got_place_text(update: Update, ctx: DeskContext) -> S:
    """Reads the place as typed text."""
    text = await read_text(update, ctx, limit=MAX_PLACE, hint=ctx.t("incident.place_bad"))
    if text is None:
        return S.PLACE
    draft = await _draft(update, ctx)
    draft.place = text
    await _save(update, ctx, draft)
    await say(update, ctx, ctx.t("incident.place_saved", place=esc(text)), ReplyKeyboardRemove())
    return await _next_after(update, ctx, draft, S.CASUALTIES)


async def got_casualties(update: Update, ctx: DeskContext) -> S:
    """Reads deaths/injured/missing in one answer, or starts asking one by one."""
    draft = await _draft(update, ctx)
    data = _data(update)
    if data:
        await answer_query(update)
        text = {"r:cas:none": "无", "r:cas:unk": "暂不清楚"}.get(data)
        if text is None:
            return S.CASUALTIES
    else:
        got = await read_text(update, ctx, limit=100, hint=ctx.t("incident.casualties_bad"))
        if got is None:
            return S.CASUALTIES
        text = got
    if is_lone_number(text):
        try:
            draft.deaths = parse_count(text)
        except CasualtyInputError:
            await say(update, ctx, ctx.t("incident.count_bad"))
            return S.CASUALTIES
        return await ask_count(update, ctx, S.INJURED, draft)
    try:
        draft.set_casualties(parse_casualties(text))
    except CasualtyInputError:
        await say(update, ctx, ctx.t("incident.casualties_bad"))
        return S.CASUALTIES
    return await _next_after(update, ctx, draft, S.DESCRIPTION)


async def _got_count(update: Update, ctx: DeskContext, state: S) -> int | None | str:
    if _data(update):
        await answer_query(update)
        return None if _data(update) == "r:cnt:unk" else "bad"
    text = await read_text(update, ctx, limit=20, hint=ctx.t("incident.count_bad"))
    if text is None:
        return "skip"
    try:
        return parse_count(text)
    except CasualtyInputError:
        await say(update, ctx, ctx.t("incident.count_bad"))
        return "skip"


async def got_injured(update: Update, ctx: DeskContext) -> S:
    """Reads the number injured."""
    n = await _got_count(update, ctx, S.INJURED)
    if isinstance(n, str):
        return S.INJURED
    draft = await _draft(update, ctx)
    draft.injured = n
    return await ask_count(update, ctx, S.MISSING, draft)


async def got_missing(update: Update, ctx: DeskContext) -> S:
    """Reads the number missing."""
    n = await _got_count(update, ctx, S.MISSING)
    if isinstance(n, str):
        return S.MISSING
    draft = await _draft(update, ctx)
    draft.missing = n
    return await _next_after(update, ctx, draft, S.DESCRIPTION)


async def got_description(update: Update, ctx: DeskContext) -> S:
    """Reads the short description (a photo with a caption counts as both)."""
    msg = update.effective_message
    draft = await _draft(update, ctx)
    if msg is not None and msg.photo:
        if len(draft.photos) < MAX_PHOTOS:
            draft.photos.append(msg.photo[-1].file_id)
        if not msg.caption:
            await _save(update, ctx, draft)
            await say(update, ctx, ctx.t("incident.photo_added", count=len(draft.photos)))
            return await ask_description(update, ctx)
        draft.description = msg.caption.strip()[:MAX_DESCRIPTION]
    else:
        text = await read_text(update, ctx, limit=MAX_DESCRIPTION)
        if text is None:
            return S.DESCRIPTION
        draft.description = text
    return await _next_after(update, ctx, draft, S.CONFIRM)


async def got_photo(update: Update, ctx: DeskContext) -> S:
    """At the summary, photos are attached."""
    msg = update.effective_message
    assert msg is not None and msg.photo
    draft = await _draft(update, ctx)
    if len(draft.photos) >= MAX_PHOTOS:
        await say(update, ctx, ctx.t("incident.photo_limit", limit=MAX_PHOTOS))
        return S.CONFIRM
    draft.photos.append(msg.photo[-1].file_id)
    await _save(update, ctx, draft)
    await say(update, ctx, ctx.t("incident.photo_added", count=len(draft.photos)))
    return S.CONFIRM


async def confirm(update: Update, ctx: DeskContext) -> S | int:
    """确认上报 / 修改 / 取消."""
    data = _data(update)
    if data == "r:x":
        await answer_query(update)
        from handlers.start import cancel

        return await cancel(update, ctx)
    if data == "r:edit":
        await answer_query(update)
        return await ask_edit_field(update, ctx)
    if data != "r:ok":
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.CONFIRM
    assert update.effective_user is not None
    raw = await load_draft(ctx, update.effective_user.id, KIND)
    draft = ReportDraft.from_dict(raw)
    inc = await filed_as(ctx.services, raw)
    # /record's draft is the duty room's (代报/登记); /report's the unit's own.
    recording = inc.recorded if inc is not None else draft.recording
    member = await guard(update, ctx, Action.RECORD_INCIDENT if recording else Action.REPORT_INCIDENT)
    if member is None:
        return ConversationHandler.END
    if inc is None:  # (not None: pressed again after a crash; it was filed, say so again)
        try:
            if draft.recording:
                from bot.services.incident_record import file_record

                inc = await file_record(ctx.services, member, draft)
            else:
                inc = await file_first_report(ctx.services, member, draft, at=await acted_at(update, ctx))
        except ServiceError as err:
            await refuse(update, ctx, err)
            # Times that contradict each other are corrected with 修改; anything else ends the dialogue.
            return S.CONFIRM if err.key in FIXED_AT_SUMMARY else ConversationHandler.END
        if ctx.deps.sender is not None:  # the office's alerts go before the reporter's own answer
            await ctx.deps.sender.settle(ALERTS_FIRST_S)
    await answer_query(update)
    if inc.recorded:
        from handlers.record import confirmed

        await confirmed(update, ctx, inc)
        return ConversationHandler.END
    # The draft row now only says "filed as #id" and stays until the next /report: should the
    # confirmation below be lost in a crash, 确认上报 pressed again shows it instead of filing again.
    s = ctx.services
    lines = [ctx.t("incident.deadline_line", stage=ctx.t(f"incident.stage.{r.stage}"), due=s.fmt.dt(r.due_at))
             for r in inc.stages if r.filed_at is None]
    text: str = ctx.t("incident.confirmed", number=inc.number, learnt=s.fmt.dt(inc.learnt_at),
                      deadlines="\n".join(lines))
    first = inc.stage(inc.stages[0].stage)
    if first is not None and first.delay:
        text += "\n" + ctx.t("incident.first_late", delay=s.fmt.dur(first.delay))
    await say(update, ctx, text, txt.unit_keyboard(s, inc))
    return ConversationHandler.END


async def choose_edit(update: Update, ctx: DeskContext) -> S:
    """Which field to change."""
    field = _data(update).removeprefix("r:e:")
    await answer_query(update)
    draft = await _draft(update, ctx)
    draft.editing = True
    if field == "occurred":
        return await ask_occurred(update, ctx, draft)
    if field == "learnt":
        return await ask_learnt(update, ctx, draft, save=True)
    if field == "place":
        return await ask_place(update, ctx, draft)
    if field == "casualties":
        return await ask_casualties(update, ctx, draft)
    if field == "description":
        return await ask_description(update, ctx, draft)
    if field == "office" and draft.recording:
        from handlers.record import ask_office_at

        return await ask_office_at(update, ctx, draft)  # type: ignore[return-value]
    return await show_summary(update, ctx, draft, save=True)


async def wrong_kind(update: Update, ctx: DeskContext) -> None:
    """Media or a stray button where text or a specific button was asked: explain, stay."""
    await answer_query(update, ctx.t("core.stale_button") if update.callback_query else None)
    if update.effective_message is not None and update.callback_query is None:
        await say(update, ctx, ctx.t("incident.answer_above"))


def menu_pattern() -> re.Pattern[str]:
    labels = {Texts(lang)("core.menu.report") for lang in LANGUAGES}
    return re.compile("^(" + "|".join(re.escape(x) for x in labels) + ")$")


TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("report", start_report),
        MessageHandler(filters.ChatType.PRIVATE & filters.Regex(menu_pattern()), start_report),
    ]


async def _ask_again(update: Update, ctx: DeskContext, state: S) -> None:
    """The question of `state`, shown again (after a button of an earlier question was pressed)."""
    if state in (S.LEARNT, S.CONFIRM):
        draft = await _draft(update, ctx)
        if draft.occurred is None or (state is S.CONFIRM and not draft.complete()):
            return
        await (ask_learnt(update, ctx, draft) if state is S.LEARNT else show_summary(update, ctx, draft))
    elif state in (S.INJURED, S.MISSING):
        await ask_count(update, ctx, state)
    elif state is S.EDIT_FIELD:
        await ask_edit_field(update, ctx)
    else:
        ask = {S.CATEGORY: ask_category, S.OCCURRED: ask_occurred, S.PLACE: ask_place,
               S.CASUALTIES: ask_casualties, S.DESCRIPTION: ask_description}.get(state)
        if ask is not None:
            await ask(update, ctx)


def _stray_button(state: S) -> CallbackQueryHandler:  # type: ignore[type-arg]
    """A report button of another step (e.g. pressed again after a crash): say so, ask this step again."""
    async def stray(update: Update, ctx: DeskContext) -> S:
        await wrong_kind(update, ctx)
        await _ask_again(update, ctx, state)
        return state

    return CallbackQueryHandler(stray, pattern=r"^r:")


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = MessageHandler(~filters.COMMAND, wrong_kind)
    stray = [other]  # + _stray_button(state), per state below
    return {
        S.CATEGORY: [CallbackQueryHandler(got_category, pattern=r"^r:cat:"), _stray_button(S.CATEGORY),
                     MessageHandler(~filters.COMMAND, buttons_only(category_buttons))],
        S.OCCURRED: [CallbackQueryHandler(got_occurred, pattern=r"^r:t:(now|m30|h1)$"),
                     MessageHandler(TEXT, _answer_for(S.OCCURRED, got_occurred)), _stray_button(S.OCCURRED), *stray],
        S.LEARNT: [CallbackQueryHandler(got_learnt, pattern=r"^r:t:"),
                   MessageHandler(TEXT, _answer_for(S.LEARNT, got_learnt)), _stray_button(S.LEARNT), *stray],
        S.PLACE: [MessageHandler(filters.LOCATION, got_location),
                  MessageHandler(TEXT, _answer_for(S.PLACE, got_place_text)), _stray_button(S.PLACE), *stray],
        S.CASUALTIES: [CallbackQueryHandler(got_casualties, pattern=r"^r:cas:"),
                       MessageHandler(TEXT, _answer_for(S.CASUALTIES, got_casualties)), _stray_button(S.CASUALTIES),
                       *stray],
        S.INJURED: [CallbackQueryHandler(got_injured, pattern=r"^r:cnt:"),
                    MessageHandler(TEXT, _answer_for(S.INJURED, got_injured)), _stray_button(S.INJURED), *stray],
        S.MISSING: [CallbackQueryHandler(got_missing, pattern=r"^r:cnt:"),
                    MessageHandler(TEXT, _answer_for(S.MISSING, got_missing)), _stray_button(S.MISSING), *stray],
        S.DESCRIPTION: [MessageHandler(TEXT | filters.PHOTO, _answer_for(S.DESCRIPTION, got_description)),
                        _stray_button(S.DESCRIPTION), *stray],
        S.CONFIRM: [CallbackQueryHandler(confirm, pattern=r"^r:(ok|edit|x)$"), MessageHandler(filters.PHOTO, got_photo),
                    _stray_button(S.CONFIRM), MessageHandler(~filters.COMMAND, buttons_only(confirm_buttons))],
        S.EDIT_FIELD: [CallbackQueryHandler(choose_edit, pattern=r"^r:e:"), _stray_button(S.EDIT_FIELD),
                       MessageHandler(~filters.COMMAND, buttons_only(edit_buttons))],
    }


# --- what the dialogue map needs to keep a half-written report (handlers/dialogs.py) ----------


def _answered(rows: DraftRows) -> int:
    """Answers in a report draft not filed yet (a filed one holds only its incident's id)."""
    d = ReportDraft.from_dict(rows.get(KIND, {})).to_dict()
    fields = ("category", "occurred_at", "learnt_at", "place", "latitude", "description", "photos")
    return count_set(d, *fields) + min(1, count_set(d, "deaths", "injured", "missing"))


def _step(rows: DraftRows) -> int | None:
    """The step whose question went out last (the `_asking` note)."""
    asking = rows.get(ASKING, {}).get("state")
    return asking if isinstance(asking, int) and asking in S._value2member_map_ else None


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again, every answer kept (the note wins: it may be a step ahead)."""
    assert update.effective_user is not None
    step = S(_step(await load_drafts(ctx, update.effective_user.id, (ASKING, KIND))) or state)
    await _ask_again(update, ctx, step)
    return step


def dialogs() -> list[DialogKind]:
    return [DialogKind("report", frozenset(S), (KIND, ASKING), (start_report,), _answered, resume,
                       urgent=True, step_of=_step)]
