"""Demo scene: a 督办事项 from assignment to a late completion, with reminders, the overdue
alert, chasing and the bulletin; days are folded into seconds."""

from __future__ import annotations

from datetime import timedelta

from bot.demo_scenes.stage import Stage
from bot.domain import supervision as rules
from bot.services import supervision as svc
from bot.services import supervision_deadlines
from storage import supervision as store

TITLE = "demo.supervision_title"


async def play(stage: Stage) -> None:
    desk = stage.desk
    s = desk.services
    officer, head, director = stage.person("officer"), stage.person("head"), stage.person("director")
    leader = stage.people.get("leader") or await desk.register("leader", "孙伟（区长）", "office", "leader")
    stage.people["leader"] = leader

    stage.narrate("区委办主任交办督办事项：标题、来源、办理要求、承办单位、责任领导、时限、催办计划")
    await director.send_command("/task")
    await director.wait_for("事项标题")
    await director.send_text("关于背街小巷环境整治的批示")
    await director.press(await director.wait_for("事项来源"), text="领导批示")
    await director.wait_for("办理要求")
    await director.send_text("一周内完成建设路沿线背街小巷整治，报送整治前后对比照片")
    units = await director.wait_for("承办单位")
    await director.press(units, text="建设路街道")
    await desk.settle()
    await director.press(units, text="✔️ 选好了")
    await director.press(await director.wait_for("责任领导"), text=leader.first_name)
    await director.wait_for("办理时限")
    await director.send_text("一周")
    await director.press(await director.wait_for("催办计划"), text="按默认")
    await director.press(await director.wait_for("请核对"), text="✅ 确认交办")
    await director.wait_for("已交办")
    await desk.settle()
    task = (await store.list_tasks(desk.db.conn))[0]
    aid = task.assignments[0].id

    stage.narrate("单位办公室主任签收（4 小时内未签收会告知主任）；责任领导同时收到")
    await leader.wait_for("责任领导")
    await head.press(await head.wait_for("新的督办事项"), text="✍️ 签收")
    await head.wait_for("已签收")
    await desk.settle()
    await director.wait_for("已签收督办事项")

    stage.narrate("信息员报送办理进展（文字 + 照片），主任和责任领导收到")
    await officer.send_command("/progress")
    await officer.wait_for("请输入办理进展")
    await officer.send_text("已完成 12 条小巷的垃圾清运和违规广告拆除")
    await officer.wait_for("附件")
    await officer.send_photo()
    await officer.press(await officer.wait_for("已附 1 个附件"), text="📤 提交")
    await officer.wait_for("进展已报送")
    await desk.settle()
    await director.wait_for("进展")

    stage.narrate("到期前提醒单位和责任领导（平时到期前 3 天、1 天、2 小时；演示中立即触发）")
    await supervision_deadlines.plant_now(s, rules.REMIND, aid, s.now() + timedelta(seconds=1))
    await head.wait_for("到期，还剩", timeout=10)
    await leader.wait_for("您负责的督办事项", timeout=10)
    await desk.settle()

    stage.narrate("演示中把时限改到 3 秒后：到期未办结记为逾期，告知主任和责任领导，随后按节奏催办（平时每天一次）")
    await svc.move_deadline(s, aid, s.now() + timedelta(seconds=3))
    await head.wait_for("记为逾期", timeout=15)
    await director.wait_for("逾期：", timeout=10)
    await leader.wait_for("逾期：", timeout=10)
    await desk.settle()
    await supervision_deadlines.plant_now(s, rules.CHASE, aid, s.now() + timedelta(seconds=1))
    chased = await head.wait_for("催办", timeout=10)
    await desk.settle()

    stage.narrate("单位办公室主任报办结，主任审核通过（逾期办结）")
    await head.press(chased, text="✅ 办结")
    await head.wait_for("办结情况")
    await head.send_text("整治完成，共清理 12 条小巷，对比照片见附件")
    await head.press(await head.wait_for("提交"), text="📤 提交")
    await head.wait_for("等待审核")
    await desk.settle()
    await director.press(await director.wait_for("已办结"), text="✅ 通过")
    await director.wait_for("已通过")
    await desk.settle()

    stage.narrate("主任查看督查督办通报（平时每周一 09:00 自动发给主任）")
    await director.send_command("/bulletin")
    await director.wait_for("督查督办通报")
    await desk.settle()
    done = await store.get(desk.db.conn, task.id)
    assert done is not None
    a = done.assignments[0]
    result = "逾期办结" if a.finished_late else "按期办结"
    stage.facts.setdefault("summary", []).append(
        f"督办事项 #{done.id}：签收、报进展 1 次、提醒 1 次、逾期催办 1 次；"
        f"{result}，事项{'已办结' if not done.open else '未办结'}。"
    )
