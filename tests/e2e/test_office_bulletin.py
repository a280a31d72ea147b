"""The 通报 (issue #24 §4): on the 1st of the month at 09:00 the directors get, per unit, the
迟报 / 漏报 / 误报 / 瞒报 counts with incident numbers and the directors' notes, failures first;
/stats and the export carry the same four counts."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from bot.emulator import SimUser
from bot.emulator.models import SimMessage
from bot.harness import Desk
from tests.conftest import Cast
from tests.e2e.flows import file_report, record_event


def with_button(user: SimUser, label: str) -> SimMessage:
    return next(m for m in reversed(user.inbox) if label in [t for t, _ in m.buttons])


async def november(desk: Desk, cast: Cast) -> tuple[str, str]:
    """建设路街道: a fire, its written report late, closed without the full report. 棉纺路街道: an
    event the office learnt of from the media, never reported, found 瞒报 with a note 约谈."""
    o, d = cast.officer, cast.director
    fire = await file_report(desk, o)
    await d.press(await d.wait_for(f"突发事件 {fire}"), text="📤 已上报市委")
    await d.wait_for_answer()
    hidden = await record_event(desk, cast.duty, source="媒体/网络", unit="棉纺路街道", when="1小时前",
                                category="群体性事件", description="部分群众聚集，网络已有视频")
    await d.send_command("/incident", hidden)
    detail = await d.wait_for("时间线")
    await d.press(detail, text="🚫 认定瞒报")
    await d.wait_for("请输入理由")
    await d.send_text("媒体已报道，单位未报告")
    await d.wait_for("已认定")
    await d.press(detail, text="📝 问责备注")
    await d.press(await d.wait_for("为哪一项"), text="瞒报")
    await d.wait_for("的备注")
    await d.send_text("约谈街道党政办主任")
    await d.wait_for("已为事件")
    await desk.advance(hours=2, minutes=1)  # the written report is overdue: 迟报
    await o.press(with_button(o, "📝 书面报告"), text="📝 书面报告")
    await o.press(await o.wait_for("书面报告（事件"), text="✅ 确认无误")
    await o.wait_for("书面报告已报送")
    await cast.head.send_command("/incident", fire)
    await cast.head.press(await cast.head.wait_for("时间线"), text="🏁 结案")
    await cast.head.wait_for("处置结果")
    await cast.head.send_text("明火扑灭")
    await cast.head.wait_for("已结案")  # the full report was never sent: 漏报
    await desk.settle()
    return fire, hidden


async def test_the_monthly_bulletin_lists_failures_per_unit_with_numbers_and_notes(desk: Desk, cast: Cast) -> None:
    fire, hidden = await november(desk, cast)
    first_of_december = datetime(2026, 12, 1, 1, 0, 30, tzinfo=desk.clock.now().tzinfo)  # 09:00:30 Beijing
    await desk.advance(first_of_december - desk.clock.now() - timedelta(minutes=5))
    assert not [m for m in cast.director.inbox if "重要紧急信息报送情况的通报" in (m.text or "")]
    await desk.advance(minutes=5)
    text = (await cast.director.wait_for("重要紧急信息报送情况的通报")).text
    assert "（2026-11-01 至 2026-11-30）" in text
    assert "本期共报送突发事件 2 起" in text and "认定迟报 3 次、漏报 1 次、误报 0 次、瞒报 1 次" in text
    failing = text.split("二、存在问题的单位")[1].split("三、")[0]
    # Most failures first: 棉纺路街道 never reported (首报, 书面报告 late) and hid it;
    # 建设路街道 was late and missed one.
    assert failing.index("1. 棉纺路街道") < failing.index("2. 建设路街道")
    mianfang = failing.split("2. 建设路街道")[0]
    assert f"瞒报 1 次：{hidden}【约谈街道党政办主任】" in mianfang
    assert f"迟报 2 次：{hidden} 首报；{hidden} 书面报告" in mianfang
    assert f"未报（本室先行获知）1 起：{hidden}（本室获知前 1小时）" in mianfang
    jianshe = failing.split("2. 建设路街道")[1]
    assert f"迟报 1 次：{fire} 书面报告（迟 " in jianshe and f"漏报 1 次：{fire} 续报（起因/处置/后果）" in jianshe
    assert "平均首报用时 0分钟" in jianshe
    clean = text.split("三、报送规范的单位")[1].split("四、")[0]
    assert "须水街道、教体局、环保局、建设局：本期无突发事件报送" in clean
    office = text.split("四、区委办公室上报市委情况")[1]
    assert "超时上报 1 次" in office and f"{hidden} 登记情况" in office
    # Only the directors get it (no group configured); nobody else.
    for person in (cast.duty, cast.officer, cast.head, cast.leader):
        assert not [m for m in person.inbox if "重要紧急信息报送情况的通报" in (m.text or "")]
    # It fires once; the next one is planned for 1 January.
    await desk.advance(hours=1)
    assert len([m for m in cast.director.inbox if "重要紧急信息报送情况的通报" in (m.text or "")]) == 1


async def test_stats_export_and_on_demand_bulletin_carry_the_four_counts(desk: Desk, cast: Cast) -> None:
    from openpyxl import load_workbook

    fire, hidden = await november(desk, cast)
    d = cast.director
    await d.send_command("/stats")
    text = (await d.wait_for("统计")).text
    jianshe = text.split("建设路街道")[1].split("棉纺路街道")[0]
    assert f"迟报 1（{fire}）、漏报 1（{fire}）、误报 0、瞒报 0" in jianshe
    mianfang = text.split("棉纺路街道")[1].split("须水街道")[0]
    assert f"迟报 2（{hidden}）、漏报 0、误报 0、瞒报 1（{hidden}）" in mianfang
    await d.send_command("/export")
    doc = await d.wait_for(lambda m: m.kind == "document")
    rec = desk.emu.file(doc.file_id or "")
    assert rec is not None
    wb = load_workbook(io.BytesIO(rec.content))
    rows = {r[0]: r for r in wb["报送通报"].iter_rows(values_only=True)}
    assert rows["单位"][:6] == ("单位", "突发事件", "迟报", "漏报", "误报", "瞒报")
    assert rows["建设路街道"][1:6] == (1, 1, 1, 0, 0) and rows["棉纺路街道"][1:7] == (1, 2, 0, 0, 1, 1)
    assert rows["棉纺路街道"][10] == hidden
    marks = [r for r in wb["问责记录"].iter_rows(values_only=True)][1:]
    assert (hidden, "棉纺路街道", "瞒报") in [r[:3] for r in marks]
    assert next(r for r in marks if r[2] == "瞒报")[6] == "约谈街道党政办主任"
    await d.send_command("/breaches", "2026-11")
    assert "棉纺路街道" in (await d.wait_for("重要紧急信息报送情况")).text
    for person in (cast.officer, cast.head):
        await person.send_command("/breaches")
        await person.wait_for("无权")
