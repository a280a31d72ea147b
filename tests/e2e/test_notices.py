"""Notices with receipts end to end: sending, chasing, meetings, groups, a big broadcast, refusals."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

import pytest

from bot.domain.members import Role
from bot.domain.notices import Audience, AudienceSpec
from bot.emulator import SimUser
from bot.harness import Desk
from bot.pacing import Pacing
from bot.services import notices as svc
from bot.services.errors import ServiceError
from storage import members, notices
from tests.conftest import Cast
from tests.e2e.flows import file_report


async def _dialog_start(who: SimUser, title: str, body: str) -> None:
    await who.send_command("/notice")
    await who.press(await who.wait_for("密级"), text="非密")
    await who.wait_for("通知标题")
    await who.send_text(title)
    await who.wait_for("通知正文")
    await who.send_text(body)
    await who.press(await who.wait_for("附件"), text="无附件")


async def _dialog_finish(who: SimUser, *, urgent: bool = False) -> None:
    await who.press(await who.wait_for("紧急程度"), text="紧急" if urgent else "普通")
    msg = await who.wait_for("需要签收回执吗")
    await who.press(msg, data="nd:rc:def")
    await who.press(await who.wait_for("请核对后发送"), text="📤 发送")


async def _latest_notice(desk: Desk) -> notices.Notice:
    found = await notices.recent(desk.db.conn, None, 1)
    assert found
    return found[0]


async def _final_status(desk: Desk, who: SimUser, message_id: int, timeout: float = 10) -> str:
    """The status line once every delivery is done (it is edited in place)."""
    def done() -> bool:
        msg = desk.emu.message(who.id, message_id)
        return msg is not None and "已全部送达" in (msg.text or "")

    await desk.until(done, timeout)
    return desk.emu.message(who.id, message_id).text or ""  # type: ignore[union-attr]


async def _signed(desk: Desk, notice_id: int) -> dict[str, bool]:
    return {r.name: r.received for r in await notices.receipts(desk.db.conn, notice_id)}


async def test_notice_to_units_receipts_resend_and_deadline(desk: Desk, cast: Cast) -> None:
    head2 = await desk.register("head2", "钱主任", "mianfanglu", "unit_head")
    d = cast.director
    await _dialog_start(d, "关于做好冬季安全生产工作的通知", "请各单位 <立即> 开展隐患排查。")
    await d.press(await d.wait_for("发给谁"), text="选择单位")
    picker = await d.wait_for("接收单位")
    await d.press(picker, data="nd:u:jianshelu")
    await d.press(await d.wait_for("接收单位"), data="nd:u:mianfanglu")
    await d.press(await d.wait_for("接收单位"), text="完成")
    await _dialog_finish(d)
    status = await d.wait_for("通知「关于做好冬季安全生产工作的通知」")  # 发送中 or, edited already, 已全部送达
    assert "已全部送达：4/4" in await _final_status(desk, d, status.message_id)
    n = await _latest_notice(desk)

    # Each recipient has it privately with a receipt button; user text is escaped.
    got = await cast.officer.wait_for("冬季安全生产")
    assert "<立即>" in got.text
    await cast.other_officer.wait_for("冬季安全生产")
    assert not any("冬季安全生产" in (m.text or "") for m in cast.duty.inbox)
    await cast.officer.press(got, text="✅ 已阅/收到")
    await desk.settle()
    assert (await _signed(desk, n.id))["李信息"]
    edited = desk.emu.message(cast.officer.id, got.message_id)
    assert edited is not None and "已签收" in (edited.text or "")

    # 再次提醒 goes to non-receivers only, at most once per 5 minutes.
    before = {u.id: len(u.inbox) for u in (cast.officer, cast.head, cast.other_officer, head2)}
    await d.press(status, text="🔔 再次提醒")
    answer = await d.wait_for_answer()
    assert "3 位" in (answer.text or "")
    await desk.settle()
    assert len(cast.officer.inbox) == before[cast.officer.id]
    assert len(cast.other_officer.inbox) == before[cast.other_officer.id] + 1
    assert "再次提醒" in (cast.other_officer.inbox[-1].text or "")
    await d.press(status, text="🔔 再次提醒")
    assert "刚刚提醒过" in ((await d.wait_for_answer()).text or "")  # too soon
    await desk.settle()
    assert len(cast.other_officer.inbox) == before[cast.other_officer.id] + 1
    await desk.advance(minutes=5)
    await d.press(status, text="🔔 再次提醒")
    assert "3 位" in ((await d.wait_for_answer()).text or "")  # five minutes on, allowed again
    await desk.settle()
    assert len(cast.other_officer.inbox) == before[cast.other_officer.id] + 2

    await cast.head.press(await cast.head.wait_for("冬季安全生产"), text="✅ 已阅/收到")
    await head2.press(await head2.wait_for("冬季安全生产"), text="✅ 已阅/收到")
    await desk.settle()

    # Half the deadline: the automatic re-send, to 赵信息 only.
    n_other = len(cast.other_officer.inbox)
    n_officer = len(cast.officer.inbox)
    await desk.advance(hours=4, minutes=1)
    assert len(cast.other_officer.inbox) == n_other + 1
    assert len(cast.officer.inbox) == n_officer

    # The deadline: the non-receiver's unit head is told; the sender gets the final tally.
    await desk.advance(hours=4)
    told = await head2.wait_for("仍未签收")
    assert "赵信息" in told.text and "李信息" not in told.text
    tally = await d.wait_for("最终情况")
    assert "赵信息" in tally.text and "签收 3/4" in tally.text
    assert not any("仍未签收" in (m.text or "") for m in cast.head.inbox)


async def test_attachments_follow_the_notice_and_urgent_deadline(desk: Desk, cast: Cast) -> None:
    d = cast.director
    await d.send_command("/notice")
    await d.press(await d.wait_for("密级"), text="非密")
    await d.wait_for("通知标题")
    await d.send_text("转发市防指紧急通知")
    await d.wait_for("通知正文")
    await d.send_text("详见附件。")
    await d.wait_for("附件")
    await d.send_document("市防指〔2026〕12号.pdf")
    await d.wait_for("共 1 个")
    await d.send_photo()
    await d.press(await d.wait_for("共 2 个"), text="完成")
    await d.press(await d.wait_for("发给谁"), text="指定人员")
    await d.wait_for("接收人姓名")
    await d.send_text("赵信息")
    await d.press(await d.wait_for("紧急程度"), text="紧急")
    await d.press(await d.wait_for("需要签收回执吗"), data="nd:rc:def")
    summary = await d.wait_for("请核对后发送")
    assert "附件：2 个" in summary.text and "30分钟" in summary.text
    await d.press(summary, text="📤 发送")
    await desk.settle()
    got = await cast.other_officer.wait_for("转发市防指紧急通知")
    assert "【紧急】" in got.text
    after = cast.other_officer.inbox[cast.other_officer.inbox.index(got) + 1:]
    assert [m.kind for m in after] == ["document", "photo"]
    n = await _latest_notice(desk)
    assert n.urgent and n.due_at is not None and n.due_at - n.created_at == timedelta(minutes=30)
    # The automatic re-send at half the deadline repeats the text only, not the files.
    await desk.advance(minutes=15)
    assert [m.kind for m in cast.other_officer.inbox[-1:]] == ["text"]
    assert "再次提醒" in (cast.other_officer.inbox[-1].text or "")


async def test_sender_view_groups_by_unit(desk: Desk, cast: Cast) -> None:
    director = await members.by_telegram_id(desk.db.conn, cast.director.id)
    assert director is not None
    n = await svc.send_notice(desk.services, director, svc.NoticeDraft(
        title="报送周报", body="本周五前报送。",
        audience=AudienceSpec(Audience.UNITS, units=("jianshelu", "mianfanglu"))))
    await desk.settle()
    await cast.officer.press(await cast.officer.wait_for("报送周报"), text="✅ 已阅/收到")
    await desk.settle()
    await cast.director.send_command("/notices")
    listing = await cast.director.wait_for("最近的通知")
    assert "1/3" in listing.text
    await cast.director.press(listing, data=f"nt:v:{n.id}")
    view = await cast.director.wait_for("签收 1/3")
    assert re.search(r"建设路街道 1/2\s+⏳ 未签收：王主任\s+✅ 已签收：李信息", view.text)
    assert "棉纺路街道 0/1" in view.text


async def _on_leave(desk: Desk, who: SimUser, stand_in: SimUser | None) -> None:
    """An approved leave under way (the leave feature's records, written directly)."""
    from bot.domain.leave import LeaveStatus
    from storage import leave

    person = await members.by_telegram_id(desk.db.conn, who.id)
    deputy = await members.by_telegram_id(desk.db.conn, stand_in.id) if stand_in else None
    assert person is not None
    async with desk.services.uow() as tx:
        rid = await leave.create(
            tx.conn, member_id=person.id, unit_code=person.unit_code, kind="事假", start_at=tx.now,
            end_at=tx.now + timedelta(days=2), destination="郑州", leaves_city=False, reason="家事",
            standin_id=deputy.id if deputy else None, chain="staff", holidays="", now=tx.now)
        await leave.set_status(tx.conn, rid, LeaveStatus.APPROVED, tx.now)
        await leave.set_on_leave(tx.conn, rid, True)


async def test_recipients_on_leave_are_shown_and_stand_ins_asked(desk: Desk, cast: Cast) -> None:
    head2 = await desk.register("head2", "钱主任", "mianfanglu", "unit_head")
    deputy2 = await desk.register("deputy2", "孙副主任", "mianfanglu", "officer")
    await _on_leave(desk, cast.officer, stand_in=cast.head)  # 李信息 away, 王主任 stands in
    await _on_leave(desk, cast.other_officer, stand_in=None)  # 赵信息 away, nobody stands in
    await _on_leave(desk, head2, stand_in=deputy2)  # 棉纺路's head away, 孙副主任 stands in
    director = await members.by_telegram_id(desk.db.conn, cast.director.id)
    assert director is not None
    n = await svc.send_notice(desk.services, director, svc.NoticeDraft(
        title="节前安全检查", body="请各单位自查。",
        audience=AudienceSpec(Audience.UNITS, units=("jianshelu", "mianfanglu"))))
    await desk.settle()
    # The stand-in gets one message, signing for both; the one away with a stand-in gets nothing.
    got = await cast.head.wait_for("节前安全检查")
    assert "李信息 的请假代理人" in got.text
    assert sum("节前安全检查" in (m.text or "") for m in cast.head.inbox) == 1
    assert not any("节前安全检查" in (m.text or "") for m in cast.officer.inbox)
    # Without a stand-in, the person away is still asked.
    await cast.other_officer.wait_for("节前安全检查")
    await cast.head.press(got, text="✅ 已阅/收到")
    await desk.settle()
    assert await _signed(desk, n.id) == {"李信息": True, "王主任": True, "赵信息": False, "钱主任": False,
                                         "孙副主任": False}
    _n, view = await svc.tally(desk.services, director, n.id)
    assert "李信息（请假，由王主任代收）" in view
    assert "赵信息（请假中，无代理人）" in view

    # At the deadline the unit head is told; one on leave is replaced by the stand-in.
    await desk.advance(hours=8, minutes=1)
    told = await deputy2.wait_for("仍未签收")
    assert "赵信息" in told.text and "钱主任" in told.text
    assert not any("仍未签收" in (m.text or "") for m in head2.inbox)


async def test_meeting_attendance_and_reminder(desk: Desk, cast: Cast) -> None:
    d = cast.director
    await d.send_command("/meeting")
    await d.press(await d.wait_for("密级"), text="非密")
    await d.wait_for("会议名称")
    await d.send_text("全区安全生产调度会")
    await d.wait_for("会议时间")
    await d.send_text("15:00")  # the fake clock is 10:00 Beijing time
    await d.wait_for("会议地点")
    await d.send_text("区委三楼会议室")
    await d.press(await d.wait_for("通知正文"), text="跳过")
    await d.press(await d.wait_for("附件"), text="无附件")
    await d.press(await d.wait_for("发给谁"), text="指定人员")
    await d.wait_for("接收人姓名")
    await d.send_text("李信息、赵信息 王主任 无名氏")
    await d.wait_for("没有找到：无名氏")
    await d.press(await d.wait_for("紧急程度"), text="普通")
    summary = await d.wait_for("请核对后发送")
    assert "区委三楼会议室" in summary.text
    await d.press(summary, text="📤 发送")
    await desk.settle()

    got = await cast.officer.wait_for("会议通知")
    assert "15:00" in got.text
    await cast.officer.press(got, text="✅ 参加")
    await desk.settle()
    other = cast.other_officer
    await other.press(await other.wait_for("会议通知"), text="🙋 请假")
    await other.wait_for("请假事由")
    await other.send_text("参加市里培训")
    await other.wait_for("已回复会议")
    head = cast.head
    await head.press(await head.wait_for("会议通知"), text="👥 代会")
    await head.wait_for("代会人员姓名")
    await head.send_text("张副主任")
    await desk.settle()
    told = await d.wait_for("请假（参加市里培训）")
    assert "赵信息" in told.text

    n = await _latest_notice(desk)
    _n, view = await svc.tally(desk.services, await members.by_telegram_id(desk.db.conn, d.id), n.id)
    assert "李信息（参加）" not in view  # marks are appended without brackets around the name
    assert "参加" in view and "请假（参加市里培训）" in view and "代会（张副主任）" in view

    n_other = len(other.inbox)
    await desk.advance(hours=4)  # 14:00, one hour before
    remind = await cast.officer.wait_for("会议提醒")
    assert "区委三楼会议室" in remind.text
    await head.wait_for("会议提醒")
    assert not any("会议提醒" in (m.text or "") for m in other.inbox[n_other:])


async def test_group_binding_post_pin_and_receipts(desk: Desk, cast: Cast) -> None:
    grp = desk.emu.group(-100123, "建设路街道工作群", [cast.officer, cast.head])
    desk.emu.set_bot_admin(grp.id, can_pin=True)
    stranger = desk.emu.user(777001, "路人甲")
    grp.add(stranger)

    await cast.officer.send_command("/bindgroup", chat=grp)
    refused = await cast.officer.wait_for(chat=grp)
    assert "无权" in refused.text
    await cast.head.send_command("/bindgroup", chat=grp)
    bound = await cast.head.wait_for("已绑定", chat=grp)
    assert "建设路街道" in bound.text and "置顶" in bound.text

    d = cast.director
    await _dialog_start(d, "防汛值守安排", "今晚起24小时值守。")
    await d.press(await d.wait_for("发给谁"), text="已绑定的群")
    await d.press(await d.wait_for("要发布的群"), data=f"nd:g:{grp.id}")
    await d.press(await d.wait_for("要发布的群"), text="完成")
    await _dialog_finish(d)
    await desk.settle()
    post = grp.last
    assert post is not None and "防汛值守安排" in (post.text or "")
    assert post.pinned
    await cast.officer.press(post, text="✅ 收到")
    await cast.officer.wait_for_answer()
    await stranger.press(post, text="✅ 收到")
    await stranger.wait_for_answer()
    await cast.officer.press(post, text="✅ 收到")
    assert "已点过" in ((await cast.officer.wait_for_answer()).text or "")
    n = await _latest_notice(desk)
    _n, view = await svc.tally(desk.services, await members.by_telegram_id(desk.db.conn, d.id), n.id)
    assert "收到 2 人" in view and "李信息" in view and "路人甲" in view

    # A press forged onto another chat's message, for a notice never posted there, is refused.
    other = desk.emu.group(-100456, "别的群", [cast.other_officer])
    await cast.other_officer.send_text("你好", chat=other)
    await desk.settle()
    grp_msgs = desk.emu.messages(other.id, include_user=True)
    await cast.other_officer.press_raw(f"ng:ack:{n.id}", grp_msgs[-1].message_id, chat=other)
    answer = await cast.other_officer.wait_for_answer()
    assert "失效" in (answer.text or "")
    assert len(await notices.group_receipts(desk.db.conn, n.id)) == 2


async def test_group_messages_never_carry_incident_details(desk: Desk, cast: Cast) -> None:
    grp = desk.emu.group(-100789, "建设路街道工作群", [cast.duty, cast.head, cast.officer])
    await cast.head.send_command("/bindgroup", chat=grp)
    await cast.head.wait_for("已绑定", chat=grp)
    number = await file_report(desk, cast.officer, place="建设路88号", description="居民楼三层起火")
    await cast.head.wait_for(number)  # the alert went out (privately)
    await cast.duty.send_command("/incidents", chat=grp)
    await cast.duty.send_command(f"/incident {number}", chat=grp)
    await desk.settle()
    said = " ".join(m.text or "" for m in grp.messages)
    for detail in (number, "建设路88号", "居民楼三层起火", "火灾"):
        assert detail not in said, detail


async def test_unauthorised_senders_and_forged_receipts_refused(desk: Desk, cast: Cast) -> None:
    await cast.officer.send_command("/notice")
    assert "无权" in (await cast.officer.wait_for()).text

    # A unit head reaches their own unit only.
    head = await members.by_telegram_id(desk.db.conn, cast.head.id)
    assert head is not None
    with pytest.raises(ServiceError) as err:
        await svc.send_notice(desk.services, head, svc.NoticeDraft(
            title="x", audience=AudienceSpec(Audience.UNITS, units=("mianfanglu",))))
    assert err.value.key == "notice.audience_outside_unit"
    draft = svc.NoticeDraft(title="本单位会务安排", audience=AudienceSpec(Audience.ALL))
    n = await svc.send_notice(desk.services, head, draft)
    await desk.settle()
    assert {r.name for r in await notices.receipts(desk.db.conn, n.id)} == {"李信息"}

    # Forged: someone not asked presses 收到; someone not the sender presses 再次提醒.
    msg = await cast.other_officer.send_text("hi")
    await desk.settle()
    await cast.other_officer.press_raw(f"nt:ack:{n.id}", msg["message_id"])
    assert "无权" in ((await cast.other_officer.wait_for_answer()).text or "")
    got = await cast.officer.wait_for("本单位会务安排")
    await cast.officer.press_raw(f"nt:re:{n.id}", got.message_id)
    assert "无权" in ((await cast.officer.wait_for_answer()).text or "")
    await cast.officer.press_raw("nt:ack:999999", got.message_id)
    assert "失效" in ((await cast.officer.wait_for_answer()).text or "")
    await cast.officer.press_raw(f"nt:ack:{n.id}x", got.message_id)
    await desk.settle()
    assert not (await _signed(desk, n.id))["李信息"]


async def _broadcast(desk: Desk, count: int) -> None:
    director_user = await desk.register("director", "刘主任", "office", "director")
    await desk.settle()
    # Limits on from here: registration's own welcome burst is not what is measured.
    desk.telegram_limits()  # Telegram's: 30/s overall, 1/s per chat, 20/min per group (emulator and bot)
    base = 2_000_000
    async with desk.services.uow() as tx:
        for i in range(count):
            desk.emu.user(base + i, f"人员{i}", started=True)
            await members.create(tx.conn, telegram_id=base + i, name=f"人员{i}", username=None,
                                 unit_code=("jianshelu", "mianfanglu", "xushui")[i % 3], roles=[Role.OFFICER],
                                 now=tx.now)
    director = await members.by_telegram_id(desk.db.conn, director_user.id)
    assert director is not None
    started = time.monotonic()
    n = await svc.send_notice(desk.services, director, svc.NoticeDraft(
        title="全区通知", body="请签收。", audience=AudienceSpec(Audience.ALL)))

    async def delivered() -> bool:
        sent, failed, total = await notices.delivery_counts(desk.db.conn, n.id, svc.DELIVER)
        return sent + failed >= total

    await desk.until(delivered, timeout=count / 20 + 30)
    sent, failed, total = await notices.delivery_counts(desk.db.conn, n.id, svc.DELIVER)
    status_msg = next(m for m in director_user.inbox if "全区通知" in (m.text or ""))
    await _final_status(desk, director_user, status_msg.message_id)  # the last progress edit
    assert (sent, failed, total) == (count, 0, count)
    assert desk.emu.stats.rate_limited == 0, [e for e in desk.emu.transcript if "429" in str(e)]
    # Completeness: exactly one notice each. Ordering: in the order queued, give or take the
    # calls in flight together (up to the global budget, which go out concurrently).
    for i in range(count):
        inbox = desk.emu.messages(base + i)
        assert len(inbox) == 1 and "全区通知" in (inbox[0].text or "")
    rows = await desk.db.fetchall(
        "SELECT chat_id FROM outbox WHERE ref_kind='notice' AND ref_id=? AND tag='deliver' ORDER BY id", (n.id,))
    queued = [r["chat_id"] for r in rows]
    delivered = [e.chat_id for e in desk.emu.transcript if e.chat_id >= base and e.direction == "bot→"]
    assert sorted(delivered) == sorted(queued)
    place = {chat: i for i, chat in enumerate(queued)}
    assert desk.runtime is not None and desk.runtime.deps.sender is not None
    pacing = desk.runtime.app.bot.rate_limiter
    assert isinstance(pacing, Pacing) and pacing.overall is not None
    budget = pacing.overall.limit
    assert max(abs(place[chat] - i) for i, chat in enumerate(delivered)) < budget
    # One status message, edited live and throttled, ending at count/count.
    status = [m for m in director_user.inbox if "全区通知" in (m.text or "") and "没有登记人员" not in (m.text or "")]
    assert len(status) == 1
    shown = [int(x) for x in re.findall(rf"(\d+)/{count}", " ".join(str(e.get("text", "")) for e in status[0].edits))]
    assert shown == sorted(shown) and f"{count}/{count}" in (status[0].text or "")
    assert 2 <= len(status[0].edits) <= (time.monotonic() - started) / 2 + 3, [
        (e.get("date"), e.get("text", "")[:30]) for e in status[0].edits]


async def test_broadcast_100_at_telegram_limits(desk: Desk) -> None:
    await _broadcast(desk, 100)


@pytest.mark.slow
async def test_broadcast_1000_at_telegram_limits(desk: Desk) -> None:
    await _broadcast(desk, 1000)


async def test_stopping_mid_broadcast_leaves_no_progress_edit_behind(
    desk: Desk, cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    """The live-progress edits are timers; a stop right after a send must cancel them, not let
    them run against the closed database."""
    director = await members.by_telegram_id(desk.db.conn, cast.director.id)
    assert director is not None
    draft = svc.NoticeDraft(title="停机测试", audience=AudienceSpec(Audience.ALL))
    n = await svc.send_notice(desk.services, director, draft)
    await cast.officer.wait_for("停机测试")
    await desk.settle()
    progress = desk.runtime.app.deps.progress  # type: ignore[union-attr]
    progress.poke(n.id)  # as a row delivered just now would: an edit is due within the 2 s interval
    assert progress._scheduled
    timers = list(progress._scheduled.values())
    await desk.stop_bot()
    stopped_at = asyncio.get_running_loop().time()
    assert not progress._scheduled and not progress._tasks  # an edit that started before the stop is over
    # A timer not yet due was cancelled, and a cancelled timer never runs: nothing can wake up against
    # the closed database after the interval.
    assert all(timer.cancelled() for timer in timers if timer.when() > stopped_at)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_an_emergency_alert_overtakes_a_broadcast_in_progress(desk: Desk, cast: Cast) -> None:
    """A 300-person notice takes ~10 s at Telegram's limits; an incident filed one second in
    reaches the duty officer within the pass under way (≈2 s), not after the whole broadcast."""
    from bot.domain.report_draft import ReportDraft
    from bot.services.incidents import file_first_report

    desk.telegram_limits()
    base = 3_000_000
    async with desk.services.uow() as tx:
        for i in range(300):
            desk.emu.user(base + i, f"人员{i}", started=True)
            await members.create(tx.conn, telegram_id=base + i, name=f"人员{i}", username=None,
                                 unit_code="xushui", roles=[Role.OFFICER], now=tx.now)
    director = await members.by_telegram_id(desk.db.conn, cast.director.id)
    officer = await members.by_telegram_id(desk.db.conn, cast.officer.id)
    assert director is not None and officer is not None
    n = await svc.send_notice(desk.services, director, svc.NoticeDraft(
        title="全区通知", body="请签收。", audience=AudienceSpec(Audience.UNITS, units=("xushui",))))

    async def under_way() -> bool:  # about a second in: Telegram's budget for one second went out
        return (await notices.delivery_counts(desk.db.conn, n.id, svc.DELIVER))[0] >= 30

    await desk.until(under_way)
    draft = ReportDraft(category="fire", occurred_at=desk.services.now().isoformat(), place="建设路",
                        description="起火", deaths=0, injured=0, missing=0)
    filed_at = time.monotonic()
    await file_first_report(desk.services, officer, draft, at=desk.services.now())
    await cast.duty.wait_for("突发事件", timeout=5)
    waited = time.monotonic() - filed_at
    sent, _failed, total = await notices.delivery_counts(desk.db.conn, n.id, svc.DELIVER)
    assert sent < total - 100, f"the alert waited for the broadcast: {sent}/{total} sent after {waited:.1f} s"


async def test_a_forged_role_button_is_refused_and_the_notice_still_goes(desk: Desk, cast: Cast) -> None:
    """`nd:r:<anything>` once went into the draft and made every later 发送 fail in Role(…)."""
    d = cast.director
    await _dialog_start(d, "关于值班安排的通知", "请值班员按时到岗。")
    await d.press(await d.wait_for("发给谁"), text="按角色")
    picker = await d.wait_for("角色")
    await d.press_raw("nd:r:emperor", picker.message_id)
    answer = await d.wait_for_answer()
    assert "失效" in (answer.text or "")
    await d.press(picker, data="nd:r:duty")
    await d.press(await d.wait_for("角色"), text="完成")
    await _dialog_finish(d)
    await cast.duty.wait_for("关于值班安排的通知")
    n = await _latest_notice(desk)
    assert n.title == "关于值班安排的通知"


async def test_a_unit_head_cannot_take_over_another_units_group(desk: Desk, cast: Cast) -> None:
    other_head = await desk.register("head2", "钱主任", "mianfanglu", "unit_head")
    grp = desk.emu.group(-100321, "建设路街道工作群", [cast.head, other_head, cast.admin])
    await cast.head.send_command("/bindgroup", chat=grp)
    await cast.head.wait_for("已绑定", chat=grp)
    await other_head.send_command("/bindgroup", chat=grp)
    refused = await other_head.wait_for(chat=grp)
    assert "已绑定" in refused.text and "建设路街道" in refused.text and "管理员" in refused.text
    g = await notices.group(desk.db.conn, grp.id)
    assert g is not None and g.unit_code == "jianshelu"
    await cast.admin.send_command("/bindgroup", "mianfanglu", chat=grp)  # an admin may move it
    await cast.admin.wait_for("已绑定", chat=grp)
    g = await notices.group(desk.db.conn, grp.id)
    assert g is not None and g.unit_code == "mianfanglu"


async def test_a_bound_group_upgraded_to_a_supergroup_keeps_getting_notices(desk: Desk, cast: Cast) -> None:
    grp = desk.emu.group(-100654, "建设路街道工作群", [cast.officer, cast.head])
    await cast.head.send_command("/bindgroup", chat=grp)
    await cast.head.wait_for("已绑定", chat=grp)
    d = cast.director

    async def post(title: str) -> None:
        await _dialog_start(d, title, "请按时参加。")
        await d.press(await d.wait_for("发给谁"), text="已绑定的群")
        await d.press(await d.wait_for("要发布的群"), text="建设路街道工作群")
        await d.press(await d.wait_for("要发布的群"), text="完成")
        await _dialog_finish(d)
        await desk.settle()

    await post("第一次通知")
    assert "第一次通知" in (grp.last.text or "")  # type: ignore[union-attr]
    n1 = await _latest_notice(desk)
    await cast.officer.press(grp.last, text="✅ 收到")  # type: ignore[arg-type]
    await cast.officer.wait_for_answer()

    new = desk.emu.migrate_group(grp.id, -1_000_000_654_000, by=cast.head)
    await desk.settle()
    g = await notices.group(desk.db.conn, new.id)
    assert g is not None and g.unit_code == "jianshelu" and await notices.group(desk.db.conn, grp.id) is None
    assert [cid for cid, _name, _at in await notices.group_receipts(desk.db.conn, n1.id)] == [new.id]

    await post("第二次通知")
    assert "第二次通知" in (new.last.text or "")  # type: ignore[union-attr]

    # A message already queued for the old id when Telegram refuses it (the service message not
    # seen yet) is moved by the refusal itself.
    async with desk.db.tx() as conn:
        await conn.execute("UPDATE bound_groups SET chat_id=? WHERE chat_id=?", (grp.id, new.id))
    async with desk.services.uow() as tx:
        await tx.send_text(grp.id, "补发：会议改到三楼")
    await desk.settle()
    assert "补发" in (new.last.text or "")  # type: ignore[union-attr]
    assert (await notices.group(desk.db.conn, new.id)) is not None


async def test_sender_is_told_which_chosen_units_nobody_can_receive(desk: Desk, cast: Cast) -> None:
    d = cast.director
    await _dialog_start(d, "报送周报", "本周五前报送。")
    await d.press(await d.wait_for("发给谁"), text="选择单位")
    await d.press(await d.wait_for("接收单位"), data="nd:u:jianshelu")
    await d.press(await d.wait_for("接收单位"), data="nd:u:xushui")
    await d.press(await d.wait_for("接收单位"), text="完成")
    await d.press(await d.wait_for("紧急程度"), text="普通")
    await d.press(await d.wait_for("需要签收回执吗"), data="nd:rc:def")
    summary = await d.wait_for("请核对后发送")  # told before sending, while they can still choose
    warning = summary.text.split("⚠️")[1]
    assert "没有登记人员" in warning and desk.services.unit_name("xushui") in warning
    assert desk.services.unit_name("jianshelu") not in warning
    await d.press(summary, text="📤 发送")
    await cast.officer.wait_for("报送周报")  # the others still get it
    await desk.settle()
    told = [m for m in d.inbox if m.message_id > summary.message_id and "报送周报" in (m.text or "")]
    assert len(told) == 1  # the status line only: one message to the sender, not two in a second
