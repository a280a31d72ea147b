"""The unanswered things besides an incident alert that escalate when the config names a policy for
them (bot/services/escalation.py): an urgent notice unsigned at its deadline (`[escalation]
notice_urgent`), a leave step whose approver stayed silent past the last reminder (`leave`).
Each loader says who is still awaited — nobody left ends the escalation — and what to tell them."""

from __future__ import annotations

from bot.fmt import esc
from bot.i18n import plain
from bot.services import leave_text, notice_text
from bot.services.base import Services
from bot.services.channel_messages import robot_text, robot_title
from bot.services.escalation import Subject, subject
from storage import leave, members, notices
from storage.uow import Tx

# One robot text goes to every robot the step names: neutralised by WeCom's rules, the strictest
# (DingTalk's and more: `<` `>` full-width); Feishu's renderer reads the escapes back.
ROBOT_KIND = "wecom"


@subject("notice")
async def unsigned_notice(s: Services, tx: Tx, notice_id: int, _stage: str) -> Subject | None:
    n = await notices.get(tx.conn, notice_id)
    if n is None:
        return None
    open_ = [r for r in await notices.receipts(tx.conn, n.id) if not r.received]
    waiting = [m for m in [await members.by_id(tx.conn, i) for i in dict.fromkeys(r.asked_id for r in open_)]
               if m is not None and m.active]
    names = s.texts("core.list_sep").join(esc(r.name) for r in open_)
    due = s.fmt.dt(n.due_at)
    return Subject(
        waiting=waiting, units=sorted({r.unit_code for r in open_}),
        tg_text=s.texts("channels.tg.notice_unsigned", title=n.title, due=due, names=names),
        tg_markup=notice_text.recipient_keyboard(s, n),
        sms_text=plain(s.texts("channels.sms.notice_unsigned", title=n.title)),
        robot_title=robot_title(s, "channels.robot.notice_unsigned_title", title=n.title),
        robot_text=robot_text(s, ROBOT_KIND, "channels.robot.notice_unsigned", title=n.title, due=due, names=names),
        ref_kind="notice", ref_id=n.id)


@subject("leave")
async def silent_approver(s: Services, tx: Tx, request_id: int, stage: str) -> Subject | None:
    req = await leave.get(tx.conn, request_id)
    if req is None or not req.pending or stage != f"leave:{req.step}":
        return None  # decided, withdrawn, or moved to its next step
    open_ = [a for a in await leave.approvers(tx.conn, req.id, req.step) if a.decision is None]
    waiting = [m for m in [await members.by_id(tx.conn, a.member_id) for a in open_] if m is not None and m.active]
    requester = await members.by_id(tx.conn, req.member_id)
    name = requester.name if requester else "?"
    waited = s.fmt.dur(tx.now - min((a.asked_at for a in open_), default=tx.now))
    return Subject(
        waiting=waiting, units=[req.unit_code],
        tg_text=s.texts("channels.tg.leave_silent", id=req.id, name=name, waited=waited),
        tg_markup=leave_text.approval_keyboard(s, req.id),
        sms_text=plain(s.texts("channels.sms.leave_silent", id=req.id, name=name, waited=waited)),
        robot_title=robot_title(s, "channels.robot.leave_silent_title", id=req.id),
        robot_text=robot_text(s, ROBOT_KIND, "channels.robot.leave_silent", id=req.id, name=name, waited=waited),
        ref_kind="leave", ref_id=req.id)
