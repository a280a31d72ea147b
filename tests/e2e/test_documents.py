"""办文 end to end: 收文登记 → 拟办 → 批办 (one tap, the leader named) → 办结 within the limit;
reminders, overdue and chasing; 电话请示 then 补签; 密级 — a 机密 document never carries content
or files, a file for it is refused with the reason; /notice refuses content marked 机密 or above;
/docs, /stats and the export — and bad input (times, a 批办 by someone not the leader, 办结
before 批办, forged buttons) answered clearly with nothing stored half.

The fake clock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

import io

import pytest

from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from tests.conftest import Cast


def rows(desk: Desk, sql: str) -> list[tuple[object, ...]]:
    with desk.sql() as conn:
        return conn.execute(sql).fetchall()


async def register(who: SimUser, *, title: str = "关于做好冬季供暖保障工作的通知", level: str = "非密",
                   urgency: str = "平件", files: int = 0, summary: str | None = "请各单位排查供暖隐患",
                   confirm: bool = True) -> SimMessage:
    """/doc → … → 登记; the registered card (`confirm=False`: the summary to check, not yet 登记)."""
    await who.send_command("/doc")
    await who.wait_for("文件标题")
    await who.send_text(title)
    await who.wait_for("来文单位")
    await who.send_text("市政府办公厅")
    await who.wait_for("文号")
    await who.send_text("郑政办〔2026〕31号")
    await who.press(await who.wait_for("密级？"), text=level)
    await who.press(await who.wait_for("紧急程度"), text=urgency)
    await who.press(await who.wait_for("收文时间"), text="刚收到")
    if level in ("非密", "秘密"):
        ask = await who.wait_for("内容摘要")
        if summary is None:
            await who.press(ask, text="跳过")
        else:
            await who.send_text(summary)
    if level == "非密":
        ask = await who.wait_for("可发送文件")
        for i in range(files):
            await who.send_document(f"附件{i + 1}.pdf")
            ask = await who.wait_for("已附")
        await who.press(ask, text="完成")
    check = await who.wait_for("请核对后登记")
    if not confirm:
        return check
    await who.press(check, text="✅ 登记")
    return await who.wait_for("已登记")


async def propose(who: SimUser, card: SimMessage, *, handler: str = "王主任", leader: str = "孙区长",
                  due: str | None = None) -> None:
    await who.press(card, text="✍️ 拟办")
    await who.wait_for("拟办意见")
    await who.send_text("请王主任牵头落实，报孙区长阅批")
    await who.wait_for("承办人")
    await who.send_text(handler)
    await who.press(await who.wait_for("批办领导"), text=leader)
    ask = await who.wait_for("办理时限")
    if due is None:
        await who.press(ask, text="按默认")
    else:
        await who.send_text(due)
    await who.press(await who.wait_for("请核对后呈批"), text="📨 呈批")
    await who.wait_for("已呈")


async def finish(handler: SimUser, card: SimMessage, result: str | None = "已部署排查") -> str:
    await handler.press(card, text="✅ 办结")
    ask = await handler.wait_for("办理结果")
    if result is None:
        await handler.press(ask, text="不填写")
    else:
        await handler.send_text(result)
    return (await handler.wait_for("已办结")).text or ""


async def test_registered_proposed_assigned_and_done_within_its_limit(desk: Desk, cast: Cast) -> None:
    duty, director, leader, handler = cast.duty, cast.director, cast.leader, cast.head
    card = await register(duty, files=2)
    for bit in ("收文 2026-0001", "冬季供暖", "市政府办公厅", "郑政办〔2026〕31号", "非密", "平件", "附件：2 个",
                "11-26 10:00", "待拟办"):  # the default limit: 3 days from registration
        assert bit in card.text, bit
    await director.wait_for("新收文")
    assert rows(desk, "SELECT count(*) FROM document_files WHERE document_id=1") == [(2,)]
    # only the office proposes; nobody handles before a leader's 批办
    await cast.officer.press_raw("dc:prop:1", cast.officer.last.message_id)  # type: ignore[union-attr]
    assert "无权" in ((await cast.officer.wait_for_answer()).text or "")
    await propose(duty, card)
    ask = await leader.wait_for("请批办")
    assert "请王主任牵头落实" in ask.text and "承办人：王主任" in ask.text
    await desk.settle()
    assert len([m for m in leader.inbox if m.kind == "document"]) == 2  # the files go with it
    await duty.press_raw("dc:ok:1", duty.last.message_id)  # type: ignore[union-attr]
    assert "无权" in ((await duty.wait_for_answer()).text or "")  # 批办 by someone not a leader
    await director.press_raw("dc:ok:1", director.last.message_id)  # type: ignore[union-attr]
    assert "您不是批办领导" in ((await director.wait_for_answer()).text or "")  # a leader, not the one named
    await handler.press_raw("dc:done:1", handler.last.message_id)  # type: ignore[union-attr]
    assert "无签批不办" in ((await handler.wait_for_answer()).text or "")
    await duty.press_raw("dc:phone:1", duty.last.message_id)  # type: ignore[union-attr]
    assert "只有急件" in ((await duty.wait_for_answer()).text or "")
    assert rows(desk, "SELECT state, assigned_at FROM documents") == [("proposed", None)]
    # one tap
    await leader.press(ask, text="✅ 批办")
    await leader.wait_for("已批办")
    await desk.settle()
    assigned = await handler.wait_for("交办")
    await desk.settle()
    assert "批办：孙区长" in assigned.text and len([m for m in handler.inbox if m.kind == "document"]) == 2
    await duty.wait_for("已由 孙区长 批办")
    # a day before the limit the handler is reminded; then done within it
    await desk.advance(days=2, minutes=1)
    await handler.wait_for("还剩 1天")
    assert "按时办结" in await finish(handler, assigned)
    await desk.settle()
    await leader.wait_for("已由 王主任 办结（按时办结）")
    await duty.wait_for("已由 王主任 办结（按时办结）")
    assert rows(desk, "SELECT state, result, overdue_at FROM documents") == [("done", "已部署排查", None)]
    await handler.press_raw("dc:done:1", assigned.message_id)  # again
    assert "已经办结" in ((await handler.wait_for_answer()).text or "")
    await desk.advance(days=2)
    assert not [m for m in handler.inbox if "逾期" in (m.text or "")]
    await duty.send_command("/docs")
    await duty.wait_for("没有未办结")
    await duty.send_command("/doc", "2026-0001")
    detail = (await duty.wait_for("流转记录")).text
    for bit in ("陈值班 登记", "陈值班 拟办", "孙区长 批办", "王主任 办结（按时办结）"):
        assert bit in detail, bit


async def test_a_confidential_document_never_carries_content_or_files(desk: Desk, cast: Cast) -> None:
    duty = cast.duty
    await duty.send_command("/doc")
    await duty.wait_for("文件标题")
    await duty.send_text("关于某专项工作的通知")
    await duty.wait_for("来文单位")
    await duty.send_text("市委")
    await duty.press(await duty.wait_for("文号"), text="无文号")
    await duty.press(await duty.wait_for("密级？"), text="机密")
    await duty.wait_for("不得以电子形式传输")
    urgency = await duty.wait_for("紧急程度")
    await duty.send_document("正文.pdf")  # a file for a 机密 document
    refused = await duty.wait_for("文件未保存")
    assert "密级在机密（包括机密）以上的公文不得以电子形式传输" in refused.text
    await duty.press(urgency, text="急件")
    await duty.press(await duty.wait_for("收文时间"), text="刚收到")
    summary = await duty.wait_for("请核对后登记")  # no summary, no files asked
    assert "附件：0 个" in summary.text
    await duty.send_photo()
    await duty.wait_for("文件未保存")
    await duty.press(summary, text="✅ 登记")
    card = await duty.wait_for("已登记")
    assert "机密以上公文" in card.text and "补充附件" not in " ".join(b for r in card.buttons for b in r)
    assert rows(desk, "SELECT classification, summary FROM documents") == [("confidential", "")]
    await duty.press_raw("dc:file:1", card.message_id)  # forged 补充附件
    assert "不得以电子形式传输" in ((await duty.wait_for_answer()).text or "")
    assert rows(desk, "SELECT count(*) FROM document_files") == [(0,)]
    with desk.sql() as conn, pytest.raises(Exception, match="files are kept for non-classified documents only"):
        conn.execute("INSERT INTO document_files(document_id, kind, file_id) VALUES (1, 'document', 'x')")
    # a 秘密 document: a summary, but files only for non-classified ones
    await duty.send_command("/doc")
    await duty.wait_for("文件标题")
    await duty.send_text("关于人事安排的通知")
    await duty.wait_for("来文单位")
    await duty.send_text("区委组织部")
    await duty.press(await duty.wait_for("文号"), text="无文号")
    await duty.press(await duty.wait_for("密级？"), text="秘密")
    await duty.press(await duty.wait_for("紧急程度"), text="平件")
    await duty.press(await duty.wait_for("收文时间"), text="刚收到")
    await duty.wait_for("内容摘要")
    await duty.send_document("名单.xlsx")
    assert "附件仅限非密公文" in (await duty.wait_for("文件未保存")).text
    await duty.send_text("涉及干部调整")
    await duty.wait_for("不在机器人中传附件")
    await duty.press(await duty.wait_for("请核对后登记"), text="✅ 登记")
    await duty.wait_for("已登记")
    assert rows(desk, "SELECT classification, summary FROM documents WHERE id=2") == [("secret", "涉及干部调整")]


async def test_urgent_document_by_phone_then_signed(desk: Desk, cast: Cast) -> None:
    duty, leader, handler, director = cast.duty, cast.leader, cast.head, cast.director
    card = await register(duty, title="关于寒潮天气应急响应的紧急通知", urgency="特急", summary=None)
    assert "11-23 14:00" in card.text  # 特急: 4 hours
    await propose(duty, card)
    ask = await leader.wait_for("请批办")
    phone = [m for m in duty.inbox if "已呈" in (m.text or "")][-1]
    await duty.press(phone, text="📞 电话请示")
    assert "须于 11-24 10:" in (await duty.wait_for("已记录电话请示")).text
    await desk.settle()
    await handler.wait_for("交办")  # handled now, signed later
    sign = await leader.wait_for("请于")
    assert not [m for m in leader.inbox if m.message_id == ask.message_id][0].buttons
    await leader.press_raw("dc:ok:1", ask.message_id)  # 批办 now is moot
    assert "不在待批办" in ((await leader.wait_for_answer()).text or "")
    await desk.advance(hours=22, minutes=1)
    await leader.wait_for("请补签")
    await leader.press(sign, text="✍️ 补签")
    await leader.wait_for("已补签")
    await desk.settle()
    await duty.wait_for("已由 孙区长 补签")
    await desk.advance(hours=3)
    assert not [m for m in director.inbox if "未在" in (m.text or "")]
    # a second one is never signed: the directors hear of it
    card = await register(duty, title="关于道路结冰的紧急通知", urgency="急件", summary=None)
    await propose(duty, card)
    await duty.press([m for m in duty.inbox if "已呈" in (m.text or "")][-1], text="📞 电话请示")
    await duty.wait_for("已记录电话请示")
    await desk.advance(hours=24, minutes=1)
    assert "孙区长" in (await director.wait_for("未在")).text


async def test_overdue_chased_listed_first_and_counted(desk: Desk, cast: Cast) -> None:
    from openpyxl import load_workbook

    duty, leader, handler, director = cast.duty, cast.leader, cast.head, cast.director
    first = await register(duty, title="关于报送年度总结的通知")
    await propose(duty, first)
    await leader.press(await leader.wait_for("请批办"), text="✅ 批办")
    assigned = await handler.wait_for("交办")
    second = await register(duty, title="关于征求意见的函")  # left at 待拟办
    assert second.text
    await desk.advance(days=3, minutes=1)  # past both limits
    await handler.wait_for("记为逾期")
    await director.wait_for("办文逾期")
    await duty.wait_for("记为逾期")  # the second: its registrar owes the proposal
    await desk.advance(days=1)
    await handler.wait_for("催办")
    await duty.send_command("/docs")
    listing = (await duty.wait_for("未办结公文")).text
    assert listing.index("已逾期") < listing.index("年度总结") and "征求意见" in listing
    assert "逾期办结" in await finish(handler, assigned, result=None)
    await desk.settle()
    before = len(handler.inbox)
    await desk.advance(days=2)
    assert not [m for m in handler.inbox[before:] if "催办" in (m.text or "")]
    await director.send_command("/stats")
    stats = (await director.wait_for("统计")).text
    assert "办文" in stats and "逾期办结 1" in stats and "王主任" in stats
    await director.send_command("/export")
    doc = await director.wait_for(lambda m: m.kind == "document", timeout=20)
    rec = desk.emu.file(doc.file_id or "")
    assert rec is not None
    wb = load_workbook(io.BytesIO(rec.content))
    docs = list(wb["办文"].iter_rows(values_only=True))
    assert [(r[0], r[9], r[15]) for r in docs[1:]] == [("2026-0001", "王主任", "逾期办结"),
                                                       ("2026-0002", None, "逾期未办结")]
    counts = list(wb["办文统计"].iter_rows(values_only=True))
    assert counts[1][:4] == ("王主任", "建设路街道", 0, 1)


async def test_bad_input_sent_back_and_lookups(desk: Desk, cast: Cast) -> None:
    duty, leader = cast.duty, cast.leader
    await cast.officer.send_command("/doc")
    await cast.officer.wait_for("无权")
    await duty.send_command("/doc")
    await duty.wait_for("文件标题")
    await duty.send_text("关于开展安全检查的通知")
    await duty.wait_for("来文单位")
    await duty.send_text("市安委办")
    await duty.press(await duty.wait_for("文号"), text="无文号")
    await duty.press(await duty.wait_for("密级？"), text="非密")
    await duty.press(await duty.wait_for("紧急程度"), text="平件")
    await duty.wait_for("收文时间")
    for typed, answer in (("昨晚", "没看懂"), ("23:59", "还没到"), ("11-01 09:00", "7 天内")):
        await duty.send_text(typed)
        await duty.wait_for(answer)
    await duty.send_command("/cancel")
    await duty.wait_for("已取消")
    assert rows(desk, "SELECT count(*) FROM documents") == [(0,)]
    card = await register(duty)
    await duty.press(card, text="✍️ 拟办")
    await duty.wait_for("拟办意见")
    await duty.send_text("请办理")
    await duty.wait_for("承办人")
    await duty.send_text("不存在的人")
    await duty.wait_for("不是已登记的在用人员")
    await duty.send_text("#2")  # 王主任 by number
    await duty.press(await duty.wait_for("批办领导"), text="孙区长")
    await duty.wait_for("办理时限")
    await duty.send_text("下辈子")
    await duty.wait_for("没看懂这个时限")
    await duty.send_text("12-05")
    await duty.press(await duty.wait_for("请核对后呈批"), text="📨 呈批")
    await duty.wait_for("已呈")
    await duty.press_raw("dc:prop:1", card.message_id)  # proposed twice (the card lost its buttons)
    assert "已经拟办过了" in ((await duty.wait_for_answer()).text or "")
    ask = await leader.wait_for("请批办")
    assert "12-05 18:00" in ask.text
    await leader.press(ask, text="↩️ 退回拟办")
    await leader.wait_for("已退回")
    back = await duty.wait_for("被 孙区长 退回")
    assert rows(desk, "SELECT state FROM documents") == [("registered",)]
    await duty.press(back, text="✍️ 拟办")
    await duty.wait_for("拟办意见")
    await duty.send_command("/cancel")
    await duty.send_command("/doc", "2026-0099")
    await duty.wait_for("没有编号为 2026-0099")
    await cast.officer.send_command("/doc", "2026-0001")
    await cast.officer.wait_for("没有编号为")  # another person's document reads as absent


async def test_notice_asks_its_classification_and_refuses_confidential_content(desk: Desk, cast: Cast) -> None:
    d = cast.director
    await d.send_command("/notice")
    await d.press(await d.wait_for("密级"), text="绝密")
    assert "不能通过机器人发送" in (await d.wait_for("不得以电子形式传输")).text
    await d.send_text("标题照样发")
    await d.wait_for("没有理解")  # the dialogue ended; nothing was kept
    assert rows(desk, "SELECT count(*) FROM drafts WHERE kind='notice'") == [(0,)]
    await d.send_command("/notice")
    await d.press(await d.wait_for("密级"), text="秘密")
    await d.wait_for("通知标题")
    await d.send_text("关于干部考察的通知")
    await d.wait_for("通知正文")
    await d.send_text("请按时参加")
    await d.press(await d.wait_for("附件"), text="无附件")
    await d.press(await d.wait_for("发给谁"), text="全区各单位")
    await d.press(await d.wait_for("紧急程度"), text="普通")
    await d.press(await d.wait_for("签收"), text="需要签收（8小时内）")
    await d.press(await d.wait_for("请核对后发送"), text="📤 发送")
    await desk.settle()
    assert "【秘密】" in (await cast.head.wait_for("干部考察")).text
    assert rows(desk, "SELECT classification FROM notices") == [("secret",)]
