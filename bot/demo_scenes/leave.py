"""Demo scene: an officer asks for two days' leave, the unit head approves, the office sees who is
away, and the officer reports back early (销假)."""

from __future__ import annotations

from bot.demo_scenes.stage import Stage
from storage import leave, members

TITLE = "demo.leave_title"


async def play(stage: Stage) -> None:
    desk = stage.desk
    officer, head = stage.person("officer"), stage.person("head")
    duty, director = stage.person("duty"), stage.person("director")

    stage.narrate("信息员请假：类别、起止日期、去向、是否离开郑州、事由、代理人，核对后提交")
    await officer.send_command("/leave")
    await officer.press(await officer.wait_for("请假类别"), text="事假")
    await officer.press(await officer.wait_for("从哪天开始"), text="今天")
    await officer.press(await officer.wait_for("到哪天结束"), text="明天")
    await officer.wait_for("去向")
    await officer.send_text("郑州市区（家中）")
    await officer.press(await officer.wait_for("是否离开"), text="否，不离开郑州")
    await officer.wait_for("请假事由")
    await officer.send_text("孩子住院陪护")
    await officer.press(await officer.wait_for("代理人"), text=head.first_name)
    await officer.press(await officer.wait_for("请核对"), text="✅ 提交")
    await officer.wait_for("已提交")
    await desk.settle()

    stage.narrate("本单位负责人审批并附意见；申请人、代理人收到通知，区委办备案")
    card = await head.wait_for("请假审批")
    await head.press(card, text="✅ 批准")
    await head.wait_for("审批意见")
    await head.send_text("同意，工作已交接")
    await head.wait_for("已批准请假")
    await desk.settle()
    await officer.wait_for("已批准")
    await director.wait_for("请假备案")
    await desk.settle()

    stage.narrate("值班员查看今天谁请假外出（/away；也可 /away week 或指定日期）")
    await duty.send_command("/away")
    await duty.wait_for("请假外出")
    await desk.settle()

    stage.narrate("信息员提前返岗，发送 /back 销假；代理人和区委办收到销假信息")
    await officer.send_command("/back")
    await officer.wait_for("已销假")
    await desk.settle()
    await head.wait_for("代理结束")
    await director.wait_for("销假")
    await desk.settle()

    asker = await members.by_telegram_id(desk.db.conn, officer.id)
    assert asker is not None
    done = [r for r in await leave.for_member(desk.db.conn, asker.id) if r.returned_at is not None]
    stage.facts.setdefault("summary", []).append(
        f"请销假：请假 1 次，审批 1 步，提前销假 {len(done)} 次，全程留痕可用 /leave_history 查看。")
