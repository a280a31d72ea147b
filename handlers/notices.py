"""/notice and /meeting: send a notice down with receipts; /notices: who has signed.

密级 (机密 and above: refused, nothing kept) → title → (meeting: time → place) → body → attachments
→ audience → urgency → receipt
and deadline → summary with 发送 / 取消. Every answer is committed to the drafts table.
Recipients' buttons (收到, 参加/请假/代会) and the sender's (查看签收, 再次提醒) are
standalone handlers; 请假 and 代会 ask one more question inside the dialogue.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from bot.domain import parse
from bot.domain.documents import Classification
from bot.domain.members import Action, Member
from bot.domain.notices import (
    ADDRESSABLE_ROLES,
    Attendance,
    Audience,
    AudienceSpec,
    MeetingTimeError,
    NoticeKind,
    parse_meeting_time,
    receipt_deadline,
    split_names,
)
from bot.fmt import esc
from bot.services import notice_text as txt
from bot.services import notices as svc
from bot.services.errors import ServiceError
from handlers.common import (
    ButtonStep,
    DialogKind,
    DraftRows,
    DraftSlot,
    Rows,
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
    read_text,
    refuse,
    save_draft,
    say,
    stray_handler,
    text_into_draft,
    use_button,
)

KIND = svc.DRAFT_KIND
ANSWER_KIND = "notice_answer"
MAX_TITLE, MAX_BODY, MAX_PLACE, MAX_ATTACHMENTS = 100, 3000, 100, 5


class S(IntEnum):
    TITLE = 500
    BODY = 501
    ATTACH = 502
    AUDIENCE = 503
    UNITS = 504
    ROLES = 505
    MEMBERS = 506
    GROUPS = 507
    URGENCY = 508
    RECEIPT = 509
    DEADLINE = 510
    CONFIRM = 511
    MEETING_TIME = 520
    MEETING_PLACE = 521
    LEAVE_REASON = 530
    PROXY_NAME = 531
    LEVEL = 540


_data = callback_data


_slot = DraftSlot(KIND, svc.NoticeDraft.from_dict)
_draft, _save = _slot.load, _slot.save


async def _finish(update: Update, ctx: DeskContext) -> int:
    assert update.effective_user is not None
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


def _toggles(items: Sequence[tuple[str, str]], chosen: set[str], prefix: str, ctx: DeskContext) -> Rows:
    rows = [[((("✅ " if v in chosen else "") + label), f"nd:{prefix}:{v}")] for v, label in items]
    rows.append([(ctx.t("notice.btn.done"), "nd:ok")])
    return rows


# --- entry --------------------------------------------------------------------------------


async def _start(update: Update, ctx: DeskContext, kind: NoticeKind) -> S | int:
    member = await guard_private(update, ctx, Action.SEND_NOTICE)
    if member is None:
        return ConversationHandler.END
    await _save(update, ctx, svc.NoticeDraft(kind=kind))
    return await ask_level(update, ctx)


async def level_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    levels = [(ctx.t(f"doc.level.{c.value}"), f"nd:lv:{c.value}") for c in Classification]
    return ButtonStep([levels[:2], levels[2:]])


async def ask_level(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("notice.ask_level"), cb.keyboard((await level_buttons(update, ctx)).rows))
    return S.LEVEL


async def got_level(update: Update, ctx: DeskContext) -> S | int:
    """Reads the 密级 first: content marked 机密 or above is never sent (the dialogue ends, nothing kept)."""
    level = Classification(_data(update).removeprefix("nd:lv:"))
    await answer_query(update)
    if not level.electronic:
        await say(update, ctx, ctx.t("notice.classified_refused", level=ctx.t(f"doc.level.{level}")))
        return await _finish(update, ctx)
    draft = await _draft(update, ctx)
    draft.classification = level.value
    await _save(update, ctx, draft)
    return await ask_title(update, ctx, draft.kind)


async def ask_title(update: Update, ctx: DeskContext, kind: NoticeKind) -> S:
    key = "notice.ask_meeting_title" if kind is NoticeKind.MEETING else "notice.ask_title"
    await say(update, ctx, ctx.t(key, limit=MAX_TITLE))
    return S.TITLE


async def start_notice(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /notice (directors, duty, unit heads)."""
    return await _start(update, ctx, NoticeKind.NOTICE)


async def start_meeting(update: Update, ctx: DeskContext) -> S | int:
    """Entry: /meeting, a notice with time, place and attendance."""
    return await _start(update, ctx, NoticeKind.MEETING)


async def got_title(update: Update, ctx: DeskContext) -> S:
    """Reads the title; a meeting asks its time next, a notice its body."""
    draft = await text_into_draft(update, ctx, _slot, "title", limit=MAX_TITLE)
    if draft is None:
        return S.TITLE
    if draft.kind is NoticeKind.MEETING:
        return await ask_meeting_time(update, ctx)
    return await ask_body(update, ctx, draft)


async def ask_meeting_time(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("notice.ask_meeting_time"))
    return S.MEETING_TIME


async def ask_meeting_place(update: Update, ctx: DeskContext, draft: svc.NoticeDraft) -> S:
    await say(update, ctx, ctx.t("notice.ask_meeting_place", time=ctx.services.fmt.dt(draft.meeting_at)))
    return S.MEETING_PLACE


async def ask_body(update: Update, ctx: DeskContext, draft: svc.NoticeDraft) -> S:
    """The body; a meeting's may be skipped (its time and place say most)."""
    skip = cb.keyboard([[(ctx.t("notice.btn.skip"), "nd:skip")]]) if draft.kind is NoticeKind.MEETING else None
    await say(update, ctx, ctx.t("notice.ask_body", limit=MAX_BODY), skip)
    return S.BODY


async def got_meeting_time(update: Update, ctx: DeskContext) -> S:
    """Reads when the meeting is (future)."""
    text = await read_text(update, ctx, limit=40)
    if text is None:
        return S.MEETING_TIME
    s = ctx.services
    try:
        when = parse_meeting_time(text, s.now(), s.config.tz)
    except MeetingTimeError as err:
        await say(update, ctx, ctx.t(f"notice.meeting_time_{err.code}"))
        return S.MEETING_TIME
    draft = await _draft(update, ctx)
    draft.meeting_at = when
    await _save(update, ctx, draft)
    return await ask_meeting_place(update, ctx, draft)


async def got_meeting_place(update: Update, ctx: DeskContext) -> S:
    """Reads where the meeting is."""
    draft = await text_into_draft(update, ctx, _slot, "place", limit=MAX_PLACE)
    if draft is None:
        return S.MEETING_PLACE
    return await ask_body(update, ctx, draft)


async def got_body(update: Update, ctx: DeskContext) -> S:
    """Reads the body text (a meeting may skip it); then attachments."""
    got = await button_or_text(update, ctx, limit=MAX_BODY)  # the button: nd:skip
    if got is None:
        return S.BODY
    if not got.pressed:
        draft = await _draft(update, ctx)
        draft.body = got.text
        await _save(update, ctx, draft)
    return await ask_attachments(update, ctx)


async def attachment_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    """无附件 (none yet) or 完成; files and photos are the step's other answer."""
    draft = await _draft(update, ctx)
    label = "notice.btn.done" if draft.attachments else "notice.btn.no_attachments"
    return ButtonStep([[(ctx.t(label), "nd:ok")]], ctx.t("notice.attachment_note", limit=MAX_ATTACHMENTS))


async def ask_attachments(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("notice.ask_attachments", limit=MAX_ATTACHMENTS),
              cb.keyboard((await attachment_buttons(update, ctx)).rows))
    return S.ATTACH


async def got_attachment(update: Update, ctx: DeskContext) -> S:
    """Collects a document or photo; 完成 moves on."""
    msg = update.effective_message
    draft = await _draft(update, ctx)
    if msg is not None and (msg.document or msg.photo):
        if len(draft.attachments) >= MAX_ATTACHMENTS:
            await say(update, ctx, ctx.t("notice.attachment_limit", limit=MAX_ATTACHMENTS))
            return S.ATTACH
        if msg.document:
            draft.attachments.append(("document", msg.document.file_id))
        else:
            draft.attachments.append(("photo", msg.photo[-1].file_id))
        await _save(update, ctx, draft)
        await say(update, ctx, ctx.t("notice.attachment_added", count=len(draft.attachments)),
                  cb.keyboard([[(ctx.t("notice.btn.done"), "nd:ok")]]))
        return S.ATTACH
    await say(update, ctx, ctx.t("notice.attachment_expected"))
    return S.ATTACH


async def attachments_done(update: Update, ctx: DeskContext) -> S | int:
    await answer_query(update)
    return await ask_audience(update, ctx)


async def audience_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    """Who it can go to; 群组 only once a group is bound (else the note says how to bind one)."""
    member = await current_member(update, ctx)
    if member is None:
        return ButtonStep([])
    key = "all" if member.district_wide else "own_unit"
    options = [(ctx.t(f"notice.aud.{key}"), "nd:a:all")]
    if member.district_wide:
        options.append((ctx.t("notice.aud.units"), "nd:a:units"))
    options += [(ctx.t("notice.aud.roles"), "nd:a:roles"), (ctx.t("notice.aud.members"), "nd:a:members")]
    groups = await svc.sendable_groups(ctx.services.db.read, member)
    if groups:
        options.append((ctx.t("notice.aud.groups"), "nd:a:groups"))
    return ButtonStep([[o] for o in options], "" if groups else ctx.t("notice.groups_none"))


async def ask_audience(update: Update, ctx: DeskContext) -> S | int:
    member = await guard(update, ctx, Action.SEND_NOTICE)
    if member is None:
        return await _finish(update, ctx)
    await say(update, ctx, ctx.t("notice.ask_audience"), cb.keyboard((await audience_buttons(update, ctx)).rows))
    return S.AUDIENCE


async def got_audience(update: Update, ctx: DeskContext) -> S | int:
    """Reads who it goes to; a choice that needs detail opens its picker."""
    choice = _data(update).removeprefix("nd:a:")
    await answer_query(update)
    member = await guard(update, ctx, Action.SEND_NOTICE)
    if member is None:
        return await _finish(update, ctx)
    draft = await _draft(update, ctx)
    if choice == "all":
        draft.audience = AudienceSpec(Audience.ALL)
        await _save(update, ctx, draft)
        return await ask_urgency(update, ctx)
    if choice == "units" and member.district_wide:
        draft.audience = AudienceSpec(Audience.UNITS)
        await _save(update, ctx, draft)
        return await show_units(update, ctx, draft)
    if choice == "roles":
        draft.audience = AudienceSpec(Audience.ROLES)
        await _save(update, ctx, draft)
        return await show_roles(update, ctx, draft)
    if choice == "members":
        draft.audience = AudienceSpec(Audience.MEMBERS)
        await _save(update, ctx, draft)
        return await ask_members(update, ctx)
    if choice == "groups":
        draft.audience = AudienceSpec(Audience.GROUPS)
        await _save(update, ctx, draft)
        return await show_groups(update, ctx, draft, member)
    return S.AUDIENCE


async def ask_members(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("notice.ask_members"))
    return S.MEMBERS


def _units_rows(ctx: DeskContext, draft: svc.NoticeDraft) -> Rows:
    s = ctx.services
    items = [(u.code, s.unit_name(u.code)) for u in s.config.units]
    return _toggles(items, set(draft.audience.units if draft.audience else ()), "u", ctx)


def _roles_rows(ctx: DeskContext, draft: svc.NoticeDraft) -> Rows:
    items = [(r.value, ctx.t(f"core.roles.{r.value}")) for r in ADDRESSABLE_ROLES]
    return _toggles(items, set(draft.audience.roles if draft.audience else ()), "r", ctx)


async def units_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep(_units_rows(ctx, await _draft(update, ctx)), ctx.t("notice.units_who"))


async def roles_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep(_roles_rows(ctx, await _draft(update, ctx)))


async def groups_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    """The groups bound within the sender's reach; who can bind one, and how."""
    member = await current_member(update, ctx)
    draft = await _draft(update, ctx)
    groups = await svc.sendable_groups(ctx.services.db.read, member) if member else []
    items = [(str(g.chat_id), g.title) for g in groups]
    chosen = {str(g) for g in draft.audience.group_ids} if draft.audience else set()
    note = ctx.t("notice.groups_none" if not groups else "notice.groups_who")
    return ButtonStep(_toggles(items, chosen, "g", ctx), note)


async def show_units(update: Update, ctx: DeskContext, draft: svc.NoticeDraft) -> S:
    await say(update, ctx, ctx.t("notice.ask_units"), cb.keyboard(_units_rows(ctx, draft)))
    return S.UNITS


async def show_roles(update: Update, ctx: DeskContext, draft: svc.NoticeDraft) -> S:
    await say(update, ctx, ctx.t("notice.ask_roles"), cb.keyboard(_roles_rows(ctx, draft)))
    return S.ROLES


async def show_groups(update: Update, ctx: DeskContext, draft: svc.NoticeDraft, member: Member) -> S:
    await say(update, ctx, ctx.t("notice.ask_groups"), cb.keyboard((await groups_buttons(update, ctx)).rows))
    return S.GROUPS


async def _toggle(update: Update, ctx: DeskContext, prefix: str) -> tuple[svc.NoticeDraft, bool]:
    """Flip one choice in the picker; True when 完成 was pressed."""
    data = _data(update)
    await answer_query(update)
    draft = await _draft(update, ctx)
    spec = draft.audience or AudienceSpec(Audience.ALL)
    if data == "nd:ok":
        return draft, True
    value = data.removeprefix(f"nd:{prefix}:")
    field = {"u": "units", "r": "roles", "g": "group_ids"}[prefix]
    current = list(getattr(spec, field))
    item: object = int(value) if prefix == "g" else value
    if item in current:
        current.remove(item)
    else:
        current.append(item)
    draft.audience = AudienceSpec(spec.kind, **{**_spec_fields(spec), field: tuple(current)})
    await _save(update, ctx, draft)
    return draft, False


def _spec_fields(spec: AudienceSpec) -> dict[str, tuple[object, ...]]:
    return {"units": spec.units, "roles": spec.roles, "member_ids": spec.member_ids, "group_ids": spec.group_ids}


async def got_units(update: Update, ctx: DeskContext) -> S:
    """Toggles a unit; 完成 moves on (at least one unit)."""
    draft, done = await _toggle(update, ctx, "u")
    if done and draft.audience and draft.audience.units:
        return await ask_urgency(update, ctx)
    if done:
        await say(update, ctx, ctx.t("notice.choose_one"))
    return await show_units(update, ctx, draft)


async def got_roles(update: Update, ctx: DeskContext) -> S:
    """Toggles a role; 完成 moves on."""
    draft, done = await _toggle(update, ctx, "r")
    if done and draft.audience and draft.audience.roles:
        return await ask_urgency(update, ctx)
    if done:
        await say(update, ctx, ctx.t("notice.choose_one"))
    return await show_roles(update, ctx, draft)


async def got_groups(update: Update, ctx: DeskContext) -> S | int:
    """Toggles a bound group; 完成 moves on."""
    member = await guard(update, ctx, Action.SEND_NOTICE)
    if member is None:
        return await _finish(update, ctx)
    draft, done = await _toggle(update, ctx, "g")
    if done and draft.audience and draft.audience.group_ids:
        return await ask_urgency(update, ctx)
    if done:
        await say(update, ctx, ctx.t("notice.choose_one"))
    return await show_groups(update, ctx, draft, member)


async def got_members(update: Update, ctx: DeskContext) -> S | int:
    """Reads names (张三、李四); names not found are said back."""
    text = await read_text(update, ctx, limit=1000)
    if text is None:
        return S.MEMBERS
    member = await guard(update, ctx, Action.SEND_NOTICE)
    if member is None:
        return await _finish(update, ctx)
    found, missing = await svc.find_members(ctx.services, member, split_names(text))
    found = [m for m in found if m.id != member.id]
    if missing:
        await say(update, ctx, ctx.t("notice.members_missing", names=esc(ctx.t("core.list_sep").join(missing))))
    if not found:
        return S.MEMBERS
    draft = await _draft(update, ctx)
    draft.audience = AudienceSpec(Audience.MEMBERS, member_ids=tuple(m.id for m in found))
    await _save(update, ctx, draft)
    await say(update, ctx, ctx.t("notice.members_found", names=esc(ctx.t("core.list_sep").join(m.name for m in found))))
    return await ask_urgency(update, ctx)


async def urgency_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("notice.btn.normal"), "nd:n"), (ctx.t("notice.btn.urgent"), "nd:x")]])


async def ask_urgency(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("notice.ask_urgency"), cb.keyboard((await urgency_buttons(update, ctx)).rows))
    return S.URGENCY


async def receipt_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    draft = await _draft(update, ctx)
    default = ctx.services.fmt.dur(receipt_deadline(svc.notice_policy(ctx.services), draft.urgent))
    return ButtonStep([
        [(ctx.t("notice.btn.receipt_default", default=default), "nd:rc:def")],
        [(ctx.t("notice.btn.receipt_custom"), "nd:rc:custom"), (ctx.t("notice.btn.no_receipt"), "nd:rc:none")],
    ])


async def ask_receipt(update: Update, ctx: DeskContext, draft: svc.NoticeDraft) -> S:
    default = ctx.services.fmt.dur(receipt_deadline(svc.notice_policy(ctx.services), draft.urgent))
    await say(update, ctx, ctx.t("notice.ask_receipt", default=default),
              cb.keyboard((await receipt_buttons(update, ctx)).rows))
    return S.RECEIPT


async def ask_deadline(update: Update, ctx: DeskContext) -> S:
    await say(update, ctx, ctx.t("notice.ask_deadline"))
    return S.DEADLINE


async def got_urgency(update: Update, ctx: DeskContext) -> S:
    """普通 / 紧急; meetings skip the receipt question (their answer is the receipt)."""
    await answer_query(update)
    draft = await _draft(update, ctx)
    draft.urgent = _data(update) == "nd:x"
    await _save(update, ctx, draft)
    if draft.kind is NoticeKind.MEETING:
        return await show_summary(update, ctx, draft)
    return await ask_receipt(update, ctx, draft)


async def got_receipt(update: Update, ctx: DeskContext) -> S:
    """Receipt with the default deadline, a chosen one, or none."""
    choice = _data(update).removeprefix("nd:rc:")
    await answer_query(update)
    draft = await _draft(update, ctx)
    if choice == "custom":
        return await ask_deadline(update, ctx)
    draft.receipt_required = choice != "none"
    draft.deadline = None
    await _save(update, ctx, draft)
    return await show_summary(update, ctx, draft)


async def got_deadline(update: Update, ctx: DeskContext) -> S:
    """Reads a receipt deadline such as 2h or 45m."""
    text = await read_text(update, ctx, limit=20)
    if text is None:
        return S.DEADLINE
    chosen = parse.duration(text)
    if chosen is None:
        await say(update, ctx, ctx.t("notice.deadline_bad"))
        return S.DEADLINE
    draft = await _draft(update, ctx)
    draft.receipt_required = True
    draft.deadline = receipt_deadline(svc.notice_policy(ctx.services), draft.urgent, chosen)
    await _save(update, ctx, draft)
    return await show_summary(update, ctx, draft)


def _audience_line(ctx: DeskContext, draft: svc.NoticeDraft, member: Member) -> str:
    s, spec = ctx.services, draft.audience
    sep = ctx.t("core.list_sep")
    if spec is None:
        return "—"
    if spec.kind is Audience.ALL:
        return ctx.t("notice.aud.all" if member.district_wide else "notice.aud.own_unit")
    if spec.kind is Audience.UNITS:
        return sep.join(esc(s.unit_name(u)) for u in spec.units)
    if spec.kind is Audience.ROLES:
        return sep.join(ctx.t(f"core.roles.{r}") for r in spec.roles)
    if spec.kind is Audience.MEMBERS:
        return ctx.t("notice.aud.members_count", count=len(spec.member_ids))
    return ctx.t("notice.aud.groups_count", count=len(spec.group_ids))


async def show_summary(update: Update, ctx: DeskContext, draft: svc.NoticeDraft) -> S:
    member = await guard(update, ctx, Action.SEND_NOTICE)
    assert member is not None
    s = ctx.services
    receipt = ctx.t("notice.summary_no_receipt")
    if draft.receipt_required:
        receipt = ctx.t("notice.summary_receipt",
                        deadline=s.fmt.dur(receipt_deadline(svc.notice_policy(s), draft.urgent, draft.deadline)))
    meeting = ""
    if draft.kind is NoticeKind.MEETING:
        meeting = ctx.t("notice.meeting_facts", time=s.fmt.dt(draft.meeting_at), place=esc(draft.place)) + "\n"
    level = draft.classification if draft.classification not in ("", "none") else ""
    title = esc(draft.title) + (ctx.t("notice.level_mark", level=ctx.t(f"doc.level.{level}")) if level else "")
    text = ctx.t("notice.summary", title=title, meeting=meeting, body=esc(draft.body) or ctx.t("core.none"),
                 attachments=len(draft.attachments), audience=_audience_line(ctx, draft, member),
                 urgency=ctx.t("notice.btn.urgent" if draft.urgent else "notice.btn.normal"), receipt=receipt)
    if draft.audience is not None and (lost := await svc.unreached_units(s, member, draft.audience)):
        text += ctx.t("notice.unreached_units", units=esc(ctx.t("core.list_sep").join(s.unit_name(u) for u in lost)))
    await say(update, ctx, text, cb.keyboard((await confirm_buttons(update, ctx)).rows))
    return S.CONFIRM


async def confirm_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep([[(ctx.t("notice.btn.send"), "nd:send"), (ctx.t("notice.btn.cancel"), "nd:cancel")]])


async def confirm(update: Update, ctx: DeskContext) -> S | int:
    """发送 sends (the status line then shows progress); 取消 drops the draft."""
    await answer_query(update)
    done = await done_before(update, ctx, KIND)
    if done is not None:  # 发送 committed, then a crash before the dialogue ended: not twice
        await say(update, ctx, ctx.t("notice.already_sent", id=done))
        return ConversationHandler.END
    if _data(update) == "nd:cancel":
        await say(update, ctx, ctx.t("core.cancelled"))
        return await _finish(update, ctx)
    member = await guard(update, ctx, Action.SEND_NOTICE)
    if member is None:
        return await _finish(update, ctx)
    draft = await _draft(update, ctx)
    try:
        await svc.send_notice(ctx.services, member, draft)
    except ServiceError as err:
        await refuse(update, ctx, err)
        if err.key.startswith("notice.audience") or err.key == "notice.no_recipients":
            return await ask_audience(update, ctx)
        return await _finish(update, ctx)
    return ConversationHandler.END  # the draft is now "done as #id" (same transaction), kept until the next start


# --- 请假 / 代会: one more question ---------------------------------------------------------


async def _start_answer(update: Update, ctx: DeskContext, answer: Attendance, state: S, key: str) -> S | int:
    member = await guard(update, ctx)
    parsed = cb.parse_id(_data(update), txt.PREFIX, (txt.LEAVE, txt.PROXY))
    if member is None or parsed is None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return ConversationHandler.END
    q = update.callback_query
    assert q is not None and update.effective_user is not None
    await answer_query(update)
    await save_draft(ctx, update.effective_user.id, ANSWER_KIND,
                     {"notice_id": parsed[1], "answer": answer.value,
                      "message_id": q.message.message_id if q.message else None})
    await say(update, ctx, ctx.t(key))
    return state


async def start_leave(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 请假: asks the reason."""
    return await _start_answer(update, ctx, Attendance.LEAVE, S.LEAVE_REASON, "notice.ask_leave_reason")


async def start_proxy(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 代会: asks who attends instead."""
    return await _start_answer(update, ctx, Attendance.PROXY, S.PROXY_NAME, "notice.ask_proxy_name")


async def got_answer_note(update: Update, ctx: DeskContext) -> S | int:
    """Reads the reason or the stand-in's name and records the answer."""
    text = await read_text(update, ctx, limit=200)
    state = S.LEAVE_REASON
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, ANSWER_KIND)
    if draft.get("answer") == Attendance.PROXY.value:
        state = S.PROXY_NAME
    if text is None:
        return state
    member = await guard(update, ctx)
    if member is None or "notice_id" not in draft:
        return await _finish(update, ctx)
    answer = Attendance(draft["answer"])
    try:
        n = await svc.answer_meeting(ctx.services, member, int(draft["notice_id"]), answer, text,
                                     draft.get("message_id"), at=await acted_at(update, ctx))
    except ServiceError as err:
        await refuse(update, ctx, err)
        return await _finish(update, ctx)
    await say(update, ctx, ctx.t("notice.answer_saved", title=esc(n.title),
                                 answer=ctx.t(f"notice.attendance_mark.{answer.value}", note=esc(text))))
    return await _finish(update, ctx)


# --- standalone buttons and /notices --------------------------------------------------------


async def on_button(update: Update, ctx: DeskContext) -> None:
    """收到 / 参加 (recipients); 查看签收 / 再次提醒 (the sender). Data is re-checked against the database."""
    q = update.callback_query
    message_id = q.message.message_id if q is not None and q.message is not None else None
    s = ctx.services

    async def use(member: Member, action: str, notice_id: int) -> None:
        if action == txt.ACK:
            fresh = await svc.acknowledge(s, member, notice_id, message_id, at=await acted_at(update, ctx))
            await answer_query(update, ctx.t("notice.ack_done" if fresh else "notice.ack_already"))
        elif action == txt.ATTEND:
            await svc.answer_meeting(s, member, notice_id, Attendance.ATTEND, None, message_id,
                                     at=await acted_at(update, ctx))
            await answer_query(update, ctx.t("notice.attend_done"))
        elif action == txt.RESEND:
            count = await svc.resend_to_pending(s, member, notice_id)
            await answer_query(update, ctx.t("notice.resent", count=count))
        else:
            n, text = await svc.tally(s, member, notice_id)
            await answer_query(update)
            await say(update, ctx, text, txt.sender_keyboard(s, n))

    await use_button(update, ctx, txt.PREFIX, (txt.ACK, txt.ATTEND, txt.RESEND, txt.VIEW), use)


async def list_notices(update: Update, ctx: DeskContext) -> None:
    """/notices: the latest notices with received/total; buttons open the tally."""
    member = await guard_private(update, ctx, Action.SEND_NOTICE)
    if member is None:
        return
    s = ctx.services
    found = await svc.list_notices(s, member)
    if not found:
        await say(update, ctx, ctx.t("notice.list_none"))
        return
    lines = [ctx.t("notice.list_title")]
    rows = []
    for n, done, total in found:
        lines.append(ctx.t("notice.list_item", id=n.id, title=esc(n.title), time=s.fmt.dt(n.created_at),
                           done=done, total=total))
        rows.append([(ctx.t("notice.btn.view_n", id=n.id), txt.data(txt.VIEW, n.id))])
    await say(update, ctx, "\n".join(lines), cb.keyboard(rows))


stray = stray_handler("notice.answer_above")  # anything else inside the notice dialogue: say what is expected; stay


TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("notice", start_notice),
        CommandHandler("meeting", start_meeting),
        CallbackQueryHandler(start_leave, pattern=rf"^{txt.PREFIX}:{txt.LEAVE}:\d{{1,12}}$"),
        CallbackQueryHandler(start_proxy, pattern=rf"^{txt.PREFIX}:{txt.PROXY}:\d{{1,12}}$"),
    ]


def _only(step: StepButtons) -> list[BaseHandler]:  # type: ignore[type-arg]
    """The catch-all of a step that takes only a button: names the buttons when text is typed."""
    return [CallbackQueryHandler(stray, pattern=r"^nd:"), MessageHandler(~filters.COMMAND, buttons_only(step))]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    other = [CallbackQueryHandler(stray, pattern=r"^nd:"), MessageHandler(~filters.COMMAND, stray)]
    levels = "|".join(c.value for c in Classification)
    roles = "|".join(r.value for r in ADDRESSABLE_ROLES)
    return {
        S.LEVEL: [CallbackQueryHandler(got_level, pattern=rf"^nd:lv:({levels})$"), *_only(level_buttons)],
        S.TITLE: [MessageHandler(TEXT, got_title), *other],
        S.MEETING_TIME: [MessageHandler(TEXT, got_meeting_time), *other],
        S.MEETING_PLACE: [MessageHandler(TEXT, got_meeting_place), *other],
        S.BODY: [MessageHandler(TEXT, got_body), CallbackQueryHandler(got_body, pattern=r"^nd:skip$"), *other],
        S.ATTACH: [CallbackQueryHandler(attachments_done, pattern=r"^nd:ok$"),
                   MessageHandler(filters.Document.ALL | filters.PHOTO, got_attachment), *_only(attachment_buttons)],
        S.AUDIENCE: [CallbackQueryHandler(got_audience, pattern=r"^nd:a:(all|units|roles|members|groups)$"),
                     *_only(audience_buttons)],
        S.UNITS: [CallbackQueryHandler(got_units, pattern=r"^nd:(ok|u:[a-z][a-z0-9_]{0,31})$"), *_only(units_buttons)],
        # Only the roles offered: a forged `nd:r:…` is a stray button, never stored (Role() would refuse it at send).
        S.ROLES: [CallbackQueryHandler(got_roles, pattern=rf"^nd:(ok|r:({roles}))$"), *_only(roles_buttons)],
        S.GROUPS: [CallbackQueryHandler(got_groups, pattern=r"^nd:(ok|g:-\d{1,16})$"), *_only(groups_buttons)],
        S.MEMBERS: [MessageHandler(TEXT, got_members), *other],
        S.URGENCY: [CallbackQueryHandler(got_urgency, pattern=r"^nd:(n|x)$"), *_only(urgency_buttons)],
        S.RECEIPT: [CallbackQueryHandler(got_receipt, pattern=r"^nd:rc:(def|custom|none)$"), *_only(receipt_buttons)],
        S.DEADLINE: [MessageHandler(TEXT, got_deadline), *other],
        S.CONFIRM: [CallbackQueryHandler(confirm, pattern=r"^nd:(send|cancel)$"), *_only(confirm_buttons)],
        S.LEAVE_REASON: [MessageHandler(TEXT, got_answer_note), *other],
        S.PROXY_NAME: [MessageHandler(TEXT, got_answer_note), *other],
    }


# --- what the dialogue map needs to keep these answers (handlers/dialogs.py) -------------------


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question of the step again; the draft keeps every answer."""
    draft = await _draft(update, ctx)
    step = S(state)
    if step is S.TITLE:
        return await ask_title(update, ctx, draft.kind)
    if step is S.MEETING_PLACE:
        return await ask_meeting_place(update, ctx, draft)
    if step is S.BODY:
        return await ask_body(update, ctx, draft)
    if step is S.UNITS:
        return await show_units(update, ctx, draft)
    if step is S.ROLES:
        return await show_roles(update, ctx, draft)
    if step is S.RECEIPT:
        return await ask_receipt(update, ctx, draft)
    if step in (S.GROUPS, S.CONFIRM):
        member = await guard(update, ctx, Action.SEND_NOTICE)
        if member is None:
            return await _finish(update, ctx)
        return await (show_groups(update, ctx, draft, member) if step is S.GROUPS else show_summary(update, ctx, draft))
    ask = {S.LEVEL: ask_level, S.MEETING_TIME: ask_meeting_time, S.ATTACH: ask_attachments, S.AUDIENCE: ask_audience,
           S.MEMBERS: ask_members, S.URGENCY: ask_urgency, S.DEADLINE: ask_deadline}[step]
    return await ask(update, ctx)


async def resume_answer(update: Update, ctx: DeskContext, state: int) -> int:
    """请假 or 代会 pressed; the reason or the stand-in's name still asked for."""
    await say(update, ctx, ctx.t("notice.ask_leave_reason" if state == S.LEAVE_REASON else "notice.ask_proxy_name"))
    return state


def _answers(rows: DraftRows) -> int:
    return count_set(rows.get(KIND, {}), "classification", "title", "body", "attachments", "audience", "meeting_at",
                     "place")


def _chosen(rows: DraftRows) -> int:
    return int("answer" in rows.get(ANSWER_KIND, {}))  # 请假 or 代会 was pressed: an answer


def dialogs() -> list[DialogKind]:
    return [
        DialogKind("notice", frozenset(set(S) - {S.LEAVE_REASON, S.PROXY_NAME}), (KIND,), (start_notice, start_meeting),
                   _answers, resume),
        DialogKind("notice_answer", frozenset({S.LEAVE_REASON, S.PROXY_NAME}), (ANSWER_KIND,),
                   (start_leave, start_proxy), _chosen, resume_answer),
    ]


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(
        on_button, pattern=rf"^{txt.PREFIX}:({txt.ACK}|{txt.ATTEND}|{txt.RESEND}|{txt.VIEW}):\d{{1,12}}$"))
    app.add_handler(CommandHandler("notices", list_notices))
