"""Demo scene: an alert nobody acknowledges escalates — the director on Telegram, then an SMS to the
duty officer and the office's DingTalk group (fake platforms on 127.0.0.1) — until 已收到 stops it."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from bot.config import EscalationPolicy, EscalationStep
from bot.demo_scenes.stage import Stage
from bot.emulator.channels import FakeChannels
from storage import channels, members

TITLE = "demo.escalation_title"

# The shipped policy in seconds instead of minutes.
DEMO_POLICY = EscalationPolicy("demo", (
    EscalationStep(("duty@shift",), timedelta(seconds=3)),
    EscalationStep(("role:director", "sms:duty@shift", "robot:*"), timedelta(seconds=3)),
), repeat=0)


async def _until(check: object, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check() and loop.time() < end:  # type: ignore[operator]
        await asyncio.sleep(0.05)


async def play(stage: Stage) -> None:
    desk = stage.desk
    fakes: FakeChannels = stage.facts["channels"]
    officer, duty, director = stage.person("officer"), stage.person("duty"), stage.person("director")
    s = desk.services
    before = s.config
    s.config = before.replace(escalation=dataclasses.replace(before.escalation, incident="demo", major="demo",
                                                             policies=(*before.escalation.policies, DEMO_POLICY)))
    try:
        duty_member = await members.by_telegram_id(desk.db.conn, duty.id)
        assert duty_member is not None
        async with desk.db.tx() as conn:
            await channels.set_phone(conn, duty_member.id, "13800001234")
        stage.narrate("管理员已登记值班员手机号；值班员这次没看到告警")
        await officer.send_command("/report")
        await officer.press(await officer.wait_for("类别"), text="交通事故")
        await officer.press(await officer.wait_for("发生时间"), text="刚刚")
        await officer.wait_for("事发地点")
        await officer.send_text("中原路与桐柏路交叉口")
        await officer.press(await officer.wait_for("伤亡情况"), text="无伤亡")
        await officer.wait_for("简要描述")
        await officer.send_text("两车追尾，占用一条车道，交警已到场")
        await officer.press(await officer.wait_for("请核对"), text="✅ 确认上报")
        await officer.wait_for("事件编号")
        await duty.wait_for("突发事件")
        await desk.settle()

        stage.narrate("3 秒无人确认：升级到办公室主任，同时短信通知值班员、推送钉钉值班群")
        escalated = await director.wait_for("无人确认收到", timeout=15)
        await _until(lambda: fakes.received("sms") and fakes.received("dingtalk"))
        stage.flush()
        for arrival in fakes.received("sms"):
            stage.out(f"📱 短信 → {arrival.name[:3]}****{arrival.name[-4:]}：{arrival.text}")
        for arrival in fakes.received("dingtalk"):
            stage.out("💬 钉钉值班群（加签校验通过）：\n" + arrival.text)

        stage.narrate("办公室主任点「已收到」：升级停止，时间线记下谁在第几步确认")
        await director.press(escalated, text="✅ 已收到")
        await desk.settle()
        stage.facts.setdefault("summary", []).append(
            f"告警升级：短信 {len(fakes.received('sms'))} 条，群机器人 {len(fakes.received('dingtalk'))} 条")
    finally:
        # The later scenes run as before: an alert acknowledged or not, nothing escalates in their seconds.
        s.config = before.replace(escalation=dataclasses.replace(before.escalation, incident="", major=""))
