"""Steps people take often in tests, written as they would tap them."""

from __future__ import annotations

import json

from bot.emulator import SimUser
from bot.harness import Desk


def dialogue_step(desk: Desk, who: SimUser) -> int | None:
    """The person's dialogue step in their private chat, as committed (None: no dialogue open)."""
    with desk.sql() as conn:
        row = conn.execute("SELECT state FROM ptb_conversations WHERE name='dialog' AND key=?",
                           (json.dumps([who.id, who.id]),)).fetchone()
    return json.loads(row[0]) if row else None


async def file_report(
    desk: Desk, who: SimUser, *, category: str = "火灾", when: str = "刚刚", gps: bool = True,
    place: str | None = None, casualties: str = "无伤亡", description: str = "居民楼三层起火，消防已到场",
) -> str:
    """/report → … → 确认上报; returns the incident number."""
    await who.send_command("/report")
    await who.press(await who.wait_for("类别"), text=category)
    occurred = await who.wait_for("发生时间")
    if when in ("刚刚", "30分钟前", "1小时前"):
        await who.press(occurred, text=when)
    else:
        await who.send_text(when)
    await who.wait_for("事发地点")
    if gps:
        await who.share_location(34.7466, 113.6253)
    else:
        await who.send_text(place or "建设路与桐柏路交叉口")
    cas = await who.wait_for("伤亡情况")
    if casualties in ("无伤亡", "暂不清楚"):
        await who.press(cas, text=casualties)
    else:
        await who.send_text(casualties)
    await who.wait_for("简要描述")
    await who.send_text(description)
    await who.press(await who.wait_for("请核对"), text="✅ 确认上报")
    done = await who.wait_for("事件编号")
    await desk.settle()
    import re

    m = re.search(r"\d{4}-\d{4}", done.text or "")
    assert m, done.text
    return m.group(0)


async def record_event(
    desk: Desk, who: SimUser, *, unit: str = "建设路街道", source: str = "单位电话报告",
    caller: str = "王主任（党政办主任）", phone: str = "138 0000 0000", office_at: str = "刚刚",
    category: str = "道路塌方/地质灾害", when: str = "30分钟前", place: str = "中原路与文化宫路交叉口",
    casualties: str = "暂不清楚", description: str = "路面塌陷约20平方米，一辆车陷入，已设警戒",
) -> str:
    """/record (the duty room puts an event on record) → … → 确认上报; returns the incident number."""
    import re

    await who.send_command("/record")
    await who.press(await who.wait_for("哪个单位"), text=unit)
    await who.press(await who.wait_for("从哪里获知"), text=source)
    if source == "单位电话报告":
        await who.wait_for("来电人姓名")
        await who.send_text(caller)
        await who.wait_for("来电号码")
        await who.send_text(phone)
        asked = await who.wait_for("来电时间")
    else:
        asked = await who.wait_for("本室获知时间")
    if office_at in ("刚刚", "30分钟前", "1小时前"):
        await who.press(asked, text=office_at)
    else:
        await who.send_text(office_at)
    await who.press(await who.wait_for("类别"), text=category)
    occurred = await who.wait_for("发生时间")
    if when in ("刚刚", "30分钟前", "1小时前"):
        await who.press(occurred, text=when)
    else:
        await who.send_text(when)
    await who.wait_for("事发地点")
    await who.send_text(place)
    cas = await who.wait_for("伤亡情况")
    if casualties in ("无伤亡", "暂不清楚"):
        await who.press(cas, text=casualties)
    else:
        await who.send_text(casualties)
    await who.wait_for("简要描述")
    await who.send_text(description)
    await who.press(await who.wait_for("请核对"), text="✅ 确认上报")
    done = await who.wait_for("已登记")
    await desk.settle()
    m = re.search(r"\d{4}-\d{4}", done.text or "")
    assert m, done.text
    return m.group(0)
