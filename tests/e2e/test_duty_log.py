"""值班记录与交接班 end to end: /log from a phone (with photos), what reached the duty room in the
log by itself, a handover draft at every shift change, 交班说明, 交班 and 接班 with both times
kept, the director alerted when nobody takes over, /duty log [date], the export's sheet — and
bad input (times, presses by people not on that shift, forged data) changing nothing.

The fake clock starts on Monday 2026-11-23 10:00 Beijing time, in the day shift (08:30–17:30).
"""

from __future__ import annotations

import io

from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from tests.conftest import Cast
from tests.e2e.flows import file_report
from tests.e2e.test_roster_stats import import_week, member_id, more_duty


def rows(desk: Desk, sql: str) -> list[tuple[object, ...]]:
    with desk.sql() as conn:
        return conn.execute(sql).fetchall()


async def write_entry(who: SimUser, *, photos: int = 0, **answers: str | None) -> str:
    """/log → … → 完成; the bot's answer."""
    ask = await fill_entry(who, **answers)
    for _ in range(photos):
        await who.send_photo()
        ask = await who.wait_for("已附")
    await who.press(ask, text="完成")
    return (await who.wait_for("值班记录 #")).text or ""


async def fill_entry(who: SimUser, *, kind: str = "来电", when: str | None = None, source: str = "须水街道 张三",
                     content: str = "反映须水河段有人垂钓落水风险", action: str | None = "已通知须水街道",
                     pending: str | None = "18:00 前回电确认处置") -> SimMessage:
    """/log up to the photos step; its question (「完成」 saves the entry)."""
    await who.send_command("/log")
    await who.press(await who.wait_for("请选择类别"), text=kind)
    ask = await who.wait_for("什么时间")
    if when is None:
        await who.press(ask, text="现在")
    else:
        await who.send_text(when)
    await who.wait_for("来自谁")
    await who.send_text(source)
    await who.wait_for("内容")
    await who.send_text(content)
    ask = await who.wait_for("处理情况")
    if action is None:
        await who.press(ask, text="暂未处理")
    else:
        await who.send_text(action)
    ask = await who.wait_for("待办")
    if pending is None:
        await who.press(ask, text="无待办")
    else:
        await who.send_text(pending)
    return await who.wait_for("照片")


async def test_log_entries_with_photos_and_bad_input(desk: Desk, cast: Cast) -> None:
    duty = cast.duty
    saved = await write_entry(duty, photos=2)
    assert "#1 已保存" in saved and "/log done 1" in saved
    assert rows(desk, "SELECT kind, source, pending FROM duty_log") == [
        ("call", "须水街道 张三", "18:00 前回电确认处置")]
    assert rows(desk, "SELECT count(*) FROM duty_log_photos WHERE entry_id=1") == [(2,)]
    # bad times, a file where photos go: explained, nothing stored
    await duty.send_command("/log")
    await duty.press(await duty.wait_for("请选择类别"), text="来访")
    await duty.wait_for("什么时间")
    for typed, answer in (("下午三点半", "没看懂"), ("25:00", "没看懂"), ("23:00", "还没到"),
                          ("11-20 09:00", "两天内")):
        await duty.send_text(typed)
        await duty.wait_for(answer)
    await duty.send_text("9:05")
    await duty.wait_for("来自谁")
    await duty.send_text("区信访局")
    await duty.wait_for("内容")
    await duty.send_text("群众来访反映供暖问题")
    await duty.press(await duty.wait_for("处理情况"), text="暂未处理")
    await duty.press(await duty.wait_for("待办"), text="无待办")
    await duty.wait_for("照片")
    await duty.send_document("来访登记.pdf")
    await duty.wait_for("只收照片")
    await duty.send_command("/cancel")
    await duty.wait_for("已取消")
    assert rows(desk, "SELECT count(*) FROM duty_log") == [(1,)]
    # closing the pending item; twice; a wrong number
    await duty.send_command("/log", "done 1")
    await duty.wait_for("已办结")
    await duty.send_command("/log", "done 1")
    await duty.wait_for("已经办结")
    await duty.send_command("/log", "done 99")
    await duty.wait_for("没有编号为 99")
    for bad in ("x", "①", "²"):
        await duty.send_command("/log", f"done {bad}")
        await duty.wait_for("用法")
    # only the duty room keeps the log
    await cast.officer.send_command("/log")
    await cast.officer.wait_for("无权")
    await cast.officer.send_command("/duty", "log")
    await cast.officer.wait_for("无权")


async def test_handover_at_every_shift_change(desk: Desk, cast: Cast) -> None:
    duty2, duty3 = await more_duty(desk)  # 吴值班, 郑值班
    await import_week(desk, cast)  # 23rd: day 陈值班+吴值班, night 郑值班; 24th: day 陈值班, night 吴值班
    number = await file_report(desk, cast.officer)  # open, not forwarded upstream
    head, director = await member_id(desk, cast.head), await member_id(desk, cast.director)
    await desk.db.conn.execute("INSERT INTO notices(id, kind, sender_id, unit_code, title, urgent, created_at, due_at) "
                               "VALUES (7, 'notice', ?, 'office', '防汛紧急通知', 1, '2026-11-23T02:10:00.000000Z', "
                               "'2026-11-23T02:40:00.000000Z')", (director,))
    await desk.db.conn.execute("INSERT INTO notice_recipients(notice_id, member_id, unit_code, asked_id) "
                               "VALUES (7, ?, 'jianshelu', ?)", (head, head))
    await write_entry(cast.duty, pending="等待市应急局回电")

    # 17:30: the day shift (陈值班, 吴值班) hands over to the night shift (郑值班)
    await desk.advance(hours=7, minutes=29)
    assert not [m for m in cast.duty.inbox if "🔁 交接班" in (m.text or "")]
    await desk.advance(minutes=1)
    draft = await cast.duty.wait_for("🔁 交接班")
    for bit in ("交班：陈值班、吴值班", "接班：郑值班", "#1", "等待市应急局回电", number, "书面报告",
                "「防汛紧急通知」尚有 1 人未签收", "未上报市委"):
        assert bit in draft.text, bit
    await duty2.wait_for("🔁 交接班")
    assert not [m for m in duty3.inbox if "🔁" in (m.text or "")]  # not until 交班

    # 吴值班 adds notes; people not handing over this shift are refused; 陈值班 hands over
    note_card = [m for m in duty2.inbox if "🔁 交接班" in (m.text or "")][-1]
    await duty2.press(note_card, text="📝 交班说明")
    await duty2.wait_for("交班说明")
    await duty2.send_text("须水河段夜间加强巡查")
    await duty2.wait_for("已记录交班说明")
    for outsider in (duty3, cast.director):
        await outsider.press_raw("ho:hand:1", outsider.last.message_id)  # type: ignore[union-attr]
        assert "不是" in ((await outsider.wait_for_answer()).text or "")
    await duty3.press_raw("ho:take:1", duty3.last.message_id)  # type: ignore[union-attr]  # 接班 before 交班
    assert "尚未交班" in ((await duty3.wait_for_answer()).text or "")
    await cast.officer.press_raw("ho:hand:1", cast.officer.last.message_id)  # type: ignore[union-attr]
    assert "无权" in ((await cast.officer.wait_for_answer()).text or "")
    await cast.duty.press_raw("ho:hand:1x", draft.message_id)
    assert "失效" in ((await cast.duty.wait_for_answer()).text or "")
    assert rows(desk, "SELECT handed_at, taken_at FROM handovers") == [(None, None)]
    await cast.duty.press(draft, text="✅ 交班")
    await cast.duty.wait_for("已交班")
    await desk.settle()
    await duty2.wait_for("陈值班 已于")
    assert not [m for m in duty2.inbox if m.message_id == note_card.message_id][0].buttons  # the card was closed
    await duty2.press_raw("ho:hand:1", note_card.message_id)  # the second outgoing officer, too late
    assert "已经交班" in ((await duty2.wait_for_answer()).text or "")
    take = await duty3.wait_for("🔁 接班")
    assert "陈值班 已于" in take.text and "须水河段夜间加强巡查" in take.text and number in take.text
    await cast.duty.press_raw("ho:take:1", take.message_id)  # outgoing, not incoming
    assert "不是" in ((await cast.duty.wait_for_answer()).text or "")
    await duty3.press(take, text="✅ 接班")
    await duty3.wait_for("已接班")
    await desk.settle()
    await cast.duty.wait_for("郑值班 已于")
    handed_at, taken_at = rows(desk, "SELECT handed_at, taken_at FROM handovers WHERE id=1")[0]
    assert handed_at and taken_at and str(handed_at) <= str(taken_at)

    # 08:30 the next day: the next shift change; nobody takes over within 30 minutes → the director
    await desk.advance(hours=15)
    second = await duty3.wait_for("🔁 交接班")
    assert "交班：郑值班" in second.text and "接班：陈值班" in second.text
    await desk.advance(minutes=31)
    alert = await cast.director.wait_for("交接班未完成")
    assert "11-24 08:30" in alert.text and "未交班" in alert.text
    await desk.advance(hours=1)
    assert len([m for m in cast.director.inbox if "交接班未完成" in (m.text or "")]) == 1
    # the 17:30 change of the 23rd was taken over: no alert for it
    assert "11-23 17:30" not in " ".join(m.text or "" for m in cast.director.inbox if "交接班未完成" in (m.text or ""))

    # the day's log: the entry, the incident reported, the handover and takeover
    await cast.director.send_command("/duty", "log 11-23")
    log = (await cast.director.wait_for("值班记录")).text
    for bit in ("#1 来电", "等待市应急局回电", f"突发事件 {number}", "交班：陈值班", "须水河段夜间加强巡查",
                "接班：郑值班"):
        assert bit in log, bit
    await cast.director.send_command("/duty", "log 明年")
    await cast.director.wait_for("用法：/duty log")
    # every shift change is planted once, and a restart adds none
    await desk.restart()
    assert sorted(r[0] for r in rows(desk, "SELECT stage FROM deadlines WHERE kind='roster.handover' "
                                           "AND fired_at IS NULL AND cancelled_at IS NULL")) == [
        "30 17 * * *", "30 8 * * *"]


async def test_export_has_the_duty_log_sheet(desk: Desk, cast: Cast) -> None:
    from openpyxl import load_workbook

    await write_entry(cast.duty, kind="来文", source="市委办", content="关于做好寒潮防范的通知", pending=None)
    await file_report(desk, cast.officer)
    await cast.director.send_command("/export")
    doc = await cast.director.wait_for(lambda m: m.kind == "document", timeout=20)
    rec = desk.emu.file(doc.file_id or "")
    assert rec is not None
    wb = load_workbook(io.BytesIO(rec.content))
    sheet = list(wb["值班记录"].iter_rows(values_only=True))
    assert sheet[0][:4] == ("时间", "类别", "来自", "内容")
    assert [(r[1], r[9]) for r in sheet[1:]] == [("来文", "手工记录"), ("突发事件", "自动记录")]
    assert "关于做好寒潮防范的通知" in sheet[1][3] and "<" not in sheet[2][3]
