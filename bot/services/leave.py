"""Use cases of leave and return: ask, approve or refuse step by step, report back, who is away."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bot.domain import cron as crontab
from bot.domain import leave as rules
from bot.domain.leave import Decision, LeaveDraft, LeaveInputError, LeaveStatus
from bot.domain.leave_chains import LeaveChain, LeaveStep
from bot.domain.members import Action, Member, can
from bot.fmt import esc
from bot.services import escalation, holiday
from bot.services import leave_text as txt
from bot.services.base import Services
from bot.services.edits import still_told
from bot.services.errors import NotAllowed, ServiceError, Stale
from storage import deadlines, drafts, holiday_reports, leave, members, outbox
from storage.conn import Conn
from storage.leave import LeaveRequest
from storage.outbox import OutboxRow
from storage.uow import Tx

REF = "leave"
DRAFT_KIND = "leave"  # the /leave dialogue's row in the drafts table
REMIND = "leave.remind"  # an approver has not decided within remind_after
BEGIN = "leave.begin"  # approved leave starts: alerts go to the stand-in
END = "leave.end"  # approved leave ends
BACK_REMIND = "leave.back_remind"  # the return day: report back
BACK_DUE = "leave.back_due"  # not reported back by the end of the return day + grace
ASK_TAG = "ask"


# --- helpers -------------------------------------------------------------------------------


# Requests stored under a chain name the shipped config no longer has: before unit chiefs were a
# role of their own, the street and bureau heads' chain was named for `unit_head`.
LEGACY_CHAINS = {"unit_heads": "unit_chiefs"}


def _chain(s: Services, name: str) -> LeaveChain | None:
    chains = {c.name: c for c in s.config.leave.chains}
    return chains.get(name) or chains.get(LEGACY_CHAINS.get(name, ""))


def held_posts(s: Services, member: Member) -> set[str]:
    """The [[leave.posts]] the member holds (区长, 区委书记 …)."""
    return {p.name for p in s.config.leave.posts if member.id in p.members}


def chain_for(s: Services, member: Member) -> LeaveChain | None:
    unit = s.config.unit(member.unit_code)
    return rules.approval_chain_for(member, unit.kind if unit else "", s.config.leave.chains, held_posts(s, member))


async def route(s: Services, conn: Conn, member: Member, chain: LeaveChain) -> rules.Route:
    """The chain once the requester's own steps are accounted for (see rules.route_self).
    `conn`: the submitting transaction's, or committed rows for the early check at /leave."""
    people = await members.all_members(conn)
    away = await leave.away_now(conn)

    def approvers(step: LeaveStep) -> set[int]:
        chosen = rules.select(step.who, member.unit_code, people, _posts(s))
        return {m.id for m in chosen} | {a.member_id for a in rules.with_standins(chosen, away)}

    try:
        return rules.route_self(chain, s.config.leave.chains, member.id, approvers)
    except rules.SelfApproval:
        raise ServiceError("leave.err_self_approval", chain=esc(chain.label or chain.name)) from None


def chain_label(s: Services, name: str) -> str:
    chain = _chain(s, name)
    return (chain.label or chain.name) if chain else name


def _posts(s: Services) -> dict[str, tuple[int, ...]]:
    return {p.name: p.members for p in s.config.leave.posts}


async def audience(s: Services, tx: Tx, selectors: Iterable[str], unit_code: str,
                    exclude: Iterable[int] = ()) -> list[Member]:
    """Members named by selectors; whoever is on leave is replaced by their stand-in."""
    people = await members.all_members(tx.conn)
    chosen = rules.select(selectors, unit_code, people, _posts(s))
    resolved = rules.with_standins(chosen, await leave.away_now(tx.conn), exclude)
    by_id = {m.id: m for m in people}
    return [by_id[a.member_id] for a in resolved if a.member_id in by_id]


async def _name(tx: Tx, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    m = await members.by_id(tx.conn, member_id)
    return m.name if m else "?"


async def card(s: Services, tx: Tx, req: LeaveRequest) -> str:
    name = await _name(tx, req.member_id) or "?"
    return txt.request_facts(s, req, name, await _name(tx, req.standin_id), chain_label(s, req.chain))


def _error(err: LeaveInputError) -> ServiceError:
    return ServiceError(f"leave.err_{err.code}", **err.kw)


async def _tell(tx: Tx, people: Iterable[Member], text: str, req_id: int, tag: str,
                markup: dict[str, object] | None = None, exclude: Iterable[int] = ()) -> int:
    skip = set(exclude)
    n = 0
    for m in people:
        if m.id not in skip:
            await tx.send_text(m.telegram_id, text, markup=markup, ref_kind=REF, ref_id=req_id, tag=tag)
            n += 1
    return n


async def requester_of(tx: Tx, req: LeaveRequest) -> Member:
    m = await members.by_id(tx.conn, req.member_id)
    assert m is not None
    return m


# --- checks used while the dialogue is being answered ------------------------------------


def check_dates(s: Services, kind: str, start: datetime, end: datetime, now: datetime | None = None) -> None:
    """`now`: when the person asked (default: the clock's now)."""
    lv = s.config.leave
    try:
        rules.check_period(kind, start, end, now or s.now(), s.config.tz, sick_grace=lv.sick_grace,
                           max_days=lv.max_days)
    except LeaveInputError as err:
        raise _error(err) from None


def check_start(s: Services, kind: str, start: datetime, now: datetime | None = None) -> None:
    """`now`: when the person gave the start (default: the clock's now)."""
    try:
        rules.check_start(kind, start, now or s.now(), s.config.tz, sick_grace=s.config.leave.sick_grace)
    except LeaveInputError as err:
        raise _error(err) from None


async def check_overlap(s: Services, conn: Any, member: Member, start: datetime, end: datetime) -> None:
    for other in await leave.live_for_member(conn, member.id):
        if rules.overlaps(start, end, other.start_at, other.end_at):
            raise ServiceError("leave.err_overlap", id=other.id,
                               period=txt.period_text(s, other.start_at, other.end_at),
                               status=txt.status_text(s, other))


async def check_start_free(s: Services, conn: Any, member: Member, start: datetime) -> None:
    """A start inside one's own pending or approved leave is refused at once (the end cannot fix it)."""
    await check_overlap(s, conn, member, start, start + timedelta(seconds=1))


def holidays_for(s: Services, draft: LeaveDraft) -> str:
    """Statutory holidays the leave covers while out of the city ('' when the rule does not apply)."""
    start, end = draft.start, draft.end
    if not draft.leaves_city or start is None or end is None:
        return ""
    tz = s.config.tz
    names = rules.holiday_names(start.astimezone(tz).date(), rules.last_day(end, tz), s.calendar)
    return s.texts("core.list_sep").join(s.texts(f"leave.holiday.{n}") if s.texts.has(f"leave.holiday.{n}") else n
                                         for n in names)


async def standin_choices(s: Services, member: Member) -> list[Member]:
    """Who may stand in: active members of the same unit, not the requester."""
    return [m for m in await members.all_members(s.db.read, member.unit_code) if m.active and m.id != member.id]


# --- asking ----------------------------------------------------------------------------------


async def submit(s: Services, member: Member, draft: LeaveDraft, *, at: datetime) -> LeaveRequest:
    """Store the request, file the holiday report a trip out of the city over a statutory holiday owes
    (late when after departure, never refused for it), and open the first step that has someone.
    `at`: when the member sent it — "in advance" and "not in the past" are judged by that."""
    if not can(member, Action.REQUEST_LEAVE):
        raise NotAllowed()
    start, end = draft.start, draft.end
    if not draft.complete() or start is None or end is None or draft.kind is None:
        raise ServiceError("leave.draft_lost")
    check_dates(s, draft.kind, start, end, min(at, s.now()))
    chain = chain_for(s, member)
    if chain is None:
        raise ServiceError("leave.err_no_chain")
    holidays = holidays_for(s, draft)
    async with s.uow() as tx:
        await check_overlap(s, tx.conn, member, start, end)
        if draft.standin_id is not None:
            stand_in = await members.by_id(tx.conn, draft.standin_id)
            if stand_in is None or not stand_in.active or stand_in.unit_code != member.unit_code \
                    or stand_in.id == member.id:
                raise ServiceError("leave.err_bad_standin")
        way = await route(s, tx.conn, member, chain)
        reported = way.chain.mode == "report"
        req_id = await leave.create(
            tx.conn, member_id=member.id, unit_code=member.unit_code, kind=draft.kind, start_at=start, end_at=end,
            destination=draft.destination, leaves_city=bool(draft.leaves_city), reason=draft.reason,
            standin_id=draft.standin_id, chain=way.chain.name, holidays=holidays, now=tx.now,
            filing="report" if reported else "request",
        )
        await leave.add_event(tx.conn, req_id, tx.now, member.id, "reported" if reported else "submitted",
                              name=member.name)
        if way.via:
            await leave.add_event(tx.conn, req_id, tx.now, None, "self_rerouted",
                                  chain=chain_label(s, way.chain.name), left=chain_label(s, way.via[0]))
        req = await leave.get(tx.conn, req_id)
        assert req is not None
        late = False
        if holidays:
            late = await holiday.file_with_request(s, tx, member, req, at=min(at, tx.now))
            kind = "holiday_reported_late" if late else "holiday_reported"
            await leave.add_event(tx.conn, req_id, tx.now, None, kind, holidays=holidays)
        # Through the outbox, so the requester reads it before the first step's progress message.
        key = "leave.submitted_report" if reported else "leave.submitted_holiday_late" if late else \
            "leave.submitted_holiday" if holidays else "leave.submitted"
        await tx.send_text(member.telegram_id, s.texts(key, id=req_id, holidays=esc(holidays),
                                                       chain=esc(chain_label(s, way.chain.name))),
                           markup=txt.withdraw_keyboard(s, req_id), ref_kind=REF, ref_id=req_id, tag="progress")
        if reported:
            await finish(s, tx, req, LeaveStatus.APPROVED, None, None)
        else:
            await open_step(s, tx, req, 0)
        await drafts.mark_done(tx.conn, member.telegram_id, DRAFT_KIND, req_id, tx.now)  # 提交 again: not twice
        fresh = await leave.get(tx.conn, req_id)
        assert fresh is not None
        return fresh


def steps_of(s: Services, req: LeaveRequest) -> list[LeaveStep]:
    """The request's chain, then the fallback (the district office) as the last step."""
    chain = _chain(s, req.chain)
    steps = list(chain.steps) if chain else []
    return steps + [LeaveStep(s.texts("leave.fallback_step"), s.config.leave.fallback)]


async def open_step(s: Services, tx: Tx, req: LeaveRequest, index: int, *, stuck: bool = False) -> None:
    """Ask the approvers of step `index`, skipping steps that resolve to nobody active; approve when
    none is left.

    The fallback (the district office) is asked only when no earlier step had anyone to ask — or
    when the request is `stuck`: its approvers were deactivated undecided (leave_reroute.py). Then
    step `index` is the one they left, and only people not asked there yet are asked. It is never
    asked for a request whose own steps were left out because the requester would approve it
    (submission refuses that one instead).
    """
    steps = steps_of(s, req)
    asked_before = bool(await leave.approvers(tx.conn, req.id))
    requester = await requester_of(tx, req)
    self_skipped = False
    for i in range(index, len(steps)):
        step = steps[i]
        if i == len(steps) - 1 and (asked_before or self_skipped) and not stuck:
            if not asked_before:
                raise ServiceError("leave.err_self_approval", chain=esc(chain_label(s, req.chain)))
            break
        people = await members.all_members(tx.conn)
        active = {m.id for m in people if m.active}
        skip = {req.member_id} | ({a.member_id for a in await leave.approvers(tx.conn, req.id, i)} if stuck else set())
        chosen = rules.select(step.who, req.unit_code, people, _posts(s))
        # A stand-in deactivated meanwhile stands in for nobody: as if there were none.
        away = {m: sub if sub in active else None for m, sub in (await leave.away_now(tx.conn)).items()}
        if req.member_id in {m.id for m in chosen} | {a.member_id for a in rules.with_standins(chosen, away)}:
            self_skipped = True  # the requester's own step: left out, never theirs to decide
            await leave.add_event(tx.conn, req.id, tx.now, None, "self_skipped", step=step.label)
            continue
        approvers = rules.with_standins(chosen, away, exclude=skip)
        if not approvers:
            await leave.add_event(tx.conn, req.id, tx.now, None, "step_skipped", step=step.label)
            continue
        await leave.set_step(tx.conn, req.id, i)
        by_id = {m.id: m for m in people}
        fresh = await leave.get(tx.conn, req.id)
        assert fresh is not None
        body = await card(s, tx, fresh)
        names = []
        for a in approvers:
            await leave.add_approver(tx.conn, req.id, i, a.member_id, a.on_behalf_of, tx.now)
            who = by_id[a.member_id]
            names.append(who.name)
            behalf = s.texts("leave.on_behalf", name=esc(by_id[a.on_behalf_of].name)) if a.on_behalf_of else ""
            text = s.texts("leave.ask_approver", id=req.id, step=esc(step.label), on_behalf=behalf, facts=body,
                           mode=s.texts(f"leave.mode.{step.mode}") if len(approvers) > 1 else "")
            await tx.send_text(who.telegram_id, text, markup=txt.approval_keyboard(s, req.id),
                               ref_kind=REF, ref_id=req.id, tag=f"{ASK_TAG}{i}")
        await tx.add_deadline(REMIND, req.id, tx.now + s.config.leave.remind_after, str(i), {"n": 1})
        who_text = esc(s.texts("core.list_sep").join(names))
        await leave.add_event(tx.conn, req.id, tx.now, None, "step_opened", step=step.label, names=who_text)
        await tx.send_text(requester.telegram_id, s.texts("leave.sent_to", id=req.id, step=esc(step.label),
                                                          names=who_text), ref_kind=REF, ref_id=req.id, tag="progress")
        return
    await finish(s, tx, req, LeaveStatus.APPROVED, None, None)


# --- deciding --------------------------------------------------------------------------------


async def check_can_decide(s: Services, member: Member, request_id: int,
                           conn: Conn | None = None) -> LeaveRequest:
    """The request, if `member` is an undecided approver of its current step; otherwise a refusal.
    `conn`: the deciding transaction's connection (default: committed rows, for the early check)."""
    if not can(member, Action.DECIDE_LEAVE):
        raise NotAllowed()
    conn = s.db.read if conn is None else conn
    req = await leave.get(conn, request_id)
    if req is None:
        raise Stale()
    if not req.pending:
        raise ServiceError("leave.err_already_decided", id=req.id, status=s.texts(f"leave.status.{req.status}"))
    mine = [a for a in await leave.approvers(conn, req.id, req.step) if a.member_id == member.id]
    if not mine:
        raise ServiceError("leave.err_not_approver", id=req.id)
    if mine[0].decision is not None:
        raise ServiceError("leave.err_you_decided", id=req.id)
    return req


async def decide(s: Services, member: Member, request_id: int, decision: Decision, comment: str | None) -> str:
    """Record the approver's decision; move to the next step, or finish. Returns the confirmation text."""
    async with s.uow() as tx:
        # Checked inside the transaction that records the decision: two approvers checking committed
        # rows at once would both pass, and the later one must get the refusal it gets when sequential.
        req = await check_can_decide(s, member, request_id, tx.conn)
        if not await leave.decide(tx.conn, req.id, req.step, member.id, decision.value, comment, tx.now):
            raise ServiceError("leave.err_you_decided", id=req.id)
        steps = steps_of(s, req)
        step = steps[min(req.step, len(steps) - 1)]
        row = next(a for a in await leave.approvers(tx.conn, req.id, req.step) if a.member_id == member.id)
        behalf = await _name(tx, row.on_behalf_of)
        await leave.add_event(tx.conn, req.id, tx.now, member.id, decision.value, name=member.name, step=step.label,
                              comment=comment or "", on_behalf=behalf or "")
        outcome = rules.step_outcome(step.mode, await live_decisions(tx, req.id, req.step))
        requester = await requester_of(tx, req)
        note = s.texts("leave.comment_suffix", comment=esc(comment)) if comment else ""
        if outcome is None:
            await tx.send_text(requester.telegram_id, s.texts(
                "leave.step_partial", id=req.id, name=esc(member.name), step=esc(step.label), comment=note),
                ref_kind=REF, ref_id=req.id, tag="progress")
            return s.texts("leave.decided_waiting", id=req.id)
        await deadlines.cancel(tx.conn, REMIND, req.id, tx.now, str(req.step))
        await escalation.stop_subject(tx, f"leave:{req.step}", req.id)  # decided: no escalation step fires after
        await _close_cards(s, tx, req, decision, member)
        if outcome is Decision.REFUSED:
            await finish(s, tx, req, LeaveStatus.REFUSED, member, comment)
            return s.texts("leave.decided_refused", id=req.id)
        nxt = req.step + 1
        has_next = nxt < len(steps) - 1
        if has_next:
            await tx.send_text(requester.telegram_id, s.texts(
                "leave.step_approved", id=req.id, name=esc(member.name), step=esc(step.label), comment=note),
                ref_kind=REF, ref_id=req.id, tag="progress")
            await open_step(s, tx, req, nxt)
        else:
            await finish(s, tx, req, LeaveStatus.APPROVED, member, comment)
        return s.texts("leave.decided_approved", id=req.id)


async def _step_cards(tx: Tx, req: LeaveRequest) -> list[OutboxRow]:
    """The current step's approval cards, of approvers who may still be told (not deactivated since)."""
    cards = await outbox.sent_messages(tx.conn, REF, req.id, f"{ASK_TAG}{req.step}")
    return await still_told(tx.conn, cards, lambda m: can(m, Action.DECIDE_LEAVE))
async def live_decisions(tx: Tx, request_id: int, step: int) -> list[str | None]:
    """The decisions at a step that count: an approver deactivated before deciding no longer does."""
    active = {m.id for m in await members.all_members(tx.conn) if m.active}
    return [a.decision for a in await leave.approvers(tx.conn, request_id, step)
            if a.decision is not None or a.member_id in active]


async def _close_cards(s: Services, tx: Tx, req: LeaveRequest, decision: Decision, by: Member) -> None:
    """The step is decided: every approver's card loses its buttons and says who decided."""
    fresh = await leave.get(tx.conn, req.id)
    assert fresh is not None
    body = await card(s, tx, fresh)
    text = s.texts("leave.card_closed", id=req.id, facts=body,
                   outcome=s.texts(f"leave.outcome.{decision.value}", name=esc(by.name), time=s.fmt.dt(tx.now)))
    for row in await _step_cards(tx, req):
        await tx.send(row.chat_id, outbox.EDIT_TEXT, {"edit_of": row.id, "text": text, "parse_mode": "HTML"},
                      ref_kind=REF, ref_id=req.id, tag="card_edit")


async def finish(s: Services, tx: Tx, req: LeaveRequest, status: LeaveStatus, by: Member | None,
                 comment: str | None) -> None:
    """Approved or refused: the requester, the stand-in, notify-only recipients and the archive are told."""
    if not await leave.set_status(tx.conn, req.id, status, tx.now):
        return
    fresh = await leave.get(tx.conn, req.id)
    assert fresh is not None
    requester = await requester_of(tx, fresh)
    note = s.texts("leave.comment_suffix", comment=esc(comment)) if comment else ""
    body = await card(s, tx, fresh)
    told = {requester.id}
    if status is LeaveStatus.REFUSED:
        await leave.add_event(tx.conn, req.id, tx.now, by.id if by else None, "refused_final")
        await tx.send_text(requester.telegram_id, s.texts("leave.refused", id=req.id, name=esc(by.name if by else ""),
                                                          comment=note), ref_kind=REF, ref_id=req.id, tag="result")
    elif fresh.reported:  # a written report: in effect now, approved by nobody; the requester knows (submit)
        await leave.add_event(tx.conn, req.id, tx.now, None, "report_filed")
    else:
        if by is None and not any(a.decision == Decision.APPROVED for a in await leave.approvers(tx.conn, req.id)):
            await leave.add_event(tx.conn, req.id, tx.now, None, "no_approver")
        await leave.add_event(tx.conn, req.id, tx.now, by.id if by else None, "approved_final")
        await tx.send_text(requester.telegram_id, s.texts("leave.approved", id=req.id, comment=note,
                                                          period=txt.period_text(s, fresh.start_at, fresh.end_at)),
                           ref_kind=REF, ref_id=req.id, tag="result")
    if status is LeaveStatus.APPROVED:
        if fresh.standin_id is not None:
            stand_in = await members.by_id(tx.conn, fresh.standin_id)
            if stand_in is not None and stand_in.active:
                await tx.send_text(stand_in.telegram_id, s.texts(
                    "leave.standin_told", name=esc(requester.name),
                    period=txt.period_text(s, fresh.start_at, fresh.end_at)),
                    ref_kind=REF, ref_id=req.id, tag="standin")
                told.add(stand_in.id)
        chain = _chain(s, fresh.chain)
        notify = await audience(s, tx, chain.notify if chain else (), fresh.unit_code, exclude=told)
        key = "leave.report_notify" if fresh.reported else "leave.notify"
        text = s.texts(key, id=req.id, facts=body)
        await _tell(tx, notify, text, req.id, "notify")
        told |= {m.id for m in notify}
        for chat_id in chain.notify_chats if chain else ():
            await tx.send_text(chat_id, text, ref_kind=REF, ref_id=req.id, tag="notify_chat")
        await plan_leave(s, tx, fresh)
    archive = await audience(s, tx, s.config.leave.archive, fresh.unit_code, exclude=told)
    key = ("leave.archive_reported" if fresh.reported else "leave.archive_approved") \
        if status is LeaveStatus.APPROVED else "leave.archive_refused"
    await _tell(tx, archive, s.texts(key, id=req.id, facts=body, name=esc(by.name if by else ""), comment=note),
                req.id, "archive")


async def plan_leave(s: Services, tx: Tx, req: LeaveRequest) -> None:
    """Deadlines of approved leave: start and end (alert routing), the return-day reminder, the overdue check."""
    now = tx.now
    if req.start_at <= now < req.end_at:
        await leave.set_on_leave(tx.conn, req.id, True)
    elif req.start_at > now:
        await tx.add_deadline(BEGIN, req.id, req.start_at)
    if req.end_at > now:
        await tx.add_deadline(END, req.id, req.end_at)
    remind, due = back_times(s, req, now)
    await tx.add_deadline(BACK_REMIND, req.id, remind)
    await tx.add_deadline(BACK_DUE, req.id, due)


def back_times(s: Services, req: LeaveRequest, approved_at: datetime | None = None) -> tuple[datetime, datetime]:
    """When approved leave's member is reminded to report back, and when not having done so is alerted."""
    lv = s.config.leave
    return rules.back_deadlines(req.end_at, s.config.tz, crontab.parse(lv.back_remind_at), lv.back_grace, s.calendar,
                                approved_at or req.decided_at)


# --- withdrawing (撤回) -----------------------------------------------------------------------


async def withdraw(s: Services, member: Member, request_id: int | None = None) -> str:
    """The member takes back a request still being approved, or approved leave not yet begun
    (leave under way ends with 销假 instead). Without an id: the only such request, if one.
    The approvers' cards lose their buttons; whoever was told of an approval is told it is off."""
    if not can(member, Action.REQUEST_LEAVE):
        raise NotAllowed()
    async with s.uow() as tx:
        if request_id is None:
            open_ = [r for r in await leave.live_for_member(tx.conn, member.id)
                     if r.status is LeaveStatus.PENDING or r.start_at > tx.now]
            if not open_:
                raise ServiceError("leave.err_nothing_to_withdraw")
            if len(open_) > 1:
                raise ServiceError("leave.err_which_to_withdraw",
                                   ids=s.texts("core.list_sep").join(f"#{r.id}" for r in open_))
            req = open_[0]
        else:
            found = await leave.get(tx.conn, request_id)
            if found is None or found.member_id != member.id:
                raise Stale()
            req = found
        if req.status is LeaveStatus.CANCELLED:
            raise ServiceError("leave.err_already_withdrawn", id=req.id)
        if req.status is LeaveStatus.REFUSED:
            raise ServiceError("leave.err_already_decided", id=req.id, status=s.texts(f"leave.status.{req.status}"))
        if req.status is LeaveStatus.APPROVED and req.start_at <= tx.now:
            raise ServiceError("leave.err_withdraw_started", id=req.id)
        if not await leave.withdraw(tx.conn, req.id):
            raise Stale()
        for kind in (REMIND, BEGIN, END, BACK_REMIND, BACK_DUE):
            await deadlines.cancel(tx.conn, kind, req.id, tx.now)
        await holiday_reports.withdraw_for_request(tx.conn, req.id, tx.now)
        await leave.add_event(tx.conn, req.id, tx.now, member.id, "withdrawn", name=member.name)
        fresh = await leave.get(tx.conn, req.id)
        assert fresh is not None
        body = await card(s, tx, fresh)
        if req.status is LeaveStatus.PENDING:
            text = s.texts("leave.card_withdrawn", id=req.id, facts=body, time=s.fmt.dt(tx.now))
            for row in await _step_cards(tx, req):
                await tx.send(row.chat_id, outbox.EDIT_TEXT, {"edit_of": row.id, "text": text, "parse_mode": "HTML"},
                              ref_kind=REF, ref_id=req.id, tag="card_edit")
        else:  # approved: the stand-in, the notified and the archive heard of it
            told = {member.id}
            off = s.texts("leave.withdrawn_notice", id=req.id, name=esc(member.name), facts=body)
            if req.standin_id is not None:
                stand_in = await members.by_id(tx.conn, req.standin_id)
                if stand_in is not None and stand_in.active:
                    await tx.send_text(stand_in.telegram_id, s.texts("leave.standin_withdrawn", name=esc(member.name),
                                       period=txt.period_text(s, req.start_at, req.end_at)),
                                       ref_kind=REF, ref_id=req.id, tag="standin")
                    told.add(stand_in.id)
            chain = _chain(s, req.chain)
            selectors = (*(chain.notify if chain else ()), *s.config.leave.archive)
            await _tell(tx, await audience(s, tx, selectors, req.unit_code, exclude=told), off, req.id, "withdrawn")
            for chat_id in chain.notify_chats if chain else ():
                await tx.send_text(chat_id, off, ref_kind=REF, ref_id=req.id, tag="withdrawn")
        return s.texts("leave.withdrawn", id=req.id)


# --- reporting back (销假) ------------------------------------------------------------------


async def report_back(s: Services, member: Member, request_id: int | None = None, *, at: datetime) -> str:
    """Record the actual return of the member's leave under way (or the one named), as reported `at`
    (when the member sent it: on time if that was, whenever the bot got to it). Returns the reply."""
    if not can(member, Action.REQUEST_LEAVE):
        raise NotAllowed()
    async with s.uow() as tx:
        now = min(at, tx.now)
        live = [r for r in await leave.live_for_member(tx.conn, member.id) if r.status is LeaveStatus.APPROVED]
        if request_id is not None:
            req = await leave.get(tx.conn, request_id)
            if req is None or req.member_id != member.id:
                raise Stale()
            if req.returned_at is not None:
                raise ServiceError("leave.err_already_back", id=req.id, time=s.fmt.dt(req.returned_at))
            if req.status is not LeaveStatus.APPROVED:
                raise Stale()
        else:
            started = [r for r in live if r.start_at <= now]
            if not started:
                raise ServiceError("leave.err_nothing_to_report" if not live else "leave.err_not_started")
            req = started[0]
        if req.start_at > now:
            raise ServiceError("leave.err_not_started")
        if not await leave.mark_returned(tx.conn, req.id, now):
            raise ServiceError("leave.err_already_back", id=req.id, time=s.fmt.dt(now))
        for kind in (BEGIN, END, BACK_REMIND, BACK_DUE):
            await deadlines.cancel(tx.conn, kind, req.id, tx.now)
        due_day = rules.return_day(req.end_at, s.config.tz, s.calendar)
        local_today = now.astimezone(s.config.tz).date()
        if now < req.end_at:
            how, key = "early", "leave.back_early"
        elif local_today > due_day:
            how, key = "late", "leave.back_late"
        else:
            how, key = "on_time", "leave.back_on_time"
        await leave.add_event(tx.conn, req.id, now, member.id, "returned", name=member.name,
                              how=s.texts(f"leave.how.{how}"))
        text = s.texts("leave.back_report", name=esc(member.name), unit=esc(s.unit_name(member.unit_code)), id=req.id,
                       period=txt.period_text(s, req.start_at, req.end_at), time=s.fmt.dt(now),
                       how=s.texts(f"leave.how.{how}"))
        told = {member.id}
        if req.standin_id is not None:
            stand_in = await members.by_id(tx.conn, req.standin_id)
            if stand_in is not None and stand_in.active:
                await tx.send_text(stand_in.telegram_id, s.texts("leave.standin_released", name=esc(member.name)),
                                   ref_kind=REF, ref_id=req.id, tag="standin")
                told.add(stand_in.id)
        selectors = s.config.leave.archive + (s.config.leave.overdue_notify if how == "late" else ())
        await _tell(tx, await audience(s, tx, selectors, req.unit_code, exclude=told), text, req.id, "back")
        if req.back_alerted_at is not None and now < back_times(s, req)[1]:
            # Reported back before the overdue check, but that ran first (the report waited in
            # Telegram's queue): whoever was told it was missing hears it was not.
            await leave.add_event(tx.conn, req.id, tx.now, None, "back_overdue_withdrawn")
            fixed = s.texts("leave.back_overdue_withdrawn", name=esc(member.name), id=req.id, time=s.fmt.dt(now))
            await _tell(tx, await audience(s, tx, s.config.leave.overdue_notify, req.unit_code, exclude=told), fixed,
                        req.id, "back_overdue_withdrawn")
        return s.texts(key, id=req.id, time=s.fmt.dt(now))


# --- who is away, history, export ----------------------------------------------------------


def away_window(s: Services, arg: str | None) -> tuple[datetime, datetime, str] | None:
    """today | week | YYYY-MM-DD (or MM-DD) → [start, end) and a label; None when unreadable."""
    tz = s.config.tz
    today = s.now().astimezone(tz).date()
    word = (arg or "today").strip().lower()
    if word in ("today", "今天"):
        first, days = today, 1
    elif word in ("week", "本周", "一周"):
        first, days = today, 7
    else:
        try:
            point = rules.parse_day(word, today)
        except LeaveInputError:
            return None
        first, days = point.day, 1
    start = rules.DayPoint(first).start(tz)
    end = rules.DayPoint(first + timedelta(days=days - 1)).end(tz)
    label = s.texts("leave.away_label_one", day=txt.start_text(s, start)) if days == 1 else s.texts(
        "leave.away_label_range", start=txt.start_text(s, start), end=txt.end_text(s, end))
    return start, end, label


async def away_text(s: Services, member: Member, arg: str | None) -> str:
    """Who is away in the window, grouped by unit; unit heads see their own unit only."""
    if not can(member, Action.VIEW_AWAY):
        raise NotAllowed()
    window = away_window(s, arg)
    if window is None:
        raise ServiceError("leave.away_usage")
    start, end, label = window
    unit = None if member.district_wide else member.unit_code
    conn = s.db.read
    found = await leave.approved_between(conn, start, end, unit)
    now = s.now()
    overdue = [r for r in await leave.overdue_back(conn, unit) if r.id not in {f.id for f in found}] \
        if start <= now < end + timedelta(days=1) else []
    trips = await holiday.away_lines(s, conn, start, end, unit)
    if not found and not overdue:
        return "\n".join([s.texts("leave.away_none", label=label), *trips])
    lines = [s.texts("leave.away_title", label=label, count=len(found))]
    current = None
    names = {m.id: m.name for m in await members.all_members(conn)}
    for req in found + overdue:
        if req.unit_code != current:
            current = req.unit_code
            lines.append(s.texts("leave.away_unit", unit=esc(s.unit_name(req.unit_code))))
        late = s.texts("leave.away_overdue") if req.back_alerted_at and req.returned_at is None else ""
        lines.append(s.texts(
            "leave.away_line", name=esc(names.get(req.member_id, "?")), kind=s.texts(f"leave.kind.{req.kind}"),
            period=txt.period_text(s, req.start_at, req.end_at), destination=esc(req.destination) or "—",
            city=txt.city_text(s, req.leaves_city), late=late,
            standin=esc(names.get(req.standin_id, "?")) if req.standin_id else s.texts("leave.no_standin")))
    return "\n".join(lines + trips)


async def history_text(s: Services, member: Member, limit: int = 10) -> str:
    conn = s.db.read
    found = await leave.for_member(conn, member.id, limit)
    if not found:
        return s.texts("leave.history_none")
    names = {m.id: m.name for m in await members.all_members(conn)}
    blocks = [s.texts("leave.history_title", count=len(found))]
    for req in found:
        trail = [s.texts("leave.trail_line", time=s.fmt.dt(at), text=txt.event_text(s, kind, d))
                 for at, _actor, kind, d in await leave.events(conn, req.id)]
        back = s.texts("leave.history_back", time=s.fmt.dt(req.returned_at)) if req.returned_at else ""
        blocks.append(s.texts(
            "leave.history_item", id=req.id, kind=s.texts(f"leave.kind.{req.kind}"),
            period=txt.period_text(s, req.start_at, req.end_at), status=txt.status_text(s, req),
            destination=esc(req.destination) or "—",
            standin=esc(names.get(req.standin_id, "?")) if req.standin_id else s.texts("leave.no_standin"),
            back=back, trail="\n".join(trail)))
    # Whole requests only (a cut could split an HTML tag); the newest come first.
    kept = blocks[:2]
    for block in blocks[2:]:
        if sum(len(b) + 2 for b in kept) + len(block) > 4000:
            break
        kept.append(block)
    return "\n\n".join(kept)


async def export_rows(s: Services, start: datetime, end: datetime, by: str = "created") -> list[dict[str, Any]]:
    """Hook for the statistics export: the requests of a period (see storage.leave.export for `by`),
    each with its trail and its approvers' decisions."""
    rows = await leave.export(s.db.read, start, end, by)
    for row in rows:
        row["trail"] = [{"at": at.isoformat(), "actor_id": actor, "kind": kind, **d}
                        for at, actor, kind, d in await leave.events(s.db.read, row["id"])]
        row["approvers"] = [dataclasses.asdict(a) for a in await leave.approvers(s.db.read, row["id"])]
    return rows
