"""/leave: ask for leave step by step; 批准/不批准 with an optional comment;
/back, /leave_cancel, /away, /leave_history.

kind (button) → from (今天/明天 or typed) → to → destination → leaves the city? → reason
→ stand-in (a member of the same unit, or none) → summary with 提交 / 取消. Every answer is
committed to the drafts table; the dialogue state is persisted, so a restart resumes.
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
from bot.domain import leave as rules
from bot.domain import parse
from bot.domain.leave import Decision, LeaveDraft, LeaveInputError, LeaveKind
from bot.domain.members import Action, Member, can
from bot.fmt import esc
from bot.services import leave as svc
from bot.services import leave_text as txt
from bot.services.errors import ServiceError
from handlers import holiday
from handlers.common import (
    ANSWERED,
    ButtonStep,
    DialogKind,
    DraftRows,
    DraftSlot,
    StepButtons,
    acted_at,
    answer_query,
    button_or_text,
    buttons_only,
    callback_data,
    count_set,
    current_member,
    done_before,
    drop_drafts,
    guard,
    guard_private,
    load_draft,
    private_only,
    refuse,
    save_draft,
    say,
    sent_time,
    stray_handler,
    text_into_draft,
    use_button,
)
from storage.leave import LeaveRequest

KIND = svc.DRAFT_KIND
DECISION = "leave_decision"
MAX_DESTINATION = 100
MAX_REASON = 200
MAX_STANDINS = 24


class S(IntEnum):
    KIND = 400
    START = 401
    END = 402
    DESTINATION = 403
    CITY = 404
    REASON = 405
    STANDIN = 406
    CONFIRM = 407
    COMMENT = 410


_data = callback_data


_slot = DraftSlot(KIND, LeaveDraft.from_dict)
_draft, _save = _slot.load, _slot.save


def _day_buttons(ctx: DeskContext) -> dict[str, object]:
    return cb.keyboard([[(ctx.t("leave.btn.today"), "l:d:today"), (ctx.t("leave.btn.tomorrow"), "l:d:tomorrow")]])


# --- questions ---------------------------------------------------------------------------


async def kind_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    names = [(ctx.t(f"leave.kind.{k.value}"), f"l:k:{k.value}") for k in LeaveKind]
    rows = [names[:3], names[3:]]
    member = await current_member(update, ctx)
    if member is not None and can(member, Action.REPORT_HOLIDAY):  # a leader's holiday trip: a report
        rows.append([(ctx.t("holiday.btn.leave_kind"), holiday.LEAVE_KIND_BUTTON)])
    return ButtonStep(rows)


async def ask_kind(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("leave.ask_kind"), cb.keyboard((await kind_buttons(update, ctx)).rows))
    return S.KIND


async def ask_start(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("leave.ask_start"), _day_buttons(ctx))
    return S.START


async def ask_end(update: Update, ctx: DeskContext, draft: LeaveDraft) -> S:
    assert draft.start is not None
    await say(update, ctx, ctx.t("leave.ask_end", start=txt.start_text(ctx.services, draft.start)), _day_buttons(ctx))
    return S.END


async def ask_destination(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("leave.ask_destination"))
    return S.DESTINATION


async def city_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    city = ctx.services.config.general.city  # a label: escaped where it enters HTML
    return ButtonStep([[(ctx.t("leave.btn.leaves_city", city=city), "l:c:y"),
                        (ctx.t("leave.btn.stays_in_city", city=city), "l:c:n")]])


async def ask_city(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("leave.ask_city", city=esc(ctx.services.config.general.city)),
              cb.keyboard((await city_buttons(update, ctx)).rows))
    return S.CITY


async def ask_reason(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("leave.ask_reason", limit=MAX_REASON))
    return S.REASON


async def standin_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    """Active members of the same unit (at most MAX_STANDINS), and 无代理人; who can appear and how."""
    member = await current_member(update, ctx)
    choices = await svc.standin_choices(ctx.services, member) if member else []
    buttons = [(m.name, f"l:s:{m.id}") for m in choices[:MAX_STANDINS]]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(ctx.t("leave.btn.no_standin"), "l:s:none")])
    unit = member.unit_code if member else ""
    note = ctx.t("leave.standin_none" if not choices else "leave.standin_who", unit=unit, limit=MAX_STANDINS)
    return ButtonStep(rows, note)


async def ask_standin(update: Update, ctx: DeskContext) -> S:
    if await guard(update, ctx) is None:
        return S.STANDIN
    step = await standin_buttons(update, ctx)
    text: str = ctx.t("leave.ask_standin")
    if len(step.rows) == 1:  # nobody to choose: say who could be and how they get registered
        text += "\n" + step.note
    await say(update, ctx, text, cb.keyboard(step.rows))
    return S.STANDIN


async def show_summary(update: Update, ctx: DeskContext, draft: LeaveDraft) -> S:
    s = ctx.services
    member = await guard(update, ctx)
    if member is None or draft.start is None or draft.end is None or draft.kind is None:
        return S.CONFIRM
    chain = svc.chain_for(s, member)
    standin = None
    if draft.standin_id is not None:
        standin = next((m.name for m in await svc.standin_choices(s, member) if m.id == draft.standin_id), None)
    facts = txt.facts(s, name=member.name, unit_code=member.unit_code, kind=draft.kind, start=draft.start,
                      end=draft.end, destination=draft.destination, leaves_city=draft.leaves_city,
                      reason=draft.reason, standin=standin, chain_label=(chain.label or chain.name) if chain else "—",
                      holidays=svc.holidays_for(s, draft))
    await say(update, ctx, ctx.t("leave.summary", facts=facts), cb.keyboard((await confirm_buttons(update, ctx)).rows))
    return S.CONFIRM


async def confirm_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("leave.btn.submit"), "l:ok"), (ctx.t("leave.btn.cancel"), "l:x")]])


# --- answers -----------------------------------------------------------------------------


async def start_leave(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /leave."""
    member = await guard_private(update, ctx, Action.REQUEST_LEAVE)
    if member is None:
        return ConversationHandler.END
    chain = svc.chain_for(ctx.services, member)
    if chain is None:
        await say(update, ctx, ctx.t("leave.err_no_chain"))
        return ConversationHandler.END
    try:  # told now, not after eight answers: the request would have the requester approve it
        await svc.route(ctx.services, ctx.services.db.read, member, chain)
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
        return ConversationHandler.END
    await _save(update, ctx, LeaveDraft())
    return await ask_kind(update, ctx)


async def got_kind(update: Update, ctx: DeskContext) -> S | int:
    """Reads the kind button (事假, 病假 …), or turns to the holiday trip report."""
    if _data(update) == holiday.LEAVE_KIND_BUTTON:
        return await holiday.start_report(update, ctx)
    value = _data(update).removeprefix("l:k:")
    if value not in {k.value for k in LeaveKind}:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.KIND
    await answer_query(update, ctx.t(f"leave.kind.{value}"))
    draft = await _draft(update, ctx)
    draft.kind = value
    await _save(update, ctx, draft)
    return await ask_start(update, ctx)


async def _read_day(update: Update, ctx: DeskContext, ref: rules.DayPoint | None = None) -> rules.DayPoint | None:
    """A 今天/明天 button or a typed date; explains and returns None when unreadable."""
    s = ctx.services
    today = sent_time(ctx).astimezone(s.config.tz).date()  # 今天 is the day the person said it
    got = await button_or_text(update, ctx, limit=40, hint=ctx.t("leave.err_bad_date"))
    if got is None:
        return None
    if got.pressed:
        word = {"l:d:today": "今天", "l:d:tomorrow": "明天"}.get(got.data)
        return rules.parse_day(word, today) if word else None
    try:
        return rules.parse_day(got.text, today, ref.day if ref else None)
    except LeaveInputError as err:
        await say(update, ctx, ctx.t(f"leave.err_{err.code}", **err.kw))
        return None


async def got_start(update: Update, ctx: DeskContext) -> S:
    """Reads the first day of leave."""
    point = await _read_day(update, ctx)
    if point is None:
        return S.START
    draft = await _draft(update, ctx)
    start = point.start(ctx.services.config.tz)
    member = await guard(update, ctx)
    if member is None:
        return S.START
    try:
        svc.check_start(ctx.services, draft.kind or "", start, sent_time(ctx))
        await svc.check_start_free(ctx.services, ctx.services.db.read, member, start)
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
        return S.START
    draft.start_at, draft.end_at = start.isoformat(), None
    await _save(update, ctx, draft)
    return await ask_end(update, ctx, draft)


async def got_end(update: Update, ctx: DeskContext) -> S:
    """Reads the last day of leave; refuses an end before the start and overlaps with own leave."""
    s = ctx.services
    draft = await _draft(update, ctx)
    start = draft.start
    if start is None or draft.kind is None:
        await say(update, ctx, ctx.t("leave.draft_lost"))
        return S.END
    ref = rules.DayPoint(start.astimezone(s.config.tz).date())
    point = await _read_day(update, ctx, ref)
    if point is None:
        return S.END
    end = point.end(s.config.tz)
    member = await guard(update, ctx)
    if member is None:
        return S.END
    try:
        svc.check_dates(s, draft.kind, start, end, sent_time(ctx))
        await svc.check_overlap(s, s.db.read, member, start, end)
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
        return S.END
    draft.end_at = end.isoformat()
    await _save(update, ctx, draft)
    return await ask_destination(update, ctx)


async def got_destination(update: Update, ctx: DeskContext) -> S:
    """Reads where the member will be."""
    draft = await text_into_draft(update, ctx, _slot, "destination", limit=MAX_DESTINATION)
    if draft is None:
        return S.DESTINATION
    return await ask_city(update, ctx)


async def got_city(update: Update, ctx: DeskContext) -> S:
    """Reads whether the leave takes the member out of the city."""
    data = _data(update)
    if data not in ("l:c:y", "l:c:n"):
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return S.CITY
    await answer_query(update)
    draft = await _draft(update, ctx)
    draft.leaves_city = data == "l:c:y"
    await _save(update, ctx, draft)
    return await ask_reason(update, ctx)


async def got_reason(update: Update, ctx: DeskContext) -> S:
    """Reads the reason."""
    draft = await text_into_draft(update, ctx, _slot, "reason", limit=MAX_REASON)
    if draft is None:
        return S.REASON
    return await ask_standin(update, ctx)


async def got_standin(update: Update, ctx: DeskContext) -> S:
    """Reads the stand-in button (a member of the same unit, re-checked) or 无."""
    value = _data(update).removeprefix("l:s:")
    member = await guard(update, ctx)
    if member is None:
        return S.STANDIN
    choices = {str(m.id): m for m in await svc.standin_choices(ctx.services, member)}
    if value != "none" and value not in choices:
        await answer_query(update, ctx.t("leave.err_bad_standin"), alert=True)
        return S.STANDIN
    await answer_query(update)
    draft = await _draft(update, ctx)
    draft.standin_id = None if value == "none" else choices[value].id
    draft.standin_chosen = True
    await _save(update, ctx, draft)
    return await show_summary(update, ctx, draft)


async def confirm(update: Update, ctx: DeskContext) -> S | int:
    """提交 / 取消."""
    done = await done_before(update, ctx, KIND)
    if done is not None:  # 提交 committed, then a crash before the dialogue ended: not twice
        await answer_query(update)
        await say(update, ctx, ctx.t("leave.already_submitted", id=done))
        return ConversationHandler.END
    data = _data(update)
    if data == "l:x":
        await answer_query(update)
        from handlers.start import cancel

        return await cancel(update, ctx)
    member = await guard(update, ctx, Action.REQUEST_LEAVE)
    if member is None:
        return ConversationHandler.END
    draft = await _draft(update, ctx)
    try:
        # the confirmation goes out with the request's messages
        await svc.submit(ctx.services, member, draft, at=await acted_at(update, ctx))
    except ServiceError as err:
        await answer_query(update)
        await say(update, ctx, ctx.t(err.key, **err.kw))
        return ConversationHandler.END if err.key == "leave.draft_lost" else S.CONFIRM
    await answer_query(update)
    # The draft is now "done as #id" (same transaction) and stays until /leave starts again.
    return ConversationHandler.END


# --- approvers: 批准 / 不批准, then an optional comment -------------------------------------


async def start_decision(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 批准 / 不批准 on a request: checks the approver, asks for an optional comment."""
    async def use(member: Member, choice: str, request_id: int) -> tuple[LeaveRequest, Decision]:
        req = await svc.check_can_decide(ctx.services, member, request_id)
        return req, Decision.APPROVED if choice == txt.APPROVE else Decision.REFUSED

    checked = await use_button(update, ctx, txt.APPROVE_PREFIX, (txt.APPROVE, txt.REFUSE), use,
                               action=Action.DECIDE_LEAVE)
    if checked is ANSWERED:
        return ConversationHandler.END
    req, decision = checked
    await answer_query(update)
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, DECISION, {"request_id": req.id, "decision": decision.value})
    return await ask_comment(update, ctx, req.id, decision.value)


async def ask_comment(update: Update, ctx: DeskContext, request_id: int, decision: str) -> S:
    await say(update, ctx, ctx.t(f"leave.ask_comment_{decision}", id=request_id),
              cb.keyboard([[(ctx.t("leave.btn.no_comment"), "lv:nc")]]))
    return S.COMMENT


async def got_comment(update: Update, ctx: DeskContext) -> S | int:
    """Reads the comment (or 不填写意见) and records the decision."""
    got = await button_or_text(update, ctx, limit=MAX_REASON)
    if got is None:
        return S.COMMENT
    comment = None if got.pressed else got.text  # 不填写意见
    member = await guard(update, ctx, Action.DECIDE_LEAVE)
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, DECISION)
    if member is None or "request_id" not in draft:
        await drop_drafts(ctx, update.effective_user.id)
        return ConversationHandler.END
    try:
        done = await svc.decide(ctx.services, member, int(draft["request_id"]), Decision(draft["decision"]), comment)
    except ServiceError as err:
        await say(update, ctx, ctx.t(err.key, **err.kw))
    else:
        await say(update, ctx, done)
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


stray = stray_handler("leave.answer_above")  # anything else inside the leave dialogue: say what is expected; stay


# --- standalone: /back, the 我已返岗 button, /away, /leave_history --------------------------


async def back(update: Update, ctx: DeskContext) -> None:
    """/back or 我已返岗: report back from leave (销假)."""
    member = await guard(update, ctx, Action.REQUEST_LEAVE)
    if member is None:
        return
    request_id = None
    if update.callback_query is not None:
        parsed = cb.parse_id(_data(update), txt.BACK_PREFIX, (txt.BACK,))
        if parsed is None:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
            return
        request_id = parsed[1]
    try:
        text = await svc.report_back(ctx.services, member, request_id, at=await acted_at(update, ctx))
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await answer_query(update)
    await say(update, ctx, text)


async def withdraw(update: Update, ctx: DeskContext) -> None:
    """/leave_cancel [N] or 撤回申请 under the submitted request: take it back (撤回)."""
    member = await guard(update, ctx, Action.REQUEST_LEAVE)
    if member is None:
        return
    request_id: int | None = None
    if update.callback_query is not None:
        parsed = cb.parse_id(_data(update), txt.BACK_PREFIX, (txt.WITHDRAW,))
        if parsed is None:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
            return
        request_id = parsed[1]
    elif not await private_only(update, ctx):
        return
    elif ctx.args:
        request_id = parse.record_id(ctx.args[0])
        if request_id is None:
            await say(update, ctx, ctx.t("leave.err_withdraw_number"))
            return
    try:
        text = await svc.withdraw(ctx.services, member, request_id)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await answer_query(update)
    await say(update, ctx, text)


async def away(update: Update, ctx: DeskContext) -> None:
    """/away [today|week|YYYY-MM-DD]: who is away, where, until when, who stands in."""
    member = await guard_private(update, ctx, Action.VIEW_AWAY)
    if member is None:
        return
    try:
        text = await svc.away_text(ctx.services, member, " ".join(ctx.args or []) or None)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await say(update, ctx, text)


async def history(update: Update, ctx: DeskContext) -> None:
    """/leave_history: the member's own requests with their full trail."""
    member = await guard_private(update, ctx, Action.REQUEST_LEAVE)
    if member is None:
        return
    await say(update, ctx, await svc.history_text(ctx.services, member))


TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("leave", start_leave),
        CallbackQueryHandler(start_decision,
                             pattern=rf"^{txt.APPROVE_PREFIX}:({txt.APPROVE}|{txt.REFUSE}):\d{{1,12}}$"),
    ]


def _only(step: StepButtons) -> list[BaseHandler]:  # type: ignore[type-arg]
    """The catch-all of a step that takes only a button: names the buttons when text is typed."""
    return [CallbackQueryHandler(stray, pattern=r"^l:"), MessageHandler(~filters.COMMAND, buttons_only(step))]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = [CallbackQueryHandler(stray, pattern=r"^l:"), MessageHandler(~filters.COMMAND, stray)]
    return {
        S.KIND: [CallbackQueryHandler(got_kind, pattern=r"^l:k:"), *_only(kind_buttons)],
        S.START: [CallbackQueryHandler(got_start, pattern=r"^l:d:(today|tomorrow)$"), MessageHandler(TEXT, got_start),
                  *other],
        S.END: [CallbackQueryHandler(got_end, pattern=r"^l:d:(today|tomorrow)$"), MessageHandler(TEXT, got_end),
                *other],
        S.DESTINATION: [MessageHandler(TEXT, got_destination), *other],
        S.CITY: [CallbackQueryHandler(got_city, pattern=r"^l:c:"), *_only(city_buttons)],
        S.REASON: [MessageHandler(TEXT, got_reason), *other],
        S.STANDIN: [CallbackQueryHandler(got_standin, pattern=r"^l:s:(none|\d{1,12})$"), *_only(standin_buttons)],
        S.CONFIRM: [CallbackQueryHandler(confirm, pattern=r"^l:(ok|x)$"), *_only(confirm_buttons)],
        S.COMMENT: [CallbackQueryHandler(got_comment, pattern=r"^lv:nc$"), MessageHandler(TEXT, got_comment),
                    CallbackQueryHandler(stray, pattern=r"^lv:nc"), MessageHandler(~filters.COMMAND, stray)],
    }


# --- what the dialogue map needs to keep these answers (handlers/dialogs.py) -------------------


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again; the draft keeps every answer."""
    draft = await _draft(update, ctx)
    if state == S.END and draft.start is not None:
        return await ask_end(update, ctx, draft)
    if state == S.CONFIRM and draft.complete():
        return await show_summary(update, ctx, draft)
    # (An end or a summary whose earlier answers are gone asks from the first missing one's start.)
    ask = {S.KIND: ask_kind, S.START: ask_start, S.END: ask_start, S.DESTINATION: ask_destination,
           S.CITY: ask_city, S.REASON: ask_reason, S.STANDIN: ask_standin, S.CONFIRM: ask_kind}[S(state)]
    return await ask(update, ctx)


async def resume_decision(update: Update, ctx: DeskContext, state: int) -> int:
    """批准/不批准 pressed, the comment still asked for."""
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, DECISION)
    if "request_id" not in draft:
        return ConversationHandler.END
    return await ask_comment(update, ctx, int(draft["request_id"]), str(draft["decision"]))


def _answers(rows: DraftRows) -> int:
    d = rows.get(KIND, {})
    return count_set(d, "kind", "start_at", "end_at", "destination", "leaves_city", "reason") + bool(
        d.get("standin_chosen"))


def _decided(rows: DraftRows) -> int:
    return int("decision" in rows.get(DECISION, {}))  # 批准 or 不批准 was pressed: an answer


def dialogs() -> list[DialogKind]:
    return [
        DialogKind("leave", frozenset(set(S) - {S.COMMENT}), (KIND,), (start_leave,), _answers, resume),
        DialogKind("leave_decision", frozenset({S.COMMENT}), (DECISION,), (start_decision,), _decided,
                   resume_decision),
    ]


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("back", back))
    app.add_handler(CallbackQueryHandler(back, pattern=rf"^{txt.BACK_PREFIX}:{txt.BACK}:\d{{1,12}}$"))
    app.add_handler(CommandHandler("leave_cancel", withdraw))
    app.add_handler(CallbackQueryHandler(withdraw, pattern=rf"^{txt.BACK_PREFIX}:{txt.WITHDRAW}:\d{{1,12}}$"))
    app.add_handler(CommandHandler("away", away))
    app.add_handler(CommandHandler("leave_history", history))
