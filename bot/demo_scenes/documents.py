"""Demo scene: the duty officer registers an incoming document, proposes its handling, the
district head assigns it with one tap, the handler reports it done within its limit; then a
机密 document: registered and routed only, the file sent for it refused with the reason."""

from __future__ import annotations

from bot.demo_scenes.stage import Stage
from storage import documents

TITLE = "demo.documents_title"


async def play(stage: Stage) -> None:
    desk = stage.desk
    duty, head = stage.person("duty"), stage.person("head")
    leader = stage.people.get("leader") or await desk.register("leader", "孙伟（区长）", "office", "leader")
    stage.people["leader"] = leader

    stage.narrate("值班员收文登记（/doc）：标题、来文单位、文号、密级、紧急程度、收文时间、摘要、附件（仅限非密）")
    await duty.send_command("/doc")
    await duty.wait_for("文件标题")
    await duty.send_text("关于做好寒潮天气防范应对工作的通知")
    await duty.wait_for("来文单位")
    await duty.send_text("市政府办公厅")
    await duty.wait_for("文号")
    await duty.send_text("郑政办明电〔2026〕88号")
    await duty.press(await duty.wait_for("密级？"), text="非密")
    await duty.press(await duty.wait_for("紧急程度"), text="平件")
    await duty.press(await duty.wait_for("收文时间"), text="刚收到")
    await duty.wait_for("内容摘要")
    await duty.send_text("要求各区做好防寒保暖、道路除冰和值班值守")
    await duty.wait_for("可发送文件")
    await duty.send_document("郑政办明电〔2026〕88号.pdf")
    await duty.press(await duty.wait_for("已附"), text="完成")
    await duty.press(await duty.wait_for("请核对后登记"), text="✅ 登记")
    card = await duty.wait_for("已登记")
    await desk.settle()

    stage.narrate("拟办：拟办意见、承办人、批办领导、时限（默认平件 3 天）；呈批后领导一键「批办」——无签批不办")
    await duty.press(card, text="✍️ 拟办")
    await duty.wait_for("拟办意见")
    await duty.send_text("建议由建设路街道党政办牵头落实，报孙区长批示")
    await duty.wait_for("承办人")
    await duty.send_text(head.first_name)
    await duty.press(await duty.wait_for("批办领导"), text=leader.first_name)
    await duty.press(await duty.wait_for("办理时限"), text="按默认")
    await duty.press(await duty.wait_for("请核对后呈批"), text="📨 呈批")
    await duty.wait_for("已呈")
    await desk.settle()
    await leader.press(await leader.wait_for("请批办"), text="✅ 批办")
    await leader.wait_for("已批办")
    await desk.settle()

    stage.narrate("承办人收到交办的公文和附件，在时限内办结；拟办人、批办领导收到办结通知")
    assigned = await head.wait_for("交办")
    await head.press(assigned, text="✅ 办结")
    await head.wait_for("办理结果")
    await head.send_text("已部署辖区防寒和道路除冰，值守人员到位")
    done = await head.wait_for("已办结")
    await desk.settle()

    stage.narrate("机密公文只登记和流转：向其发送文件，机器人拒收并说明——密级在机密以上的公文不得以电子形式传输")
    await duty.send_command("/doc")
    await duty.wait_for("文件标题")
    await duty.send_text("关于某专项工作的通知")
    await duty.wait_for("来文单位")
    await duty.send_text("市委办公厅")
    await duty.press(await duty.wait_for("文号"), text="无文号")
    await duty.press(await duty.wait_for("密级？"), text="机密")
    urgency = await duty.wait_for("紧急程度")
    await duty.send_document("正文.pdf")
    await duty.wait_for("文件未保存")
    await duty.press(urgency, text="急件")
    await duty.press(await duty.wait_for("收文时间"), text="刚收到")
    await duty.press(await duty.wait_for("请核对后登记"), text="✅ 登记")
    await duty.wait_for("已登记")
    await desk.settle()

    first = await documents.get(desk.db.conn, 1)
    assert first is not None
    s = desk.services
    assert done.text and first.late is not None
    stage.facts.setdefault("summary", []).append(
        f"办文：收文 {first.number} 登记、拟办、一键批办、办结，{'逾期办结' if first.late else '按时办结'}"
        f"（时限 {s.fmt.dt(first.due_at)}，办结 {s.fmt.dt(first.done_at)}）；机密公文只登记流转，附件被拒收。")
