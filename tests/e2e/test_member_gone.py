"""Nothing waits on someone who is gone (issue 23, item 6): a member deactivated while a leave
request, a 督办事项 or a notice receipt waits on them — it moves on at once, and people are told.

Member ids follow registration order: in `cast`, 李信息 1, 王主任 2, 赵信息 3, 陈值班 4, 刘主任 5,
孙区长 6, 周管理 7 (admin). The fake clock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.leave import LeaveStatus
from bot.domain.notices import Audience, AudienceSpec
from bot.emulator import SimUser
from bot.harness import Desk
from bot.services import notices as notice_svc
from storage import leave, members, notices
from tests.conftest import Cast
from tests.e2e.test_leave import Office, ask_leave, decide
from tests.e2e.test_leave import office as office  # noqa: F401  (the fixture)
from tests.e2e.test_supervision import assign


def count(who: SimUser, text: str) -> int:
    return sum(text in (m.text or "") for m in who.inbox)


async def deactivate(desk: Desk, admin: SimUser, member_id: int) -> None:
    await admin.send_command("/deactivate", str(member_id))
    await admin.wait_for("已停用")
    await desk.settle()


async def test_a_leave_request_whose_approver_is_deactivated_goes_to_the_fallback(desk: Desk, cast: Cast) -> None:
    await ask_leave(cast.officer)  # 其他人员: 本单位负责人审批 (王主任), then the district office
    await desk.settle()
    await cast.head.wait_for("请假审批")
    await deactivate(desk, cast.admin, 2)
    told = await cast.officer.wait_for("已停用")
    assert "王主任" in told.text and "本单位负责人审批" in told.text
    await cast.officer.wait_for("已送「区委办公室审批」：刘主任")
    assert "已自动转下一审批环节" in (await cast.duty.wait_for("王主任")).text
    card = await cast.director.wait_for("请假审批")
    assert "李信息" in card.text
    assert "已批准请假" in await decide(cast.director, card=card)
    await desk.settle()
    req = await leave.get(desk.db.read, 1)
    assert req is not None and req.status is LeaveStatus.APPROVED


async def test_the_last_steps_approver_deactivated_is_not_an_approval(office: Office) -> None:
    """A street chief's chain: 政府办主任签报, then 区长审批. The 区长 goes while asked: the request is
    not waved through (nobody left in the chain) but goes to the district office."""
    desk = office.desk
    await ask_leave(office.chief)
    await desk.settle()
    await decide(office.gov_office)
    await desk.settle()
    await office.district_head.wait_for("请假审批")
    admin = await desk.register("admin", "周管理", "office", "admin")
    await deactivate(desk, admin, 4)
    await office.chief.wait_for("已停用")
    await office.director.wait_for("请假审批")
    req = await leave.get(desk.db.read, 1)
    assert req is not None and req.status is LeaveStatus.PENDING
    assert count(office.chief, "已批准") == 0


async def test_a_deactivation_that_bypassed_the_use_case_is_caught_by_the_reminder(desk: Desk, cast: Cast) -> None:
    await ask_leave(cast.officer)
    await desk.settle()
    async with desk.db.tx() as conn:  # e.g. edited in the database by hand
        await members.set_active(conn, 2, False, desk.clock.now())
    await desk.advance(hours=2)  # the approvers' reminder: nobody active to remind
    await cast.officer.wait_for("已停用")
    await cast.director.wait_for("请假审批")
    assert count(cast.head, "已等待您审批") == 0


async def test_a_unit_whose_only_head_is_deactivated_is_named_to_the_office(desk: Desk, cast: Cast) -> None:
    await assign(desk, cast, due="3天")
    await cast.head.wait_for("新的督办事项")
    await deactivate(desk, cast.admin, 2)
    told = await cast.director.wait_for("已无人可签收")
    assert "建设路街道" in told.text and "王主任" in told.text and "/invite" in told.text
    await cast.leader.wait_for("已无人可签收")
    await cast.officer.wait_for("暂时无人可签收")


async def test_a_second_head_still_there_means_nothing_to_say(desk: Desk, cast: Cast) -> None:
    await desk.register("head2", "钱主任", "jianshelu", "unit_head")
    await assign(desk, cast, due="3天")
    await deactivate(desk, cast.admin, 2)
    assert count(cast.director, "已无人可签收") == 0


async def _notice_to(desk: Desk, cast: Cast, *units: str) -> notices.Notice:
    sender = await members.by_telegram_id(desk.db.read, cast.director.id)
    assert sender is not None
    draft = notice_svc.NoticeDraft(title="关于防汛值班的通知", body="请做好防汛值班。",
                                   audience=AudienceSpec(Audience.UNITS, units=units))
    n = await notice_svc.send_notice(desk.services, sender, draft)
    await desk.settle()
    return n


async def test_a_receipt_owed_by_a_deactivated_member_goes_to_the_unit_head(desk: Desk, cast: Cast) -> None:
    n = await _notice_to(desk, cast, "jianshelu")
    await cast.officer.wait_for("防汛值班")
    await cast.head.press(await cast.head.wait_for("防汛值班"), text="✅ 已阅/收到")
    await desk.settle()
    await deactivate(desk, cast.admin, 1)
    moved = await cast.director.wait_for("代签")
    assert "李信息" in moved.text and "王主任" in moved.text
    again = await cast.head.wait_for("已停用")
    assert "李信息" in again.text and "防汛值班" in again.text
    await cast.head.press(again, text="✅ 已阅/收到")
    await desk.settle()
    receipts = {r.name: r for r in await notices.receipts(desk.db.read, n.id)}
    assert receipts["李信息"].received and receipts["李信息"].asked_name == "王主任"


async def test_a_unit_left_with_nobody_to_sign_is_named_to_the_sender(desk: Desk, cast: Cast) -> None:
    await _notice_to(desk, cast, "mianfanglu")  # 赵信息 only: no head registered there
    await cast.other_officer.wait_for("防汛值班")
    await deactivate(desk, cast.admin, 3)
    told = await cast.director.wait_for("无人可签收")
    assert "棉纺路街道" in told.text and "赵信息" in told.text


async def test_a_step_is_never_opened_with_a_stand_in_who_is_gone(desk: Desk, cast: Cast) -> None:
    """王主任 is on leave with 钱干事 standing in; 钱干事 was deactivated since. 李信息's request must not
    wait on 钱干事: with nobody active at 本单位负责人审批, it goes to the district office."""
    await desk.register("standin", "钱干事", "jianshelu", "officer")  # member 8
    now = desk.clock.now()
    async with desk.db.tx() as conn:
        away = await leave.create(conn, member_id=2, unit_code="jianshelu", kind="personal", start_at=now,
                                  end_at=now + timedelta(days=5), destination="北京", leaves_city=True, reason="",
                                  standin_id=8, chain="staff", holidays="", now=now)
        await leave.set_status(conn, away, LeaveStatus.APPROVED, now)
        await leave.set_on_leave(conn, away, True)
    await deactivate(desk, cast.admin, 8)
    await ask_leave(cast.officer, start="11-30", end="12-01")
    await desk.settle()
    await cast.officer.wait_for("已送「区委办公室审批」：刘主任")
    assert not await leave.pending_for(desk.db.read, 8)


# --- 办文 and 交接班: only the people named can move them --------------------------------------


async def test_a_document_whose_leader_is_deactivated_goes_back_to_the_office(desk: Desk, cast: Cast) -> None:
    from tests.e2e.test_documents import propose, register

    card = await register(cast.duty)
    await propose(cast.duty, card)  # 孙区长 (6) named to 批办
    ask = await cast.leader.wait_for("请批办")
    await deactivate(desk, cast.admin, 6)
    told = await cast.duty.wait_for("已停用")
    assert "孙区长" in told.text and "重新拟办" in told.text and "✍️ 拟办" in [t for t, _ in told.buttons]
    assert "孙区长" in (await cast.director.wait_for("批办领导 孙区长 已停用")).text
    assert not [m for m in cast.leader.inbox if m.message_id == ask.message_id][0].buttons  # the card closed
    await cast.leader.press_raw("dc:ok:1", ask.message_id)  # gone: refused, nothing moves
    await cast.leader.wait_for_answer()
    # The office proposes again, to a leader still there, and the document moves on.
    await cast.duty.press(told, text="✍️ 拟办")
    await cast.duty.wait_for("拟办意见")
    await cast.duty.send_text("请王主任牵头落实")
    await cast.duty.wait_for("承办人")
    await cast.duty.send_text("王主任")
    asked = await cast.duty.wait_for("批办领导")
    assert "孙区长" not in [t for t, _ in asked.buttons]
    await cast.duty.press(asked, text="刘主任")
    await cast.duty.press(await cast.duty.wait_for("办理时限"), text="按默认")
    await cast.duty.press(await cast.duty.wait_for("请核对后呈批"), text="📨 呈批")
    await cast.director.press(await cast.director.wait_for("请批办"), text="✅ 批办")
    await cast.head.wait_for("交办")


async def test_a_document_whose_handler_is_deactivated_is_routed_again(desk: Desk, cast: Cast) -> None:
    from storage import documents
    from tests.e2e.test_documents import propose, register

    card = await register(cast.duty)
    await propose(cast.duty, card)  # handler 王主任 (2)
    await cast.leader.press(await cast.leader.wait_for("请批办"), text="✅ 批办")
    assigned = await cast.head.wait_for("交办")
    await deactivate(desk, cast.admin, 2)
    told = await cast.duty.wait_for("承办人 王主任 已停用")
    assert "另定承办人" in told.text and "✍️ 拟办" in [t for t, _ in told.buttons]
    await cast.leader.wait_for("承办人 王主任 已停用")  # the 批办 they gave is void
    await cast.director.wait_for("承办人 王主任 已停用")
    d = await documents.get(desk.db.read, 1)
    assert d is not None and d.state.value == "registered" and d.handler_id is None and d.assigned_at is None
    assert not [m for m in cast.head.inbox if m.message_id == assigned.message_id][0].buttons  # the card closed
    await desk.advance(days=4)  # the limit passes: the office, not the gone handler, is chased
    assert count(cast.duty, "记为逾期") == 1 and count(cast.head, "逾期") == 0


async def test_a_phone_approval_whose_leader_is_deactivated_is_told_to_the_office(desk: Desk, cast: Cast) -> None:
    from storage import documents
    from tests.e2e.test_documents import propose, register

    card = await register(cast.duty, title="关于寒潮天气应急响应的紧急通知", urgency="特急", summary=None)
    await propose(cast.duty, card)
    await cast.duty.press([m for m in cast.duty.inbox if "已呈" in (m.text or "")][-1], text="📞 电话请示")
    await cast.duty.wait_for("已记录电话请示")
    await desk.settle()
    await deactivate(desk, cast.admin, 6)
    assert "线下补办签批" in (await cast.duty.wait_for("无法在机器人中补签")).text
    await cast.director.wait_for("无法在机器人中补签")
    await desk.advance(hours=25)  # no reminder to sign, no 'not signed' alert: the office knows
    assert count(cast.director, "未在") == 0 and count(cast.leader, "请补签") == 0
    d = await documents.get(desk.db.read, 1)
    assert d is not None and d.state.value == "assigned" and d.handler_id == 2  # the handling goes on


async def test_a_handover_whose_incoming_officer_is_deactivated_is_told_at_once(desk: Desk, cast: Cast) -> None:
    from tests.e2e.test_unsaved_answers import Scene, a_handover

    s = Scene(desk, cast)
    await a_handover(s)  # 陈值班 (4) hands over to 吴值班 (8)
    await deactivate(desk, cast.admin, 8)
    alert = await cast.director.wait_for("交接班无人接班")
    assert "吴值班" in alert.text and "/duty set" in alert.text
    await cast.duty.wait_for("交接班无人接班")
    await desk.advance(hours=1)  # no second alert when the takeover window ends
    assert count(cast.director, "交接班未完成") == 0 and count(cast.director, "交接班无人接班") == 1


async def test_a_handover_with_another_incoming_officer_left_says_nothing(desk: Desk, cast: Cast) -> None:
    from tests.e2e.test_unsaved_answers import Scene, a_handover

    s = Scene(desk, cast)
    await a_handover(s)
    await deactivate(desk, cast.admin, 4)  # the outgoing officer, not an incoming one
    assert count(cast.director, "交接班无人接班") == 0


async def test_a_document_whose_registrar_is_deactivated_is_owed_by_the_directors(desk: Desk, cast: Cast) -> None:
    """拟办 is the office's work: the registrar gone, the reminder and the overdue notice reach the
    directors instead of nobody."""
    from tests.e2e.test_documents import register

    await register(cast.duty, urgency="平件")
    gone = await members.by_telegram_id(desk.db.read, cast.duty.id)
    assert gone is not None
    await deactivate(desk, cast.admin, gone.id)
    await desk.advance(days=2, minutes=1)  # a day before the 3-day limit of a 平件
    reminder = await cast.director.wait_for("还剩")
    assert "拟办" in (reminder.text or "") or "登记" in (reminder.text or "")
    await desk.advance(days=1)
    await cast.director.wait_for("记为逾期")
    assert count(cast.duty, "还剩") == 0
