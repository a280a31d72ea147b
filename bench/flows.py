"""An officer's first report, tapped as fast as the bot answers (no settling in between)."""

from __future__ import annotations

import time

from bot.emulator import SimMessage, SimUser


async def report_until_summary(who: SimUser, *, gps: bool = False, timeout: float = 60) -> SimMessage:
    """/report → category → 刚刚 → place → 无伤亡 → description; returns the summary message."""
    await who.send_command("/report")
    await who.press(await who.wait_for("类别", timeout=timeout), text="火灾")
    await who.press(await who.wait_for("发生时间", timeout=timeout), text="刚刚")
    await who.wait_for("事发地点", timeout=timeout)
    if gps:
        await who.share_location(34.7466, 113.6253)
    else:
        await who.send_text("建设路与桐柏路交叉口")
    await who.press(await who.wait_for("伤亡情况", timeout=timeout), text="无伤亡")
    await who.wait_for("简要描述", timeout=timeout)
    await who.send_text("居民楼三层起火，消防已到场")
    return await who.wait_for("请核对", timeout=timeout)


async def confirm(who: SimUser, summary: SimMessage, timeout: float = 60) -> float:
    """Press 确认上报; returns the wall-clock instant of the press."""
    t0 = time.time()
    await who.press(summary, text="✅ 确认上报")
    await who.wait_for("事件编号", timeout=timeout)
    return t0


UPDATES_PER_REPORT = 7  # /report, category, time, place, casualties, description, confirm
