"""Every version of the facts, and the 误报 finding (issue #24 §2): corrections never overwrite;
/incident N shows what changed, old → new; the export has the facts and versions sheets."""

from __future__ import annotations

import io
from datetime import timedelta

from bot.domain.accountability import MarkKind
from bot.domain.casualties import Casualties as C
from bot.domain.incidents import Stage
from bot.harness import Desk
from storage import incident_marks, incident_versions, incidents
from tests.conftest import Cast
from tests.e2e.flows import file_report


async def three_corrections(desk: Desk, cast: Cast) -> str:
    """A fire reported with no casualties; the written report corrects the injured (李信息), a
    follow-up raises them (王主任), another adds a death (李信息)."""
    o, head = cast.officer, cast.head
    number = await file_report(desk, o, casualties="无伤亡")
    done = o.last
    assert done is not None
    await desk.advance(minutes=20)
    await o.press(done, text="📝 书面报告")
    await o.press(await o.wait_for("书面报告（事件"), text="更正伤亡")
    await o.wait_for("伤亡情况")
    await o.send_text("死亡0 受伤2 失踪0")
    await o.press(await o.wait_for("书面报告（事件"), text="✅ 确认无误")
    await o.wait_for("书面报告已报送")
    await desk.advance(minutes=20)
    await head.send_command("/incident", number)
    await head.press(await head.wait_for("时间线"), text="➕ 续报进展")
    await head.wait_for("最新情况")
    await head.send_text("又发现两名受伤居民，已送医")
    await head.wait_for("伤亡有变化吗")
    await head.send_text("受伤4")
    await head.wait_for("续报已报送")
    await desk.advance(minutes=20)
    await o.press(done, text="➕ 续报进展")
    await o.wait_for("最新情况")
    await o.send_text("一名伤者经抢救无效死亡")
    await o.wait_for("伤亡有变化吗")
    await o.send_text("死亡1")
    await o.wait_for("续报已报送")
    await desk.settle()
    return number


async def test_three_corrections_give_three_versions_in_incident_and_export(desk: Desk, cast: Cast) -> None:
    from openpyxl import load_workbook

    number = await three_corrections(desk, cast)
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    versions = await incident_versions.of(desk.db.conn, inc.id)
    assert [(v.no, v.via, v.facts.casualties) for v in versions] == [
        (1, "first", C(0, 0, 0)), (2, "written", C(0, 2, 0)), (3, "followup", C(0, 4, 0)), (4, "followup", C(1, 4, 0))]
    assert [v.at - versions[0].at for v in versions] == [timedelta(0), timedelta(minutes=20), timedelta(minutes=40),
                                                         timedelta(minutes=60)]
    # /incident N: the current facts, and on a button what changed, who, when, through which stage.
    d = cast.director
    await d.send_command("/incident", number)
    detail = await d.wait_for("时间线")
    assert "伤亡：死亡 1，受伤 4，失踪 0" in detail.text and "要素版本：4 个" in detail.text
    await d.press(detail, text="🕘 要素变更（4）")
    history = (await d.wait_for("要素变更")).text
    assert "共 4 个版本" in history
    for line in ("第1版 11-23 10:00 李信息（首报）", "首次报送的要素",
                 "第2版 11-23 10:20 李信息（书面报告）", "伤亡：死亡 0，受伤 0，失踪 0 → 死亡 0，受伤 2，失踪 0",
                 "第3版 11-23 10:40 王主任（续报进展）", "伤亡：死亡 0，受伤 2，失踪 0 → 死亡 0，受伤 4，失踪 0",
                 "第4版 11-23 11:00 李信息（续报进展）", "伤亡：死亡 0，受伤 4，失踪 0 → 死亡 1，受伤 4，失踪 0"):
        assert line in history, line
    # Another unit's officer may not read them (forged button).
    before = len(cast.other_officer.callback_answers)
    await cast.other_officer.send_text("/help")
    await desk.settle()
    await cast.other_officer.press_raw(f"i:v:{inc.id}", cast.other_officer.last.message_id)  # type: ignore[union-attr]
    await desk.settle()
    assert any("本单位" in (a.text or "") or "无权" in (a.text or "")
               for a in cast.other_officer.callback_answers[before:])

    # The export: the facts sheet (current facts) and the versions sheet (old → new).
    await d.send_command("/export")
    doc = await d.wait_for(lambda m: m.kind == "document")
    rec = desk.emu.file(doc.file_id or "")
    assert rec is not None
    wb = load_workbook(io.BytesIO(rec.content))
    assert {"事件要素", "要素版本", "报送通报", "问责记录"} <= set(wb.sheetnames)
    facts = list(wb["事件要素"].iter_rows(values_only=True))
    row = dict(zip(facts[0], facts[1], strict=True))
    assert row["事件编号"] == number and row["死亡"] == 1 and row["受伤"] == 4 and row["版本数"] == 4
    assert row["来源"] == "单位上报"
    changes = [r for r in wb["要素版本"].iter_rows(values_only=True)][1:]
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in changes] == [
        (number, 1, "李信息", "首报", "首次报送的要素"), (number, 2, "李信息", "书面报告", "伤亡"),
        (number, 3, "王主任", "续报进展", "伤亡"), (number, 4, "李信息", "续报进展", "伤亡")]
    assert changes[3][6] == "死亡 0，受伤 4，失踪 0" and changes[3][7] == "死亡 1，受伤 4，失踪 0"
    assert changes[1][2].strftime("%H:%M") == "10:20"  # Beijing time


async def test_a_wrong_report_is_marked_with_reason_and_facts_and_the_unit_sends_a_corrected_report(
        desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer, casualties="死亡1 受伤3 失踪0")
    d = cast.director
    await d.send_command("/incident", number)
    detail = await d.wait_for("时间线")
    await d.press(detail, text="⚠️ 认定误报")
    await d.wait_for("请输入理由")
    await d.send_text("经核实无人死亡，伤者1人")
    review = await d.wait_for("误报认定（事件")
    await d.press(review, text="✅ 提交误报认定")  # nothing corrected yet: refused, nothing recorded
    assert "请至少更正一项" in (await d.wait_for("更正一项")).text
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and await incident_marks.of(desk.db.conn, inc.id) == []
    await d.press(review, text="更正伤亡")
    await d.wait_for("伤亡情况")
    await d.send_text("死亡0 受伤1 失踪0")
    await d.press(await d.wait_for("误报认定（事件"), text="✅ 提交误报认定")
    assert "已认定事件" in (await d.wait_for("误报")).text
    await desk.settle()

    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and inc.casualties == C(0, 1, 0)
    wrong = [m for m in await incident_marks.of(desk.db.conn, inc.id) if m.kind is MarkKind.WRONG]
    assert len(wrong) == 1 and wrong[0].reason == "经核实无人死亡，伤者1人"
    versions = await incident_versions.of(desk.db.conn, inc.id)
    assert [(v.via, v.facts.casualties) for v in versions] == [("first", C(1, 3, 0)), ("wrong", C(0, 1, 0))]
    corrected = inc.stage(Stage.CORRECTED)
    assert corrected is not None and corrected.due_at == desk.clock.now() + timedelta(hours=1)

    o = cast.officer
    told = await o.wait_for("认定为")
    assert "误报" in told.text and "经核实无人死亡" in told.text
    assert "伤亡：死亡 1，受伤 3，失踪 0 → 死亡 0，受伤 1，失踪 0" in told.text
    assert "📝 更正书面报告" in [t for t, _ in told.buttons]
    # Marking twice is refused; so is any mark on a closed incident (below).
    await d.press(detail, text="⚠️ 认定误报")
    assert "已认定过误报" in (await d.wait_for_answer()).text

    await desk.advance(minutes=30)
    await o.press(told, text="📝 更正书面报告")
    review = await o.wait_for("更正书面报告（事件")
    assert "死亡 0，受伤 1，失踪 0" in review.text
    await o.press(review, text="✅ 确认更正报告")
    await o.wait_for("更正书面报告已报送")
    await desk.settle()
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    corrected = inc.stage(Stage.CORRECTED)
    assert corrected is not None and corrected.filed_at == desk.clock.now() and corrected.delay is None
    office = await d.wait_for("更正书面报告")
    assert "📤 已上报市委" in [t for t, _ in office.buttons]  # a later stage: its own forward clock

    await d.send_command("/incident", number)
    detail = await d.wait_for("时间线")
    assert "误报（刘主任" in detail.text and "理由：经核实无人死亡" in detail.text
    await cast.head.send_command("/incident", number)
    await cast.head.press(await cast.head.wait_for("时间线"), text="🏁 结案")
    await cast.head.wait_for("处置结果")
    await cast.head.send_text("处置完毕")
    await cast.head.wait_for("已结案")
    await d.press(detail, text="🚫 认定瞒报")
    assert "已结案" in (await d.wait_for_answer()).text
    kinds = [m.kind for m in await incident_marks.of(desk.db.conn, inc.id)]
    assert MarkKind.CONCEALED not in kinds and kinds.count(MarkKind.WRONG) == 1


async def test_the_duty_room_corrects_the_facts_it_holds_as_a_version_not_a_finding(desk: Desk, cast: Cast) -> None:
    from tests.e2e.flows import record_event

    number = await record_event(desk, cast.duty, place="中原路与文化宫交叉口")  # mistyped on the phone
    duty = cast.duty
    await duty.send_command("/incident", number)
    detail = await duty.wait_for("时间线")
    assert "⚠️ 认定误报" not in [t for t, _ in detail.buttons]  # findings are a director's
    await duty.press(detail, text="✏️ 更正要素")
    review = await duty.wait_for("更正要素（事件")
    await duty.press(review, text="✅ 提交更正")
    assert "还没有更正任何要素" in (await duty.wait_for("还没有更正")).text
    await duty.press(review, text="更正地点")
    await duty.wait_for("事发地点")
    await duty.send_text("中原路与文化宫路交叉口")
    await duty.press(await duty.wait_for("更正要素（事件"), text="✅ 提交更正")
    done = await duty.wait_for("已更正事件")
    assert "地点：中原路与文化宫交叉口 → 中原路与文化宫路交叉口" in done.text
    await desk.settle()
    told = await cast.officer.wait_for("更正了事件")
    assert "中原路与文化宫交叉口 → 中原路与文化宫路交叉口" in told.text
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and inc.place == "中原路与文化宫路交叉口"
    versions = await incident_versions.of(desk.db.conn, inc.id)
    assert [(v.no, v.via, v.facts.place) for v in versions] == [
        (1, "record", "中原路与文化宫交叉口"), (2, "office", "中原路与文化宫路交叉口")]
    assert await incident_marks.of(desk.db.conn, inc.id) == []  # no finding against the unit
    # The unit's own people cannot correct the office's record (forged button): refused, nothing changed.
    before = len(cast.officer.callback_answers)
    await cast.officer.press_raw(f"i:fix:{inc.id}", told.message_id)
    await desk.settle()
    assert any("无权" in (a.text or "") for a in cast.officer.callback_answers[before:])
    assert len(await incident_versions.of(desk.db.conn, inc.id)) == 2
