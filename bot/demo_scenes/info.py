"""Demo scene: a unit sends routine information, the office adopts it, a quota reminder follows."""

from __future__ import annotations

from datetime import timedelta

from bot.demo_scenes.stage import Stage
from bot.domain.info import REMIND
from bot.services import info as svc
from bot.services import info_deadlines

TITLE = "demo.info_title"


async def play(stage: Stage) -> None:
    desk = stage.desk
    officer, head, director = stage.person("officer"), stage.person("head"), stage.person("director")

    stage.narrate("信息员报送一条政务信息：类别、标题、正文，核对后提交")
    await officer.send_command("/info")
    await officer.press(await officer.wait_for("信息类别"), text="经验做法")
    await officer.wait_for("信息标题")
    await officer.send_text("建设路街道“街长制”推动背街小巷整治提质")
    await officer.wait_for("信息正文")
    await officer.send_text("街道实行“街长制”，32条背街小巷逐一明确责任人，今年累计整治问题点位140余处。")
    await officer.press(await officer.wait_for("请核对"), text="✅ 提交")
    await officer.wait_for("已报送")
    await desk.settle()

    stage.narrate("区委办主任审核，标记为市采用；信息员和单位办公室主任收到通知")
    await director.press(await director.wait_for("新报送信息"), text="市采用")
    await officer.wait_for("市采用")
    await head.wait_for("市采用")
    await desk.settle()

    stage.narrate("每周定额提醒（平时在周四 17:00、周五 12:00；演示中立即触发）：本单位还差 1 条")
    s = desk.services
    reminders = svc.quota_policy(s).reminders
    if reminders:
        await info_deadlines.plant_now(s, REMIND, str(reminders[0]), s.now() + timedelta(seconds=1))
        await officer.wait_for("政务信息报送提醒", timeout=10)
        await head.wait_for("政务信息报送提醒", timeout=10)
        await desk.settle()

    stage.narrate("主任随时查看本月统计与排名（每月 1 日 09:00 自动通报上月）")
    await director.send_command("/infostats")
    stats = await director.wait_for("政务信息报送统计")
    await desk.settle()
    first = next((line for line in (stats.text or "").splitlines() if line.startswith("1.")), "")
    leader = first[3:].split("：")[0]
    stage.facts.setdefault("summary", []).append(f"政务信息：报送 1 条，市采用 1 条；本月第一名 {leader}。")
