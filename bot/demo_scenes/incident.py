"""Demo scene: an emergency from the officer's phone to closing, on a policy of seconds."""

from __future__ import annotations

import asyncio

from bot.demo_scenes.stage import Stage
from storage import incidents

TITLE = "demo.incident_title"


async def play(stage: Stage) -> None:
    desk = stage.desk
    officer, head = stage.person("officer"), stage.person("head")
    duty, director = stage.person("duty"), stage.person("director")

    stage.narrate("信息员用手机上报突发事件：五次回答（类别、时间、定位、伤亡、情况）")
    await officer.send_command("/report")
    await officer.press(await officer.wait_for("类别"), text="道路塌方/地质灾害")
    await officer.press(await officer.wait_for("发生时间"), text="刚刚")
    await officer.wait_for("事发地点")
    await officer.share_location(34.7466, 113.6253)
    await officer.press(await officer.wait_for("伤亡情况"), text="暂不清楚")
    await officer.wait_for("简要描述")
    await officer.send_text("建设路与桐柏路交叉口路面塌陷约20平方米，一辆车陷入，已设警戒")
    await officer.press(await officer.wait_for("请核对"), text="✅ 确认上报")
    done = await officer.wait_for("事件编号")
    await desk.settle()

    stage.narrate("道路塌方是重大类别：街道办事处主任（单位主要负责人）同时收到；值班员确认收到，主任上报市委")
    await stage.person("chief").wait_for("突发事件")
    alert = await duty.wait_for("突发事件")
    await duty.press(alert, text="✅ 已收到")
    await desk.settle()
    await director.press(await director.wait_for("突发事件"), text="📤 已上报市委")
    await desk.settle()

    stage.narrate("书面报告按时报送（时限 8 秒）")
    await officer.press(done, text="📝 书面报告")
    await officer.press(await officer.wait_for("书面报告"), text="✅ 确认无误")
    await officer.wait_for("已报送")
    await desk.settle()

    stage.narrate("续报（起因/处置/后果）未按时报送：到期前提醒，超时记迟报并通报")
    await officer.wait_for("将于", timeout=15)
    await head.wait_for("已超过时限", timeout=15)
    await desk.settle()
    await officer.press(done, text="📄 续报（起因/处置/后果）")
    for answer in ("地下供水管道渗漏导致路基掏空", "该路段为老旧管网", "塌陷面积未扩大",
                   "已封闭交通、疏导车辆，抢修队到场"):
        await officer.wait_for("？")
        await officer.send_text(answer)
    await officer.press(await officer.wait_for("后果"), text="暂不清楚")
    await officer.wait_for("续报已报送")
    await desk.settle()

    stage.narrate("续报进展，然后由单位办公室主任结案")
    await officer.press(done, text="➕ 续报进展")
    await officer.wait_for("最新情况")
    await officer.send_text("被困车辆已吊出，驾驶员无碍；管道已关阀")
    await officer.wait_for("伤亡有变化吗")
    await officer.send_text("死亡0 受伤0 失踪0")
    await officer.wait_for("续报已报送")
    await desk.settle()
    await head.send_command("/incidents")
    await head.wait_for("未结事件")
    inc_list = await incidents.list_open(desk.db.conn)
    number = inc_list[0].number
    await head.send_command("/incident", number)
    detail = await head.wait_for("时间线")
    await head.press(detail, text="🏁 结案")
    await head.wait_for("处置结果")
    await head.send_text("道路已修复通车，无人员伤亡")
    await head.wait_for("已结案")
    await desk.settle()
    await asyncio.sleep(0)
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    t = desk.services.texts
    late = t("core.list_sep").join(t(f"incident.stage.{r.stage.value}") for r in inc.stages if r.delay)
    stage.facts.setdefault("summary", []).append(t(
        "demo.incident_summary", number=number,
        late=t("demo.incident_late", stages=late) if late else t("demo.incident_on_time"),
        forwarded=desk.services.fmt.dur(inc.forwarded_at - inc.created_at) if inc.forwarded_at else "—",
        closed=t("demo.incident_closed") if inc.closed_at else t("demo.incident_open"),
    ))
