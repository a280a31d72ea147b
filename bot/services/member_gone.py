"""Nothing waits on someone who is gone (issue 23, item 6).

A member deactivated while a leave request waits for their decision, while they are the only one
who can 签收 or report a unit's 督办事项, or while a notice waits for their receipt: the request
would never move, and nobody would be told. `member_gone` runs in the deactivation's transaction
(bot/services/registration.py) and moves each of them on at once:

- **Leave**: a step with nobody active left to decide is asked again of whoever now holds it, else
  the next step, else the fallback (the district office); if everyone still in office at that step
  had agreed, it counts as agreed. The requester and the office (the leave archive) are told. The
  same check runs when a step is entered (`leave.open_step` asks only active people) and when the
  approvers' reminder fires (`unstick`: a deactivation that bypassed this use case).
- **Supervision**: only a unit head may 签收 or report 办结; when the unit's last one goes, the
  assigning director and the responsible leader hear that nobody can act for the unit (an admin
  must invite a new head), and so do the unit's officers.
- **Notices**: a receipt still owed by the person goes to their unit's head, who signs on their
  behalf (as a stand-in does); a unit with no head left is named to the sender.
- **Documents** (bot/services/documents.py): only the leader named may 批办 and only the handler
  named may 办结; either gone, the routing is void and the document is back at 拟办 with the office
  told; a phone approval its leader can no longer 补签 is told to the office.
- **Handovers** (bot/services/handover.py): only the incoming officers of a shift change may 接班;
  the last of them gone, the directors and the outgoing officers are told at once.
"""

from __future__ import annotations

from bot.domain import leave as leave_rules
from bot.domain.leave import Decision, LeaveStatus
from bot.domain.members import Member, Role
from bot.domain.supervision import AssignmentState
from bot.fmt import esc
from bot.services import documents, handover, routing
from bot.services import notice_text as notice_txt
from bot.services import supervision_text as task_txt
from bot.services.base import Services
from bot.services.leave import REF as LEAVE_REF
from bot.services.leave import REMIND, audience, finish, live_decisions, open_step, requester_of, steps_of
from bot.services.notices import REF as NOTICE_REF
from bot.services.notices import deliver_to
from bot.services.supervision import directors_of, leader_of, tell
from storage import deadlines, leave, members, notices
from storage import supervision as store
from storage.leave import LeaveRequest
from storage.uow import Tx


async def member_gone(s: Services, tx: Tx, gone: Member) -> None:
    """In the transaction that deactivates `gone`: whatever waited on them moves on."""
    for req_id in await leave.pending_for(tx.conn, gone.id):
        req = await leave.get(tx.conn, req_id)
        if req is not None:
            await unstick(s, tx, req)
    if gone.has(Role.UNIT_HEAD):
        await _unit_lost_head(s, tx, gone)
    for notice_id in await notices.open_asked_of(tx.conn, gone.id):
        await _receipts_of(s, tx, gone, notice_id)
    await documents.member_gone(s, tx, gone)
    await handover.incoming_gone(s, tx, gone)


# --- leave --------------------------------------------------------------------------------


async def unstick(s: Services, tx: Tx, req: LeaveRequest) -> bool:
    """A pending request whose current step nobody active is left to decide moves on (see the
    module's docstring); True when it did."""
    if not req.pending:
        return False
    rows = await leave.approvers(tx.conn, req.id, req.step)
    people = {m.id: m for m in await members.all_members(tx.conn)}
    if any(a.decision is None and people[a.member_id].active for a in rows if a.member_id in people):
        return False
    gone = [people[a.member_id].name for a in rows if a.decision is None and a.member_id in people]
    steps = steps_of(s, req)
    step = steps[min(req.step, len(steps) - 1)]
    listed = s.texts("core.list_sep").join(gone)
    names = esc(listed)
    await deadlines.cancel(tx.conn, REMIND, req.id, tx.now, str(req.step))
    await leave.add_event(tx.conn, req.id, tx.now, None, "approver_gone", step=step.label, names=listed)
    requester = await requester_of(tx, req)
    await tx.send_text(requester.telegram_id, s.texts("leave.approver_gone", id=req.id, step=esc(step.label),
                                                      names=names), ref_kind=LEAVE_REF, ref_id=req.id, tag="progress")
    office = await audience(s, tx, s.config.leave.archive, req.unit_code, exclude=[requester.id])
    text = s.texts("leave.approver_gone_office", id=req.id, name=esc(requester.name),
                   unit=esc(s.unit_name(req.unit_code)), step=esc(step.label), names=names)
    for m in office:
        await tx.send_text(m.telegram_id, text, ref_kind=LEAVE_REF, ref_id=req.id, tag="approver_gone")
    if leave_rules.step_outcome(step.mode, await live_decisions(tx, req.id, req.step)) is Decision.APPROVED:
        # Everyone still in office at this step had agreed: the step is done.
        if req.step + 1 < len(steps) - 1:
            await open_step(s, tx, req, req.step + 1)
        else:
            await finish(s, tx, req, LeaveStatus.APPROVED, None, None)
    else:
        await open_step(s, tx, req, req.step, stuck=True)
    return True


# --- supervision ----------------------------------------------------------------------------


async def _unit_lost_head(s: Services, tx: Tx, gone: Member) -> None:
    """`gone` was a unit head: if nobody active is left to 签收 or report for the unit, say so."""
    if await members.with_roles(tx.conn, [Role.UNIT_HEAD], gone.unit_code):
        return  # another head is still there
    officers = await members.with_roles(tx.conn, [Role.OFFICER], gone.unit_code)
    unit = esc(s.unit_name(gone.unit_code))
    for task in await store.list_tasks(tx.conn, unit_code=gone.unit_code):
        a = task.assignment_for(gone.unit_code)
        if a is None or a.state not in (AssignmentState.ASSIGNED, AssignmentState.ACCEPTED):
            continue
        kw = {"number": task_txt.label(task), "title": esc(task.title), "unit": unit, "name": esc(gone.name)}
        await tell(tx, [*await directors_of(tx.conn, task), await leader_of(tx.conn, task)],
                   s.texts("task.head_gone_office", **kw), task=task, tag="head_gone",
                   markup=task_txt.detail_keyboard(s, task))
        await tell(tx, list(officers), s.texts("task.head_gone_unit", **kw), task=task, tag="head_gone",
                   markup=task_txt.detail_keyboard(s, task))
        await store.add_event(tx.conn, task.id, a.id, tx.now, None, "head_gone", unit=s.unit_name(a.unit_code),
                              name=gone.name)


# --- notices ------------------------------------------------------------------------------


async def _receipts_of(s: Services, tx: Tx, gone: Member, notice_id: int) -> None:
    """The receipts `gone` still owed on a notice go to the head of each unit they were for."""
    n = await notices.get(tx.conn, notice_id)
    if n is None:
        return
    sender = await members.by_id(tx.conn, n.sender_id)
    owed = [r for r in await notices.receipts(tx.conn, n.id) if r.asked_id == gone.id and not r.received]
    for unit in dict.fromkeys(r.unit_code for r in owed):
        heads = await routing.skip_away(tx.conn, await members.with_roles(tx.conn, [Role.UNIT_HEAD], unit),
                                        exclude=[gone.id])
        head = next((h for h in heads if h.id not in (gone.id, n.sender_id)), None)
        if head is None:
            key, kw = "notice.receipt_orphaned", {"unit": esc(s.unit_name(unit))}
        else:
            await notices.ask_instead(tx.conn, n.id, unit, gone.id, head.id)
            await deliver_to(s, tx, n, [head.id], tag="moved")
            key, kw = "notice.receipt_moved", {"head": esc(head.name)}
        if sender is not None and sender.active:
            await tx.send_text(sender.telegram_id, s.texts(key, title=esc(n.title), name=esc(gone.name), **kw),
                               markup=notice_txt.sender_keyboard(s, n), ref_kind=NOTICE_REF, ref_id=n.id,
                               tag="receipt_moved")
