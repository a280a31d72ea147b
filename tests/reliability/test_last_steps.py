"""The last step of every dialogue, killed right after its commit: pressed again, nothing is done twice.

The use case committed (and with it the update's handled mark, so Telegram's redelivery is
skipped); the bot died before the dialogue's end was saved and before the person saw an answer.
After the restart the dialogue stands at its last step with its draft, and the person does what
a person does when no answer came: presses the button again. The report's 确认上报 has its own
tests (test_crash_windows.py); these are the other dialogues' 提交 / 发送 / 确认交办.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from bot.services import info as info_svc
from bot.services import leave as leave_svc
from bot.services import notices as notice_svc
from bot.services import supervision as task_svc
from tests.conftest import Cast
from tests.e2e.test_leave import _desk, _office


class Crash(Exception):
    pass


def _count(desk: Desk, sql: str) -> int:
    with desk.sql() as conn:
        return int(conn.execute(sql).fetchone()[0])


async def _press_killed_then_again(desk: Desk, who: SimUser, summary: SimMessage, button: str, module: Any,
                                   name: str, monkeypatch: pytest.MonkeyPatch) -> SimMessage:
    """Press `button`; the use case `module.name` commits, then the bot dies; after the restart
    the person presses again. Returns the bot's answer to the second press."""
    real: Callable[..., Awaitable[Any]] = getattr(module, name)

    async def commit_then_die(*a: Any, **kw: Any) -> Any:
        await real(*a, **kw)
        raise Crash("killed right after the commit")

    monkeypatch.setattr(module, name, commit_then_die)
    await who.press(summary, text=button)
    await desk.settle()
    monkeypatch.setattr(module, name, real)
    await desk.restart()
    await who.press(summary, text=button)
    answer = await who.wait_for(lambda m: "抱歉" not in (m.text or ""))
    await desk.settle()
    return answer


async def test_info_submitted_then_killed_is_not_submitted_twice(desk: Desk, cast: Cast,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    o = cast.officer
    await o.send_command("/info")
    await o.press(await o.wait_for("请选择信息类别"), text="经济运行")
    await o.wait_for("信息标题")
    await o.send_text("建设路街道前三季度经济运行平稳")
    await o.wait_for("信息正文")
    await o.send_text("规上工业增加值同比增长 6.1%。")
    check = await o.wait_for("请核对")
    answer = await _press_killed_then_again(desk, o, check, "✅ 提交", info_svc, "submit", monkeypatch)
    assert _count(desk, "SELECT count(*) FROM info_items") == 1
    assert "#1" in (answer.text or "") and "已" in (answer.text or "")


async def test_notice_sent_then_killed_is_not_sent_twice(desk: Desk, cast: Cast,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    d = cast.director
    await d.send_command("/notice")
    await d.press(await d.wait_for("密级"), text="非密")
    await d.wait_for("通知标题")
    await d.send_text("关于做好冬季安全生产工作的通知")
    await d.wait_for("通知正文")
    await d.send_text("请各单位立即开展隐患排查。")
    await d.press(await d.wait_for("附件"), text="无附件")
    await d.press(await d.wait_for("发给谁"), text="选择单位")
    await d.press(await d.wait_for("接收单位"), data="nd:u:jianshelu")
    await d.press(await d.wait_for("接收单位"), text="完成")
    await d.press(await d.wait_for("紧急程度"), text="普通")
    await d.press(await d.wait_for("需要签收回执吗"), data="nd:rc:def")
    summary = await d.wait_for("请核对后发送")
    await _press_killed_then_again(desk, d, summary, "📤 发送", notice_svc, "send_notice", monkeypatch)
    assert _count(desk, "SELECT count(*) FROM notices") == 1
    assert len([m for m in cast.officer.inbox if "冬季安全生产" in (m.text or "")]) == 1


async def test_task_assigned_then_killed_is_not_assigned_twice(desk: Desk, cast: Cast,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    d = cast.director
    await d.send_command("/task")
    await d.wait_for("事项标题")
    await d.send_text("背街小巷环境整治")
    await d.press(await d.wait_for("事项来源"), text="领导批示")
    await d.wait_for("办理要求")
    await d.send_text("两周内完成整治，报送前后对比照片")
    units = await d.wait_for("承办单位")
    await d.press(units, text="建设路街道")
    await desk.settle()
    await d.press(units, text="✔️ 选好了")
    await d.press(await d.wait_for("责任领导"), text="暂不指定")
    await d.wait_for("办理时限")
    await d.send_text("12-04")
    await d.press(await d.wait_for("催办计划"), text="按默认")
    summary = await d.wait_for("请核对")
    await _press_killed_then_again(desk, d, summary, "✅ 确认交办", task_svc, "assign", monkeypatch)
    assert _count(desk, "SELECT count(*) FROM supervision_tasks") == 1
    assert len([m for m in cast.head.inbox if "新的督办事项" in (m.text or "")]) == 1


async def test_leave_submitted_then_killed_is_not_submitted_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    async with _desk() as desk:
        office = await _office(desk)
        who = office.officer
        await who.send_command("/leave")
        await who.press(await who.wait_for("请假类别"), text="事假")
        await who.press(await who.wait_for("从哪天开始"), text="明天")
        await who.wait_for("到哪天结束")
        await who.send_text("11-25")
        await who.wait_for("去向")
        await who.send_text("北京")
        await who.press(await who.wait_for("是否离开郑州"), text="是，离开郑州")
        await who.wait_for("请假事由")
        await who.send_text("家中有事")
        await who.press(await who.wait_for("代理人"), text="无代理人")
        summary = await who.wait_for("请核对后提交")
        answer = await _press_killed_then_again(desk, who, summary, "✅ 提交", leave_svc, "submit", monkeypatch)
        assert _count(desk, "SELECT count(*) FROM leave_requests") == 1
        assert "已提交" in (answer.text or "") or "已经提交" in (answer.text or ""), answer.text


async def test_progress_reported_then_killed_is_not_reported_twice(desk: Desk, cast: Cast,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress may be reported any number of times, so nothing but the dialogue's own record
    tells a 提交 pressed again from a second report."""
    from tests.e2e.test_supervision import accept, assign

    await assign(desk, cast)
    await accept(desk, cast.head)
    o = cast.officer
    await o.send_command("/progress")
    await o.wait_for("请输入办理进展")
    await o.send_text("已清理垃圾 12 处")
    files = await o.wait_for("附件")
    await _press_killed_then_again(desk, o, files, "📤 提交", task_svc, "report_progress", monkeypatch)
    assert _count(desk, "SELECT count(*) FROM supervision_events WHERE kind='progress'") == 1
    assert len([m for m in cast.director.inbox if "已清理垃圾" in (m.text or "")]) == 1


# --- the newer dialogues: 收文登记, 值班记录, 节假日离京报备 ---------------------------------------


async def test_document_registered_then_killed_is_not_registered_twice(desk: Desk, cast: Cast,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services import documents as doc_svc
    from tests.e2e.test_documents import register

    check = await register(cast.duty, level="机密", confirm=False)
    answer = await _press_killed_then_again(desk, cast.duty, check, "✅ 登记", doc_svc, "register", monkeypatch)
    assert _count(desk, "SELECT count(*) FROM documents") == 1
    assert "没有重复登记" in (answer.text or "")


async def test_duty_log_entry_saved_then_killed_is_not_saved_twice(desk: Desk, cast: Cast,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services import duty_log as log_svc
    from tests.e2e.test_duty_log import fill_entry

    photos = await fill_entry(cast.duty, action=None, pending=None)
    answer = await _press_killed_then_again(desk, cast.duty, photos, "完成", log_svc, "add_entry", monkeypatch)
    assert _count(desk, "SELECT count(*) FROM duty_log WHERE source = '须水街道 张三'") == 1
    assert "没有重复保存" in (answer.text or "")


async def test_holiday_report_filed_then_killed_is_not_filed_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from bot.clock import FakeClock
    from bot.services import holiday as holiday_svc
    from tests.e2e.test_holiday_reports import fill_trip

    async with _desk(FakeClock(datetime(2026, 9, 28, 2, 0, tzinfo=UTC))) as desk:  # before National Day
        office = await _office(desk)
        who = office.congress_vice  # a 县级领导 reports; staff ask for leave
        summary = await fill_trip(who)
        answer = await _press_killed_then_again(desk, who, summary, "🏮 报备", holiday_svc, "submit", monkeypatch)
        assert _count(desk, "SELECT count(*) FROM holiday_reports") == 1
        assert "没有重复提交" in (answer.text or "")
        assert len([m for m in office.director.inbox if "上海" in (m.text or "")]) == 1
