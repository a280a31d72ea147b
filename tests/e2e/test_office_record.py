"""The duty room puts events on record (代报/登记), issue #24 §1 and §3: a phone report is the
unit's first report; any other source is 未报 and may be found 瞒报 by a director; a late first
report says so in the alert; the office's buttons are the office's."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.accountability import MarkKind
from bot.domain.incidents import Stage
from bot.harness import Desk
from storage import incident_marks, incident_versions, incidents, members
from tests.conftest import Cast
from tests.e2e.flows import file_report, record_event


async def member_id(desk: Desk, user: object) -> int:
    m = await members.by_telegram_id(desk.db.conn, user.id)  # type: ignore[attr-defined]
    assert m is not None
    return m.id


async def test_a_phone_report_taken_by_the_duty_officer_is_the_units_first_report(desk: Desk, cast: Cast) -> None:
    duty = cast.duty
    # A phone number that is not one gets a hint and changes nothing; then the real one.
    await duty.send_command("/record")
    await duty.press(await duty.wait_for("哪个单位"), text="建设路街道")
    await duty.press(await duty.wait_for("从哪里获知"), text="单位电话报告")
    await duty.wait_for("来电人姓名")
    await duty.send_text("王芳（党政办主任）")
    await duty.wait_for("来电号码")
    await duty.send_text("请稍等")
    await duty.wait_for("不像电话号码")
    await duty.send_text("１３８-0000-0000")  # full-width digits and dashes, as typed on a phone
    await duty.press(await duty.wait_for("来电时间"), text="刚刚")
    await duty.press(await duty.wait_for("类别"), text="道路塌方/地质灾害")
    await duty.press(await duty.wait_for("发生时间"), text="30分钟前")
    await duty.wait_for("事发地点")
    await duty.send_text("中原路与文化宫路交叉口")
    await duty.press(await duty.wait_for("伤亡情况"), text="暂不清楚")
    await duty.wait_for("简要描述")
    await duty.send_text("路面塌陷约20平方米，一辆车陷入，已设警戒")
    summary = await duty.wait_for("请核对")
    assert "建设路街道" in summary.text and "单位电话报告（王芳（党政办主任），138 0000 0000）" in summary.text
    assert "计为单位首报" in summary.text
    await duty.press(summary, text="✅ 确认上报")
    done = await duty.wait_for("已登记")
    assert "计为建设路街道的电话首报" in done.text and "书面报告" in done.text
    await desk.settle()

    inc = (await incidents.list_open(desk.db.conn))[0]
    first = inc.stage(Stage.FIRST)
    assert inc.source == "phone" and inc.unit_code == "jianshelu" and inc.caller_phone == "138 0000 0000"
    # Filed at the time of the call, taken by the duty officer, on time (30 minutes after learning).
    assert first is not None and first.filed_at == inc.office_learnt_at == desk.clock.now()
    assert first.filed_by == await member_id(desk, duty) and first.delay is None
    assert inc.learnt_at == inc.occurred_at == desk.clock.now() - timedelta(minutes=30)
    assert await incident_marks.of(desk.db.conn, inc.id) == []  # reported: nothing against the unit
    versions = await incident_versions.of(desk.db.conn, inc.id)
    assert [(v.no, v.via) for v in versions] == [(1, "record")]

    alert = await cast.director.wait_for(f"突发事件 {inc.number}")
    assert "来源：单位电话报告（王芳（党政办主任），138 0000 0000）" in alert.text
    assert "值班室 陈值班 登记" in alert.text
    assert "未报" not in alert.text and "首报迟报" not in alert.text
    # The unit's people are told what they owe next; the first report is not among it.
    notices = {}
    for person in (cast.officer, cast.head):
        notices[person.id] = told = await person.wait_for(inc.number)
        assert "计为首报" in told.text and "书面报告：11-23 11:30 前" in told.text
        assert "🚨 首报（本单位报告）" not in [t for t, _ in told.buttons]
        assert "📝 书面报告" in [t for t, _ in told.buttons]
    # Then it lives as any other incident: the unit files its written report from the button.
    o = cast.officer
    await o.press(notices[o.id], text="📝 书面报告")
    await o.press(await o.wait_for("书面报告（事件"), text="✅ 确认无误")
    await o.wait_for("书面报告已报送")


async def test_a_media_report_is_unreported_the_unit_is_told_and_a_director_finds_it_concealed(
        desk: Desk, cast: Cast) -> None:
    number = await record_event(desk, cast.duty, source="媒体/网络", when="1小时前", unit="建设路街道")
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and inc.source == "media"
    first = inc.stage(Stage.FIRST)
    # The unit owes its first report too, counted (while it has not said) from the office's time.
    assert first is not None and first.filed_at is None and first.due_at == desk.clock.now() + timedelta(hours=1)
    marks = await incident_marks.of(desk.db.conn, inc.id)
    assert [(m.kind, m.minutes, m.by_id) for m in marks] == [(MarkKind.UNREPORTED, 60, None)]

    told = await cast.officer.wait_for(number)
    assert "尚未报告（已记为未报）" in told.text and "媒体/网络" in told.text and "首报：11-23 11:00 前" in told.text
    assert [t for t, _ in told.buttons] == ["🚨 首报（本单位报告）", "🏁 结案"]
    alert = await cast.director.wait_for(f"突发事件 {number}")
    assert "⚠️ 建设路街道尚未报告（未报）" in alert.text
    await cast.director.send_command("/incidents")
    assert "⚠️未报" in (await cast.director.wait_for("未结事件")).text

    # 瞒报 is never automatic: only the director's finding, with a reason.
    d = cast.director
    await d.send_command("/incident", number)
    detail = await d.wait_for("时间线")
    assert "未报：本室 11-23 10:00 从媒体/网络获知时，建设路街道尚未报告（此前 1小时）；单位至今未报" in detail.text
    assert not [m for m in await incident_marks.of(desk.db.conn, inc.id) if m.kind is MarkKind.CONCEALED]
    await d.press(detail, text="🚫 认定瞒报")
    await d.wait_for("请输入理由")
    await d.send_text("事发后一小时未报告，媒体已报道")
    assert "已认定事件" in (await d.wait_for("瞒报")).text
    await desk.settle()
    found = [m for m in await incident_marks.of(desk.db.conn, inc.id) if m.kind is MarkKind.CONCEALED]
    assert len(found) == 1 and found[0].reason == "事发后一小时未报告，媒体已报道"
    assert found[0].by_id == await member_id(desk, d)
    assert "事发后一小时未报告" in (await cast.officer.wait_for("经刘主任认定为")).text
    assert "瞒报" in (await cast.head.wait_for("经刘主任认定为")).text
    # Marking twice: a clear answer, nothing changed.
    await d.press(detail, text="🚫 认定瞒报")
    assert "已认定过瞒报" in (await d.wait_for_answer()).text
    assert len([m for m in await incident_marks.of(desk.db.conn, inc.id) if m.kind is MarkKind.CONCEALED]) == 1

    # The unit reports at last, saying when it learnt of it: the deadlines count from then.
    o = cast.officer
    await desk.advance(minutes=20)
    await o.press(told, text="🚨 首报（本单位报告）")
    review = await o.wait_for("首报（事件")
    await o.press(review, text="本单位获知时间")
    await o.wait_for("何时获知")
    await o.send_text("09:40")
    await o.press(await o.wait_for("首报（事件"), text="✅ 确认首报")
    await o.wait_for("首报已报送")
    await desk.settle()
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    first, written = inc.stage(Stage.FIRST), inc.stage(Stage.WRITTEN)
    assert first is not None and first.filed_at == desk.clock.now() and first.delay is None  # due 10:40, filed 10:20
    assert written is not None and written.due_at == inc.learnt_at + timedelta(hours=2)
    assert inc.learnt_at.astimezone(desk.config.tz).strftime("%H:%M") == "09:40"
    await d.send_command("/incident", number)
    detail = await d.wait_for("时间线")
    assert "单位 11-23 10:20 补报（本室获知后 20分钟）" in detail.text and "瞒报" in detail.text


async def test_recording_refuses_a_unit_that_does_not_exist_and_the_unit_people_cannot_record(
        desk: Desk, cast: Cast) -> None:
    duty = cast.duty
    await duty.send_command("/record")
    await duty.wait_for("哪个单位")
    await duty.send_text("火星街道")
    assert "没有「火星街道」这个单位" in (await duty.wait_for("这个单位")).text
    await duty.send_text("棉纺路")  # part of a name that names one unit only
    assert "棉纺路街道" in (await duty.wait_for("单位：")).text
    await duty.send_command("/cancel")
    for person in (cast.officer, cast.head, cast.leader, cast.admin):
        await person.send_command("/record")
        await person.wait_for("无权")
    await desk.settle()
    assert await incidents.list_open(desk.db.conn) == []


async def test_times_that_contradict_each_other_are_refused_at_the_summary_and_fixed_there(
        desk: Desk, cast: Cast) -> None:
    duty = cast.duty
    await duty.send_command("/record")
    await duty.press(await duty.wait_for("哪个单位"), text="须水街道")
    await duty.press(await duty.wait_for("从哪里获知"), text="12345热线")
    await duty.wait_for("本室获知时间")
    await duty.send_text("09:00")  # before the event, typed by mistake
    await duty.press(await duty.wait_for("类别"), text="交通事故")
    await duty.press(await duty.wait_for("发生时间"), text="30分钟前")
    await duty.wait_for("事发地点")
    await duty.send_text("须水河东路")
    await duty.press(await duty.wait_for("伤亡情况"), text="无伤亡")
    await duty.wait_for("简要描述")
    await duty.send_text("两车相撞，无人受伤，已疏导")
    summary = await duty.wait_for("请核对")
    assert "来源：12345热线，本室获知 11-23 09:00" in summary.text
    await duty.press(summary, text="✅ 确认上报")
    refused = await duty.wait_for_answer()
    assert "不能早于发生时间" in refused.text and refused.show_alert
    assert await incidents.list_open(desk.db.conn) == []
    await duty.press(summary, text="✏️ 修改")  # the dialogue stayed at the summary
    await duty.press(await duty.wait_for("要修改哪一项"), text="本室获知时间")
    await duty.press(await duty.wait_for("本室获知时间"), text="刚刚")
    await duty.press(await duty.wait_for("请核对"), text="✅ 确认上报")
    assert "记为须水街道未报" in (await duty.wait_for("已登记")).text
    inc = (await incidents.list_open(desk.db.conn))[0]
    assert inc.unit_code == "xushui" and inc.source == "hotline" and inc.office_learnt_at == desk.clock.now()

async def test_a_late_first_report_says_so_in_the_alert_and_is_on_record_against_the_unit(
        desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer, when="90分钟前")
    alert = await cast.director.wait_for(f"突发事件 {number}")
    assert "【首报迟报 30 分钟】" in alert.text
    duty_alert = await cast.duty.wait_for(f"突发事件 {number}")
    assert "【首报迟报 30 分钟】" in duty_alert.text
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    marks = await incident_marks.of(desk.db.conn, inc.id)
    assert [(m.kind, m.stage, m.minutes, m.unit_code) for m in marks] == [(MarkKind.LATE, "first", 30, "jianshelu")]
    # The flag stays when the alert is edited (acknowledged).
    await cast.duty.press(duty_alert, text="✅ 已收到")
    await desk.settle()
    edited = desk.emu.message(cast.director.id, alert.message_id)
    assert edited is not None and "✅ 已收到：陈值班" in edited.text and "【首报迟报 30 分钟】" in edited.text
    # A phone report recorded long after the unit learnt of the event is late the same way.
    late = await record_event(desk, cast.duty, when="1小时前", office_at="刚刚", unit="棉纺路街道")
    assert "【首报迟报" not in (await cast.director.wait_for(f"突发事件 {late}")).text  # exactly at 1 h: on time


async def test_the_unit_head_sees_the_alert_but_cannot_press_the_offices_buttons(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer)
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    head = cast.head
    alert = await head.wait_for(f"突发事件 {number}")
    assert [t for t, _ in alert.buttons] == ["🔎 详情"]
    for data in (f"i:ack:{inc.id}", f"i:fwd:{inc.id}", f"i:ask:{inc.id}"):
        before = len(head.callback_answers)
        await head.press_raw(data, alert.message_id)
        await desk.settle()
        assert any("无权" in (a.text or "") for a in head.callback_answers[before:]), data
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and inc.acked_by is None and inc.forwarded_by is None
    # The office acknowledges; the head's copy is edited with who did, still without the office's buttons.
    await cast.duty.press(await cast.duty.wait_for(number), text="✅ 已收到")
    await desk.settle()
    edited = desk.emu.message(head.id, alert.message_id)
    assert edited is not None and "✅ 已收到：陈值班" in edited.text and [t for t, _ in edited.buttons] == ["🔎 详情"]


async def test_the_demo_scene_of_the_duty_room_taking_a_phone_report_plays(desk: Desk, cast: Cast) -> None:
    from bot.demo_scenes import SCENES, record
    from bot.demo_scenes.stage import Stage

    assert record in SCENES
    out: list[str] = []
    people = {"officer": cast.officer, "head": cast.head, "duty": cast.duty, "director": cast.director}
    stage = Stage(desk, people, out.append)
    await record.play(stage)
    stage.flush()
    summary = stage.facts["summary"][0]
    assert "值班室电话登记，计为建设路街道首报" in summary and "要素 2 个版本" in summary and ".docx" in summary
    assert any("登记事件（代报）" in line for line in out)
