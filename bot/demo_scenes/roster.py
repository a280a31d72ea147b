"""Demo scene: the director sends the duty roster as Excel, the duty officer looks at the week,
then the director asks for this month's statistics (text and chart) and the Excel export."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import Workbook

from bot.demo_scenes.stage import Stage
from bot.domain import roster as rules
from bot.services.roster import roster_rules

TITLE = "demo.roster_title"


def roster_xlsx(stage: Stage) -> bytes:
    """Yesterday to a week ahead: 陈静 on every shift's first post, the director leading."""
    s = stage.desk.services
    r = roster_rules(s)
    today = rules.duty_day(s.now(), r)
    duty, director = stage.person("duty").first_name, stage.person("director").first_name
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook has its one sheet
    header = rules.template_header(r)
    ws.append(header)
    for i in range(-1, 7):
        day = today + timedelta(days=i)
        ws.append([day.isoformat()] + [duty if h.endswith(r.posts[0]) else None for h in header[1:-1]] + [director])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def play(stage: Stage) -> None:
    desk = stage.desk
    duty, director = stage.person("duty"), stage.person("director")

    stage.narrate("区委办主任把值班表（Excel）发给机器人：逐行核对姓名与角色，全部无误才导入")
    await director.send_document("值班表.xlsx", content=roster_xlsx(stage))
    await director.wait_for("值班表已导入")
    await desk.settle()

    stage.narrate("值班员查看当前值班、今天和本周的排班（/duty）；当班值班员最先收到突发事件")
    await duty.send_command("/duty")
    await duty.wait_for("当前值班")
    await desk.settle()

    stage.narrate("主任查看本月各单位统计（/stats），并收到及时率图表；再导出 Excel（/export）")
    await director.send_command("/stats")
    await director.wait_for("统计")
    await director.wait_for(lambda m: m.kind == "photo", timeout=20)
    await director.send_command("/export")
    doc = await director.wait_for(lambda m: m.kind == "document", timeout=20)
    await desk.settle()
    stage.facts.setdefault("summary", []).append(
        f"值班与统计：值班表已导入 8 天；统计图表与 Excel（{doc.file_name}）已发送。")
