from bot.harness import Desk
from tests.conftest import Cast


async def test_first_report_alerts_office(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/report")
    await o.wait_for("请选择事件类别")
    await o.press(o.last, text="火灾")
    await o.wait_for("事件发生时间")
    await o.press(o.last, text="刚刚")
    await o.wait_for("事发地点")
    await o.share_location(34.75, 113.62)
    await o.wait_for("伤亡情况")
    await o.press(o.last, text="无伤亡")
    await o.wait_for("简要描述")
    await o.send_text("居民楼三层起火，消防已到场")
    summary = await o.wait_for("请核对")
    await o.press(summary, text="✅ 确认上报")
    done = await o.wait_for("已上报")
    assert "2026-0001" in done.text
    await desk.settle()
    alert = await cast.director.wait_for("突发事件 2026-0001")
    assert "火灾" in alert.text
    await cast.director.press(alert, text="✅ 已收到")
    await desk.settle()
    print(desk.emu.format_transcript())
