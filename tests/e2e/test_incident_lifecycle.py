"""Emergency reporting end to end with a driven clock (issue: 重要紧急信息报送)."""

from __future__ import annotations

from datetime import timedelta

from bot.harness import Desk
from storage import incidents
from tests.conftest import Cast
from tests.e2e.flows import file_report


def count(user, needle: str) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for m in user.inbox if needle in (m.text or ""))


async def test_first_report_takes_five_answers_and_alerts_everyone(desk: Desk, cast: Cast) -> None:
    before = len([e for e in desk.emu.transcript if e.actor == cast.officer.id])
    number = await file_report(desk, cast.officer)
    answers = len([e for e in desk.emu.transcript if e.actor == cast.officer.id]) - before
    assert answers == 7  # /report + 5 answers + 确认上报
    assert number == "2026-0001"
    for person in (cast.duty, cast.director, cast.head):
        alert = await person.wait_for(f"突发事件 {number}")
        for part in ("建设路街道", "火灾", "发生时间", "获知时间", "定位", "伤亡", "李信息", "书面报告"):
            assert part in alert.text, part
        # The office's buttons are the office's: the unit's own head sees the alert with 详情 only.
        office = ["✅ 已收到", "📤 已上报市委", "❓ 要求补充", "🔎 详情"]
        assert [t for t, _ in alert.buttons] == (["🔎 详情"] if person is cast.head else office)
        assert any(m.kind == "location" for m in person.inbox)
    # Fire is a major category: leaders are told too; other units are not.
    await cast.leader.wait_for(f"突发事件 {number}")
    assert count(cast.other_officer, number) == 0
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and inc.latitude == 34.7466 and inc.casualties.deaths == 0


async def test_the_office_alerts_leave_before_the_reporters_confirmation(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer, gps=False)
    sent = [(e.chat_id, e.summary) for e in desk.emu.transcript if e.direction == "bot→"]
    confirmation = next(i for i, (chat, text) in enumerate(sent) if chat == cast.officer.id and "事件编号" in text)
    alerts = [i for i, (chat, text) in enumerate(sent) if f"突发事件 {number}" in text]
    assert len(alerts) >= 3 and max(alerts) < confirmation


async def test_acknowledge_first_wins_and_everyone_sees_it(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer)
    d_alert = await cast.director.wait_for(number)
    u_alert = await cast.duty.wait_for(number)
    await cast.duty.press(u_alert, text="✅ 已收到")
    assert "已确认收到" in (await cast.duty.wait_for_answer()).text
    await desk.settle()
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    # The button is gone from the edited alert; a stale copy of it still arrives.
    await cast.director.press_raw(f"i:ack:{inc.id}", d_alert.message_id)
    late = await cast.director.wait_for_answer()
    assert "陈值班" in late.text and late.show_alert
    await desk.settle()
    edited = desk.emu.message(cast.director.id, d_alert.message_id)
    assert edited is not None and "✅ 已收到：陈值班" in edited.text
    assert "✅ 已收到" not in [t for t, _ in edited.buttons]


async def test_forward_clock_reminds_at_eight_minutes_and_records_time(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer)
    await desk.advance(minutes=7)
    assert count(cast.duty, "尚未上报市委") == 0
    await desk.advance(minutes=1, seconds=5)
    await cast.duty.wait_for("尚未上报市委")
    assert count(cast.officer, "尚未上报市委") == 0
    alert = await cast.director.wait_for(number)
    await desk.advance(minutes=1)
    await cast.director.press(alert, text="📤 已上报市委")
    answer = await cast.director.wait_for_answer()
    assert "9分钟" in answer.text
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and inc.forwarded_at is not None
    assert inc.forwarded_at - inc.created_at == timedelta(minutes=9, seconds=5)
    await desk.advance(minutes=30)
    assert count(cast.duty, "尚未上报市委") == 1


async def test_on_time_lifecycle(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    number = await file_report(desk, o)
    done = o.last
    assert done is not None
    await desk.advance(minutes=30)
    await o.press(done, text="📝 书面报告")
    review = await o.wait_for("书面报告（事件")
    await o.press(review, text="更正伤亡")
    await o.wait_for("伤亡情况")
    await o.send_text("死亡0 受伤2 失踪0")
    review = await o.wait_for("书面报告（事件")
    assert "受伤 2" in review.text
    await o.press(review, text="✅ 确认无误")
    await o.wait_for("书面报告已报送")
    await desk.settle()
    await cast.director.wait_for("书面报告")
    await desk.advance(minutes=30)
    await o.press(done, text="📄 续报（起因/处置/后果）")
    for answer in ("电线老化", "老旧小区", "火势已控制", "疏散居民12人"):
        await o.wait_for("？")
        await o.send_text(answer)
    await o.wait_for("后果")
    await o.send_text("三层一户受损")
    await o.wait_for("续报已报送")
    await desk.settle()
    full_alert = await cast.director.wait_for("起因：电线老化")
    assert "迟报" not in full_alert.text
    await desk.advance(hours=3)  # past every deadline: nothing is late
    assert count(cast.director, "迟报：") == 0
    await cast.head.send_command("/incident", number)
    detail = await cast.head.wait_for("时间线")
    await cast.head.press(detail, text="🏁 结案")
    await cast.head.wait_for("处置结果")
    await cast.head.send_text("明火扑灭，无人员死亡")
    closed = await cast.head.wait_for("已结案")
    assert "漏报" not in closed.text
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and not inc.open
    assert all(r.filed_at is not None and r.delay is None for r in inc.stages)
    history = await incidents.casualty_history(desk.db.conn, inc.id)
    assert [(c.injured) for _, _, c in history] == [0, 2]


async def test_late_written_report_escalates_once_and_records_delay(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    number = await file_report(desk, o)
    await desk.advance(hours=1, minutes=46)  # 15 minutes before the 2 h deadline
    reminder = await o.wait_for("将于")
    assert "书面报告" in reminder.text and "14分钟" in reminder.text
    assert count(cast.head, "将于") >= 1  # the unit head is a reporting member too
    await desk.advance(minutes=15)
    await o.wait_for("已记为迟报")
    escalation = await cast.director.wait_for("迟报：")
    assert number in escalation.text and "书面报告" in escalation.text
    await cast.duty.wait_for("迟报：")
    await desk.advance(minutes=20)
    await o.press(o.last, text="📝 书面报告")
    await o.press(await o.wait_for("书面报告（事件"), text="✅ 确认无误")
    filed = await o.wait_for("书面报告已报送")
    assert "迟报" in filed.text
    await desk.settle()
    await desk.restart()
    await desk.advance(hours=1)
    assert count(cast.director, "迟报：建设路街道") == 1 + 1  # written, then the full report at 3 h
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    written = inc.stage(inc.stages[1].stage)
    assert written is not None and written.delay is not None
    assert timedelta(minutes=20) <= written.delay < timedelta(minutes=22)


async def test_missed_stage_is_recorded_at_closing(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer)
    await cast.director.send_command("/incident", number)
    detail = await cast.director.wait_for("时间线")
    assert "🏁 结案" not in [t for t, _ in detail.buttons]  # directors close from the unit's buttons? no: see below
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    await cast.director.press_raw(f"i:c:{inc.id}", detail.message_id)
    await cast.director.wait_for("处置结果")
    await cast.director.send_text("误报核实，已处置")
    closed = await cast.director.wait_for("已结案")
    assert "漏报" in closed.text and "书面报告" in closed.text
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and {r.stage.value for r in inc.stages if r.missed} == {"written", "full"}
    # Closing cancels its deadlines: none of the incident's fires later (the shift changes do).
    fired = await _incident_fired(desk)
    await desk.advance(hours=10)
    assert await _incident_fired(desk) == fired


async def test_follow_up_updates_casualties_and_keeps_history(desk: Desk, cast: Cast) -> None:
    # Not a major category: the leader hears of it only once a follow-up reports a death.
    number = await file_report(desk, cast.officer, category="其他", casualties="暂不清楚")
    assert count(cast.leader, number) == 0
    o = cast.officer
    await o.press(o.last, text="➕ 续报进展")
    await o.wait_for("最新情况")
    await o.send_text("搜救中")
    await o.wait_for("伤亡有变化吗")
    await o.send_text("死亡1 受伤3")
    await o.wait_for("续报已报送")
    await desk.settle()
    msg = await cast.duty.wait_for("搜救中")
    assert "死亡 1，受伤 3，失踪 暂不清楚" in msg.text
    await cast.leader.wait_for("搜救中")  # now major: a death
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    assert [c.deaths for _, _, c in await incidents.casualty_history(desk.db.conn, inc.id)] == [None, 1]


async def test_follow_up_reminders_every_four_hours_while_open(desk: Desk, cast: Cast) -> None:
    await file_report(desk, cast.officer)
    await desk.advance(hours=7, minutes=1)  # full report due at 3 h, then +4 h
    assert count(cast.officer, "请报送最新进展") == 1
    await desk.advance(hours=4)
    assert count(cast.officer, "请报送最新进展") == 2


async def test_ask_reporter_answer_comes_back_threaded(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer)
    alert = await cast.director.wait_for(number)
    await cast.director.press(alert, text="❓ 要求补充")
    await cast.director.wait_for("补充的问题")
    await cast.director.send_text("起火楼层有无被困人员？")
    await cast.director.wait_for("已将问题发给上报人")
    await desk.settle()
    question = await cast.officer.wait_for("要求补充")
    await cast.officer.press(question, text="💬 回复")
    await cast.officer.wait_for("补充回答")
    await cast.officer.send_text("无被困人员")
    await cast.officer.wait_for("已将回答发给")
    await desk.settle()
    answer = await cast.director.wait_for("答：无被困人员")
    assert answer.reply_to_message_id == alert.message_id
    # A second answer to the same question is refused.
    await cast.officer.press(question, text="💬 回复")
    assert "已经回答过" in (await cast.officer.wait_for_answer()).text


async def test_late_first_report_is_recorded(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="交通事故")
    await o.wait_for("发生时间")  # an answer typed before its question is not read as one
    await o.send_text("今天 8:00")  # 2 h before the fake clock's 10:00
    await o.wait_for("事发地点")
    await o.send_text("中原路")
    await o.press(await o.wait_for("伤亡情况"), text="无伤亡")
    await o.wait_for("简要描述")
    await o.send_text("两车追尾")
    await o.press(await o.wait_for("请核对"), text="✅ 确认上报")
    done = await o.wait_for("事件编号")
    assert "首报已超过时限" in done.text
    await desk.settle()
    # The written report (due 10:00) is already late at once; escalated immediately.
    await cast.director.wait_for("迟报：")


async def _incident_fired(desk: Desk) -> int:
    async with desk.db.conn.execute("SELECT count(*) FROM deadlines WHERE fired_at IS NOT NULL "
                                    "AND kind LIKE 'incident.%'") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
