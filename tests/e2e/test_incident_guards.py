"""Bad input, unit isolation, forged buttons and restarts around emergency reports."""

from __future__ import annotations

from bot.harness import Desk
from storage import deadlines, drafts, incidents
from tests.conftest import Cast
from tests.e2e.flows import file_report


async def incident_count(desk: Desk) -> int:
    row = await desk.db.fetchone("SELECT count(*) FROM incidents")
    return int(row[0]) if row else 0


async def test_bad_answers_get_a_correction_and_the_same_question(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/report")
    await o.wait_for("类别")
    await o.send_text("火灾")  # typed instead of tapped: the buttons are named, typing does not work here
    hint = await o.wait_for("打字无效")
    assert "「火灾」" in hint.text and "「其他」" in hint.text
    await o.press(o.inbox[-2], text="火灾")
    await o.wait_for("发生时间")
    await o.send_text("明天 10:00")
    await o.wait_for("没看懂")
    await o.send_text("今天 23:00")  # in the future for the 10:00 fake clock... bare today → refused
    await o.wait_for("还没到")
    await o.send_text("11-01 10:00")
    await o.wait_for("超过 7 天")
    await o.send_sticker()
    await o.wait_for("请按上面的提示回答")
    await o.send_text("9:30")
    await o.wait_for("事发地点")
    await o.send_text("x" * 300)
    await o.wait_for("内容太长")
    await o.send_text("<b>中原路</b> & 桐柏路")
    placed = await o.wait_for("已记录地点")
    assert "<b>中原路</b> & 桐柏路" in placed.text  # shown literally: it was escaped
    await o.wait_for("伤亡情况")
    await o.send_text("很多人")
    await o.wait_for("没看懂伤亡情况")
    await o.send_text("2")  # one by one
    await o.wait_for("受伤人数")
    await o.send_text("三")
    await o.wait_for("请输入一个数字")
    await o.send_text("1")
    await o.press(await o.wait_for("失踪人数"), text="暂不清楚")
    await o.wait_for("简要描述")
    await o.send_photo()
    await o.wait_for("已附照片")
    await o.send_text("")  # empty text never reaches the bot as a message in Telegram, but be safe
    await o.send_text("   \u0000\u200b  ")
    await o.wait_for("不能为空")
    await o.send_text("两车相撞 <script>alert(1)</script>")
    summary = await o.wait_for("请核对")
    assert "死亡 2，受伤 1，失踪 暂不清楚" in summary.text
    assert "<script>alert(1)</script>" in summary.text
    assert "照片：1 张" in summary.text
    assert await incident_count(desk) == 0  # nothing stored before 确认上报
    await o.press(summary, text="✏️ 修改")
    await o.press(await o.wait_for("修改哪一项"), text="获知时间")
    await o.wait_for("获知时间")
    await o.send_text("9:00")
    await o.wait_for("不能早于发生时间")
    await o.send_text("9:45")
    summary = await o.wait_for("请核对")
    assert "获知时间：11-23 09:45" in summary.text
    await o.press(summary, text="✅ 确认上报")
    done = await o.wait_for("事件编号")
    assert "11-23 11:45" in done.text  # written report due 2 h after the learnt time
    assert await incident_count(desk) == 1
    assert desk.emu.stats.errors.get(400, 0) == 0 if isinstance(desk.emu.stats.errors, dict) else True


async def test_cancel_button_stores_nothing(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="其他")
    await o.press(await o.wait_for("发生时间"), text="30分钟前")
    await o.wait_for("事发地点")
    await o.send_text("须水河")
    await o.press(await o.wait_for("伤亡情况"), text="无伤亡")
    await o.wait_for("简要描述")
    await o.send_text("河道漂浮物")
    await o.press(await o.wait_for("请核对"), text="✖️ 取消")
    await o.wait_for("已取消")
    assert await incident_count(desk) == 0
    assert await desk.db.fetchall("SELECT * FROM drafts") == []


async def test_units_are_isolated(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer)
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    other = cast.other_officer
    await other.send_command("/incident", number)
    await other.wait_for("没有编号为")
    await other.send_command("/incidents")
    await other.wait_for("没有未结事件")
    for action in ("w", "f", "u", "c", "d", "ack", "fwd", "ask"):
        await other.press_raw(f"i:{action}:{inc.id}", 1)
        answer = await other.wait_for_answer()
        assert answer.text and "无权" in answer.text, (action, answer.text)
    # Duty sees every unit; the unit's own officer sees its own.
    await cast.duty.send_command("/incidents")
    assert number in (await cast.duty.wait_for("未结事件")).text
    await cast.officer.send_command("/incidents")
    assert number in (await cast.officer.wait_for("未结事件")).text


async def test_forged_and_unknown_buttons_are_refused(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer)
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    d = cast.director
    for data in ("i:ack:999999", "i:zzz:1", "garbage", "i:ack:-1", "r:cat:fire", "i:ack:1:extra", "x" * 64):
        await d.press_raw(data, 1)
        answer = await d.wait_for_answer()
        assert answer.text and ("失效" in answer.text or "无权" in answer.text), (data, answer.text)
    # An officer cannot forward upstream or acknowledge even in their own unit.
    await cast.officer.press_raw(f"i:fwd:{inc.id}", 1)
    assert "无权" in (await cast.officer.wait_for_answer()).text
    fresh = await incidents.get(desk.db.conn, inc.id)
    assert fresh is not None and fresh.acked_by is None and fresh.forwarded_by is None
    # Strangers pressing anything are told to register.
    stranger = desk.emu.user(31337, "Mallory")
    await stranger.send_command("/start")
    hello = await stranger.wait_for("还没有登记")
    await stranger.press_raw(f"i:ack:{inc.id}", hello.message_id)
    assert "还没有登记" in (await stranger.wait_for_answer()).text


async def test_deadlines_due_while_down_fire_once_after_restart(desk: Desk, cast: Cast) -> None:
    await file_report(desk, cast.officer)
    await desk.stop_bot()
    await desk.clock.advance(hours=2, minutes=5)  # type: ignore[union-attr]  # bot is down
    await desk.start_bot()
    await desk.settle()
    assert sum("已超过时限" in (m.text or "") for m in cast.officer.inbox) == 1
    fired = await deadlines.fired_count(desk.db.conn)
    await desk.restart()
    await desk.settle()
    assert await deadlines.fired_count(desk.db.conn) == fired
    assert sum("已超过时限" in (m.text or "") for m in cast.officer.inbox) == 1
    # The reminder 15 minutes before the written deadline came due while down too, but the deadline
    # has passed: "还剩 0分钟" would be untrue, so only the 迟报 went out (issue 23, item 5).
    assert sum("将于" in (m.text or "") for m in cast.officer.inbox) == 0


async def test_commands_in_groups_never_show_incident_details(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer)
    group = desk.emu.group(-100200, "建设路街道工作群", members=[cast.officer.id, cast.director.id])
    await cast.director.send_command("/incident", number, chat=group)
    await cast.director.send_command("/incidents", chat=group)
    await cast.officer.send_command("/report", chat=group)
    # Statistics and the workbook name incidents, leave destinations and receivers: private chats only.
    await cast.director.send_command("/stats", chat=group)
    await cast.director.send_command("/export", chat=group)
    await desk.settle()
    texts = [m.text or "" for m in group.messages]
    assert texts and all("私聊" in t for t in texts)
    assert not any(number in t for t in texts)
    assert len(texts) == 5 and not any(m.kind in ("photo", "document") for m in group.messages)


async def test_full_report_saved_but_not_filed_is_filed_when_the_answer_comes_again(desk: Desk, cast: Cast) -> None:
    """The last element's answer was saved, then the bot stopped before filing: the answer Telegram
    delivers again (or the officer sends again) files the report instead of failing at every message."""
    number = await file_report(desk, cast.officer)
    o = cast.officer
    await o.press(o.last, text="📄 续报（起因/处置/后果）")
    for answer in ("电线老化", "老旧小区", "火势已控制", "疏散居民12人"):
        await o.wait_for("？")
        await o.send_text(answer)
    await o.wait_for("后果")
    await desk.settle()
    draft = await drafts.load(desk.db.conn, o.id, "stage")
    draft["answers"]["consequences"], draft["index"] = "三层一户受损", 5
    await drafts.save(desk.db.conn, o.id, "stage", draft, desk.services.now())
    await o.send_text("三层一户受损")
    await o.wait_for("续报已报送")
    await desk.settle()
    assert "后果：三层一户受损" in (await cast.director.wait_for("起因：电线老化")).text
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and inc.full.get("consequences") == "三层一户受损"
