"""Demo scene: a notice with receipts chased to the end, a meeting notice, a group announcement."""

from __future__ import annotations

from bot.demo_scenes.stage import Stage
from bot.domain.notices import Audience, AudienceSpec
from bot.services import notices as svc
from storage import members, notices

TITLE = "demo.notice_title"
GROUP_ID = -1000000000777


async def play(stage: Stage) -> None:
    desk = stage.desk
    officer, head, director = stage.person("officer"), stage.person("head"), stage.person("director")

    stage.narrate("区委办主任发通知：标题、正文、附件、接收单位、紧急程度、签收时限（演示用 12 秒，平时 8 小时）")
    await director.send_command("/notice")
    await director.press(await director.wait_for("密级"), text="非密")
    await director.wait_for("通知标题")
    await director.send_text("关于做好节前安全生产检查的通知")
    await director.wait_for("通知正文")
    await director.send_text("请各单位于本周五前完成辖区安全生产隐患排查，并报送排查情况。")
    await director.press(await director.wait_for("附件"), text="无附件")
    await director.press(await director.wait_for("发给谁"), text="选择单位")
    await director.press(await director.wait_for("接收单位"), data="nd:u:jianshelu")
    await director.press(await director.wait_for("接收单位"), text="完成")
    await director.press(await director.wait_for("紧急程度"), text="普通")
    await director.press(await director.wait_for("需要签收回执吗"), text="自定时限")
    await director.wait_for("签收时限")
    await director.send_text("12s")
    await director.press(await director.wait_for("请核对后发送"), text="📤 发送")
    status = await director.wait_for("节前安全生产检查")
    await desk.settle()

    stage.narrate("每人私聊收到通知，点「已阅/收到」即签收；主任的状态消息实时更新送达进度")
    await head.press(await head.wait_for("节前安全生产检查"), text="✅ 已阅/收到")
    await desk.settle()
    await officer.wait_for("节前安全生产检查")

    stage.narrate("主任点「再次提醒」：只提醒未签收的人（每 5 分钟最多一次）")
    await director.press(status, text="🔔 再次提醒")
    await director.wait_for_answer()
    await officer.wait_for("再次提醒")
    await desk.settle()

    stage.narrate("到时限一半自动再提醒一次；时限到时告知未签收人员的单位负责人，主任收到最终签收情况")
    await head.wait_for("仍未签收", timeout=20)
    tally = await director.wait_for("最终情况", timeout=10)
    await desk.settle()

    stage.narrate("会议通知：时间、地点、参会人员；参会人员回复 参加 / 请假（附事由）/ 代会（附代会人员）")
    await director.send_command("/meeting")
    await director.press(await director.wait_for("密级"), text="非密")
    await director.wait_for("会议名称")
    await director.send_text("全区安全生产调度会")
    await director.wait_for("会议时间")
    await director.send_text("明天 9:30")
    await director.wait_for("会议地点")
    await director.send_text("区委三楼第一会议室")
    await director.press(await director.wait_for("通知正文"), text="跳过")
    await director.press(await director.wait_for("附件"), text="无附件")
    await director.press(await director.wait_for("发给谁"), text="指定人员")
    await director.wait_for("接收人姓名")
    await director.send_text("李明、王芳")
    await director.press(await director.wait_for("紧急程度"), text="普通")
    await director.press(await director.wait_for("请核对后发送"), text="📤 发送")
    await desk.settle()
    await officer.press(await officer.wait_for("全区安全生产调度会"), text="✅ 参加")
    await desk.settle()
    await head.press(await head.wait_for("全区安全生产调度会"), text="🙋 请假")
    await head.wait_for("请假事由")
    await head.send_text("参加市里防汛培训")
    await director.wait_for("参加市里防汛培训")
    await desk.settle()

    stage.narrate("单位办公室主任在本单位工作群发送 /bindgroup 绑定；通知发布到群并置顶，群成员点「收到」逐人记录")
    grp = desk.emu.group(GROUP_ID, "建设路街道工作群", [officer, head])
    desk.emu.set_bot_admin(grp.id, can_pin=True)
    await head.send_command("/bindgroup", chat=grp)
    await head.wait_for("已绑定", chat=grp)
    sender = await members.by_telegram_id(desk.db.conn, director.id)
    assert sender is not None
    posted = await svc.send_notice(desk.services, sender, svc.NoticeDraft(
        title="今晚起启动防汛24小时值守", body="各村（社区）值守人员今晚 18:00 前到岗。",
        audience=AudienceSpec(Audience.GROUPS, group_ids=(grp.id,))))
    await desk.settle()
    post = await officer.wait_for("防汛24小时值守", chat=grp)
    await officer.press(post, text="✅ 收到")
    await officer.wait_for_answer()
    await head.press(post, text="✅ 收到")
    await head.wait_for_answer()
    await desk.settle()

    n_meeting = (await notices.recent(desk.db.conn, sender.id, 2))[1]
    answers = [r.attendance for r in await notices.receipts(desk.db.conn, n_meeting.id)]
    pressed = await notices.group_receipts(desk.db.conn, posted.id)
    signed = (tally.text or "").splitlines()[2] if len((tally.text or "").splitlines()) > 2 else ""
    stage.facts.setdefault("summary", []).append(
        f"通知：{signed.strip()}，逾期未签收已告知单位负责人；"
        f"会议回复 {len([a for a in answers if a])}/{len(answers)}；"
        f"群通知{'已置顶' if post.pinned else '未置顶'}，群内 {len(pressed)} 人点收到。"
    )
