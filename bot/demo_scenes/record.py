"""Demo scene: the duty room takes a phone report (代报/登记) — the unit's first report — then
the office forwards it, the unit corrects a fact in its written report (a second version), and
the unit's office head downloads the written report as a Word file."""

from __future__ import annotations

import re

from bot.demo_scenes.stage import Stage
from storage import incident_versions, incidents

TITLE = "demo.record_title"


async def play(stage: Stage) -> None:
    desk = stage.desk
    officer, head = stage.person("officer"), stage.person("head")
    duty, director = stage.person("duty"), stage.person("director")

    stage.narrate("值班室接到建设路街道党政办主任的电话，登记事件（代报）：计为该街道首报")
    await duty.send_command("/record")
    await duty.press(await duty.wait_for("哪个单位"), text="建设路街道")
    await duty.press(await duty.wait_for("从哪里获知"), text="单位电话报告")
    await duty.wait_for("来电人姓名")
    await duty.send_text("王芳（建设路街道党政办主任）")
    await duty.wait_for("来电号码")
    await duty.send_text("138 0371 0001")
    await duty.press(await duty.wait_for("来电时间"), text="刚刚")
    await duty.press(await duty.wait_for("类别"), text="道路塌方/地质灾害")
    await duty.press(await duty.wait_for("发生时间"), text="刚刚")
    await duty.wait_for("事发地点")
    await duty.send_text("中原路与文化宫路交叉口")
    await duty.press(await duty.wait_for("伤亡情况"), text="暂不清楚")
    await duty.wait_for("简要描述")
    await duty.send_text("路面塌陷，一辆公交车后轮陷入，乘客已疏散，已设警戒")
    await duty.press(await duty.wait_for("请核对"), text="✅ 确认上报")
    done = await duty.wait_for("已登记")
    number = re.search(r"\d{4}-\d{4}", done.text or "")
    assert number is not None
    await desk.settle()

    stage.narrate("主任在 10 分钟内上报市委")
    await director.press(await director.wait_for(f"突发事件 {number.group(0)}"), text="📤 已上报市委")
    await director.wait_for_answer()
    await desk.settle()

    stage.narrate("街道报送书面报告，更正了伤亡：要素变更留痕（旧 → 新）")
    await officer.press(await officer.wait_for(f"{number.group(0)}"), text="📝 书面报告")
    await officer.press(await officer.wait_for("书面报告（事件"), text="更正伤亡")
    await officer.wait_for("伤亡情况")
    await officer.send_text("死亡0 受伤1 失踪0")
    await officer.press(await officer.wait_for("书面报告（事件"), text="✅ 确认无误")
    await officer.wait_for("书面报告已报送")
    await desk.settle()

    stage.narrate("街道党政办主任在事件详情下载书面报告（Word，专报格式）")
    await head.send_command("/incident", number.group(0))
    await head.press(await head.wait_for("时间线"), text="📄 报告文档")
    await head.press(await head.wait_for("报告文档（Word）"), text="⬇️ 书面报告")
    doc = await head.wait_for(lambda m: m.kind == "document")
    await desk.settle()

    inc = await incidents.by_number(desk.db.conn, number.group(0))
    assert inc is not None
    versions = await incident_versions.of(desk.db.conn, inc.id)
    forwarded = desk.services.fmt.dur(inc.forwarded_at - inc.created_at) if inc.forwarded_at else "—"
    stage.facts.setdefault("summary", []).append(
        f"事件 {inc.number}：值班室电话登记，计为建设路街道首报；上报市委用时 {forwarded}；"
        f"要素 {len(versions)} 个版本；书面报告 Word 文件 {doc.file_name}。"
    )
