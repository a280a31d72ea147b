"""Demo scene: the duty officer writes a log entry with something pending; at the shift change the
handover draft lists it with the open matters, she hands over, the incoming officer takes over, and
the day's log shows it all. The shift change is staged a few seconds ahead (normally 08:30/17:30)."""

from __future__ import annotations

from datetime import timedelta

from bot.demo_scenes.stage import Stage
from bot.domain import roster as rules
from bot.domain.roster import Slot
from bot.services import handover
from bot.services.roster import roster_rules
from storage import members, roster
from storage.db import from_db

TITLE = "demo.handover_title"


async def play(stage: Stage) -> None:
    desk = stage.desk
    s = desk.services
    duty, director = stage.person("duty"), stage.person("director")
    incoming = stage.people.get("duty2") or await desk.register("duty2", "赵敏（区委办值班员）", "office", "duty")
    stage.people["duty2"] = incoming

    stage.narrate("值班员用手机记一条值班记录（来电，附待办）；突发事件、通知等不用手记，自动进入值班记录")
    await duty.send_command("/log")
    await duty.press(await duty.wait_for("请选择类别"), text="来电")
    await duty.press(await duty.wait_for("什么时间"), text="现在")
    await duty.wait_for("来自谁")
    await duty.send_text("市应急局 张科长 0371-6xxxxxxx")
    await duty.wait_for("内容")
    await duty.send_text("通报今晚有寒潮，要求各区做好值守")
    await duty.wait_for("处理情况")
    await duty.send_text("已报带班领导，已通知各街道")
    await duty.wait_for("待办")
    await duty.send_text("22:00 前汇总各街道值守情况报市应急局")
    await duty.press(await duty.wait_for("照片"), text="完成")
    await duty.wait_for("已保存")
    await desk.settle()

    stage.narrate("交接班时刻（演示中几秒后；平时每个班次开始时）：交班人员收到交接班单——待办、未结事件及下一时限、未签收紧急通知、未上报事项")
    at = s.now() + timedelta(seconds=3)
    day = rules.duty_day(s.now(), roster_rules(s)) + timedelta(days=60)  # a label away from the imported week
    out_id = (await members.by_telegram_id(desk.db.conn, duty.id)).id  # type: ignore[union-attr]
    in_id = (await members.by_telegram_id(desk.db.conn, incoming.id)).id  # type: ignore[union-attr]
    async with s.uow() as tx:
        await roster.replace_shift(tx.conn, day, "day", [Slot(day, "day", 1, out_id, at - timedelta(hours=9), at)],
                                   tx.now, None)
        await roster.replace_shift(tx.conn, day, "night", [Slot(day, "night", 1, in_id, at, at + timedelta(hours=15))],
                                   tx.now, None)
    await handover.plant_change(s, at)
    draft = await duty.wait_for("🔁 交接班", timeout=15)
    await duty.press(draft, text="📝 交班说明")
    await duty.wait_for("交班说明")
    await duty.send_text("寒潮预警期间夜间加强电话值守")
    await duty.press(await duty.wait_for("已记录交班说明"), text="✅ 交班")
    await duty.wait_for("已交班")
    await desk.settle()

    stage.narrate("接班人员收到交接内容和交班说明，点「接班」；交班、接班时间都记录在案（超时无人接班会告知主任）")
    take = await incoming.wait_for("🔁 接班")
    await incoming.press(take, text="✅ 接班")
    await incoming.wait_for("已接班")
    await desk.settle()
    await director.send_command("/duty", "log")
    await director.wait_for("值班记录")
    await desk.settle()
    async with desk.db.conn.execute("SELECT handed_at, taken_at FROM handovers ORDER BY id DESC LIMIT 1") as cur:
        handed, taken = await cur.fetchone()
    stage.facts.setdefault("summary", []).append(
        f"值班记录与交接班：记录 1 条（含待办）；交班 {s.fmt.dt(from_db(handed))}，接班 {s.fmt.dt(from_db(taken))}。")
