"""The written report as a Word file (issue #24 §5): the 专报 layout, one per stage and the whole
incident file, on a button under /incident, to duty, directors and the unit's own head only,
never to a group. The file is opened with python-docx and read paragraph by paragraph."""

from __future__ import annotations

import io

from docx import Document
from docx.oxml.ns import qn

from bot.emulator import SimUser
from bot.emulator.models import SimMessage
from bot.harness import Desk
from storage import incidents
from tests.conftest import Cast
from tests.e2e.flows import file_report, record_event


async def written_fire(desk: Desk, cast: Cast) -> str:
    o = cast.officer
    number = await file_report(desk, o, gps=False, place="建设路与桐柏路交叉口",
                               description="居民楼三层起火，消防已到场")
    done = o.last
    assert done is not None
    await desk.advance(minutes=40)
    await o.press(done, text="📝 书面报告")
    await o.press(await o.wait_for("书面报告（事件"), text="更正伤亡")
    await o.wait_for("伤亡情况")
    await o.send_text("死亡0 受伤2 失踪0")
    await o.press(await o.wait_for("书面报告（事件"), text="✅ 确认无误")
    await o.wait_for("书面报告已报送")
    await desk.settle()
    return number


async def download(desk: Desk, who: SimUser, number: str, label: str) -> tuple[SimMessage, Document]:
    await who.send_command("/incident", number)
    await who.press(await who.wait_for("时间线"), text="📄 报告文档")
    menu = await who.wait_for("报告文档（Word）")
    await who.press(menu, text=f"⬇️ {label}")
    doc = await who.wait_for(lambda m: m.kind == "document")
    rec = desk.emu.file(doc.file_id or "")
    assert rec is not None
    return doc, Document(io.BytesIO(rec.content))


def texts(d: Document) -> list[str]:
    return [p.text for p in d.paragraphs if p.text]


async def test_the_written_report_as_a_word_file_in_the_layout_of_an_upward_report(desk: Desk, cast: Cast) -> None:
    number = await written_fire(desk, cast)
    msg, d = await download(desk, cast.head, number, "书面报告")
    assert msg.file_name == f"{number}_书面报告.docx"
    lines = texts(d)
    assert lines[:7] == [
        "关于建设路与桐柏路交叉口火灾的报告", f"（书面报告·事件编号 {number}）", "报送单位：建设路街道",
        "报送时间：2026年11月23日10时40分", f"事件编号：{number}", "区委办公室：", "一、事件概况"]
    assert lines[7] == "2026年11月23日10时00分，建设路与桐柏路交叉口发生火灾。居民楼三层起火，消防已到场"
    headings = [x for x in lines if x[:2] in ("一、", "二、", "三、", "四、", "五、", "六、", "七、")]
    # 事 → 情 → 因 → 果, then casualties, handling, next steps.
    assert headings == ["一、事件概况", "二、现场情况", "三、事件原因", "四、造成后果", "五、人员伤亡", "六、处置情况",
                        "七、下一步工作"]
    assert lines[lines.index("五、人员伤亡") + 1] == "死亡 0 人，受伤 2 人，失踪 0 人。"
    assert lines[lines.index("三、事件原因") + 1] == "正在核实，将及时续报。"
    assert "续报（起因/处置/后果）（11-23 13:00前）" in lines[lines.index("七、下一步工作") + 1]
    assert lines[-4:] == ["特此报告。", "报送人：李信息　　联系电话：＿＿＿＿＿＿＿＿", "签发人：＿＿＿＿＿＿",
                          "建设路街道　2026年11月23日"]
    title = d.paragraphs[0].runs[0]
    assert title.bold and title._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert d.paragraphs[7].runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert d.tables == []

    # The whole incident file: every stage, every version, the timeline.
    _msg, f = await download(desk, cast.director, number, "事件档案")
    assert texts(f)[1] == f"（事件档案·事件编号 {number}）"
    stages, versions, timeline = f.tables
    assert [c.text for c in stages.rows[0].cells] == ["阶段", "时限", "报送时间", "报送人", "情况"]
    assert [[c.text for c in r.cells][0::4] for r in stages.rows[1:]] == [
        ["首报", "按时"], ["书面报告", "按时"], ["续报（起因/处置/后果）", "未到时限"]]
    assert [[c.text for c in r.cells] for r in versions.rows[1:]] == [
        ["1", "11-23 10:00", "李信息", "首报", "首次报送的要素"],
        ["2", "11-23 10:40", "李信息", "书面报告", "伤亡：死亡 0，受伤 0，失踪 0 → 死亡 0，受伤 2，失踪 0"]]
    assert any("书面报告（李信息）" in r.cells[1].text for r in timeline.rows)


async def test_only_duty_directors_and_the_units_own_head_get_it_in_a_private_chat(desk: Desk, cast: Cast) -> None:
    number = await written_fire(desk, cast)
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    _m, d = await download(desk, cast.duty, number, "首报")
    assert texts(d)[1] == f"（首报·事件编号 {number}）"
    # The officer and the leader see /incident without the button; a forged press is refused.
    other_head = await desk.register("other_head", "钱主任", "mianfanglu", "unit_head")
    for who in (cast.officer, cast.leader, other_head):
        await who.send_command("/incident", number)
        shown = await who.wait_for(lambda m: "时间线" in (m.text or "") or "没有编号" in (m.text or ""))
        assert "📄 报告文档" not in [t for t, _ in shown.buttons]
        before = len(who.callback_answers)
        await who.press_raw(f"dx:written:{inc.id}", shown.message_id)
        await desk.settle()
        assert any(("无权" in (a.text or "") or "本单位" in (a.text or "")) for a in who.callback_answers[before:])
        assert not [m for m in who.inbox if m.kind == "document"]
    # A stage not on file has no document; pressing in a group sends nothing there.
    head = cast.head
    await head.send_command("/incident", number)
    shown = await head.wait_for("时间线")
    before = len(head.callback_answers)
    await head.press_raw(f"dx:full:{inc.id}", shown.message_id)
    await desk.settle()
    assert any("尚未报送" in (a.text or "") for a in head.callback_answers[before:])
    group = desk.emu.group(-100300, "建设路街道工作群", members=[head.id, cast.director.id])
    await cast.director.send_command("/help", chat=group)
    await desk.settle()
    posted = group.messages[-1]
    before = len(head.callback_answers)
    await head.press_raw(f"dx:written:{inc.id}", posted.message_id, chat=group)
    await desk.settle()
    assert any("私聊" in (a.text or "") for a in head.callback_answers[before:])
    assert not [m for m in group.messages if m.kind == "document"]


async def test_a_recorded_phone_report_names_the_caller_and_number(desk: Desk, cast: Cast) -> None:
    number = await record_event(desk, cast.duty, caller="王芳（党政办主任）", phone="0371-6789 1234")
    _m, d = await download(desk, cast.director, number, "首报")
    assert "报送人：王芳（党政办主任）　　联系电话：0371-67891234" in texts(d)
