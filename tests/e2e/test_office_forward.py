"""The office's own 10-minute clock to the city (issue #24 §3): at the target without 已上报市委 the
directors and the leader on duty are told, the incident records 超时上报 and by how much, and each
later stage the unit sends starts a clock of its own."""

from __future__ import annotations

from bot.domain.accountability import MarkKind
from bot.emulator import SimUser
from bot.emulator.models import SimMessage
from bot.harness import Desk
from storage import incident_forwards, incident_marks, incidents
from tests.conftest import Cast
from tests.e2e.flows import file_report


def count(user: SimUser, needle: str) -> int:
    return sum(1 for m in user.inbox if needle in (m.text or ""))


def with_button(user: SimUser, label: str) -> SimMessage:
    """The person's latest message carrying the button `label`."""
    return next(m for m in reversed(user.inbox) if label in [t for t, _ in m.buttons])


async def test_the_forward_clock_runs_out_for_the_first_report_and_for_a_later_stage(desk: Desk, cast: Cast) -> None:
    await cast.admin.send_command("/duty", "set 今天 带班 孙区长")
    await cast.admin.wait_for("已更新")
    number = await file_report(desk, cast.officer, category="其他")  # not major: the leader gets no alert
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    await desk.advance(minutes=8, seconds=5)
    await cast.duty.wait_for("尚未上报市委")
    assert count(cast.director, "超时上报") == 0
    await desk.advance(minutes=2)
    breach = await cast.director.wait_for("超时上报")
    assert number in breach.text and "首报于 11-23 10:00 收到" in breach.text and "10分钟 内" in breach.text
    assert "超时上报" in (await cast.leader.wait_for(number)).text  # 带班领导
    assert count(cast.officer, "超时上报") == 0 and count(cast.head, "超时上报") == 0
    marks = await incident_marks.of(desk.db.conn, inc.id)
    assert [(m.kind, m.stage, m.minutes) for m in marks] == [(MarkKind.FORWARD_LATE, "first", None)]
    await cast.director.send_command("/incidents")
    assert "⏱首报未上报市委，已超时" in (await cast.director.wait_for("未结事件")).text

    await desk.advance(minutes=2)
    await cast.director.press(breach, text="📤 已上报市委")
    answer = (await cast.director.wait_for_answer()).text
    assert "用时 12分钟5秒" in answer and "超时 2分钟5秒" in answer
    marks = await incident_marks.of(desk.db.conn, inc.id)
    assert [(m.kind, m.stage, m.minutes) for m in marks] == [(MarkKind.FORWARD_LATE, "first", 3)]
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None and inc.forwarded_at == desk.clock.now()  # the alert shows it too
    await cast.director.send_command("/incidents")
    assert "⏱首报超时上报2分钟5秒" in (await cast.director.wait_for("未结事件")).text

    # A later stage: the written report starts a clock of its own, its button for the office only.
    o = cast.officer
    await o.press(with_button(o, "📝 书面报告"), text="📝 书面报告")
    await o.press(await o.wait_for("书面报告（事件"), text="✅ 确认无误")
    await o.wait_for("书面报告已报送")
    await desk.settle()
    stage_msg = await cast.director.wait_for(f"事件 {number}：书面报告")
    assert [t for t, _ in stage_msg.buttons] == ["📤 已上报市委"]
    head_copy = await cast.head.wait_for(f"事件 {number}：书面报告")
    assert head_copy.buttons == []
    await desk.advance(minutes=8, seconds=5)
    assert "【书面报告】" in (await cast.duty.wait_for("尚未上报市委")).text
    await desk.advance(minutes=2)
    second = await cast.director.wait_for("超时上报")
    assert "书面报告于" in second.text
    await cast.leader.wait_for("书面报告于")
    await cast.director.press(stage_msg, text="📤 已上报市委")
    assert "超时" in (await cast.director.wait_for_answer()).text
    clocks = await incident_forwards.of(desk.db.conn, inc.id)
    assert [(c.stage, c.forwarded_at is not None, c.breached_at is not None) for c in clocks] == [
        ("first", True, True), ("written", True, True)]
    # Pressed again (or by someone else): forwarded once, who and when said.
    duty_copy = next(m for m in cast.duty.inbox if f"事件 {number}：书面报告" in (m.text or ""))
    await cast.duty.press(duty_copy, text="📤 已上报市委")
    again = await cast.duty.wait_for_answer()
    assert "刘主任" in again.text and again.show_alert
    # Each breach was told once.
    await desk.advance(minutes=30)
    assert count(cast.director, "⏱ 超时上报") == 2

    # A follow-up forwarded within the target: a clock, no finding.
    await o.press(with_button(o, "➕ 续报进展"), text="➕ 续报进展")
    await o.wait_for("最新情况")
    await o.send_text("交通已恢复")
    await o.press(await o.wait_for("伤亡有变化吗"), text="无变化")
    await o.wait_for("续报已报送")
    await desk.settle()
    followup = await cast.duty.wait_for("交通已恢复")
    await desk.advance(minutes=3)
    await cast.duty.press(followup, text="📤 已上报市委")
    assert "用时 3分钟" in (await cast.duty.wait_for_answer()).text
    await desk.advance(minutes=20)
    marks = await incident_marks.of(desk.db.conn, inc.id)
    assert [(m.kind, m.stage) for m in marks if m.kind is MarkKind.FORWARD_LATE] == [
        (MarkKind.FORWARD_LATE, "first"), (MarkKind.FORWARD_LATE, "written")]
    await cast.director.send_command("/incident", number)
    detail = (await cast.director.wait_for("时间线")).text
    for line in ("首报：刘主任 上报，用时 12分钟5秒，超时 2分钟5秒", "书面报告：刘主任 上报",
                 "续报：陈值班 上报，用时 3分钟", "超时上报·首报 3分钟"):
        assert line in detail, line
