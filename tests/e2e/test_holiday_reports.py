"""节假日离京报备 end to end: a report, not a request — delivered at once to the configured offices,
shown in /away, no approval buttons; sent after departure it is taken and marked late; bad dates,
a trip with no statutory holiday, overlaps and people who may not report change nothing.

The fake clock starts on Monday 2026-09-28 10:00 Beijing time, before National Day (10-01 to 10-07).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from tests.e2e.test_leave import Office, _desk, _office


@pytest.fixture
async def office() -> AsyncIterator[Office]:
    async with _desk(FakeClock(datetime(2026, 9, 28, 2, 0, tzinfo=UTC))) as desk:
        yield await _office(desk)


async def report_trip(who: SimUser, *, start: str = "09-30", end: str = "10-04", dest: str = "上海",
                      contact: str = "13800000000") -> str:
    """/holiday → … → 报备; the bot's answer."""
    summary = await fill_trip(who, start=start, end=end, dest=dest, contact=contact)
    await who.press(summary, text="🏮 报备")
    return (await who.wait_for("节假日离京报备 #")).text or ""


async def fill_trip(who: SimUser, *, start: str = "09-30", end: str = "10-04", dest: str = "上海",
                    contact: str = "13800000000") -> SimMessage:
    """/holiday up to the summary to check (「报备」 files it)."""
    await who.send_command("/holiday")
    ask = await who.wait_for("哪天出发")
    if start in ("今天", "明天"):
        await who.press(ask, text=start)
    else:
        await who.send_text(start)
    await who.wait_for("哪天返回")
    await who.send_text(end)
    await who.wait_for("去向")
    await who.send_text(dest)
    await who.wait_for("联系方式")
    await who.send_text(contact)
    summary = await who.wait_for("请核对后报备")
    assert "国庆节" in (summary.text or "")
    return summary


def _rows(desk: Desk) -> list[tuple[object, ...]]:
    with desk.sql() as conn:
        return conn.execute("SELECT member_id, destination, contact, late FROM holiday_reports ORDER BY id").fetchall()


async def test_report_delivered_at_once_shown_in_away_and_never_asked_to_approve(office: Office) -> None:
    desk = office.desk
    text = await report_trip(office.congress_vice)
    assert "已送达" in text and "无需审批" in text and "迟报" not in text
    await desk.settle()
    for office_member in (office.director, office.gov_office):  # [leave] holiday_notify
        card = await office_member.wait_for("节假日离京报备 #1")
        assert "钱副主任" in card.text and "上海" in card.text and "13800000000" in card.text
        assert "国庆节" in card.text and not card.buttons
    assert not [m for p in office.p.values() for m in p.inbox if "请假审批" in (m.text or "")]
    assert _rows(desk) == [(10, "上海", "13800000000", 0)]
    await office.duty.send_command("/away", "10-02")
    away = (await office.duty.wait_for("节假日离京报备（1 人）")).text
    assert "钱副主任（区人大常委会）" in away and "联系方式 13800000000" in away and "迟报" not in away
    await office.duty.send_command("/away", "11-02")
    assert "节假日离京" not in (await office.duty.wait_for("无人请假外出")).text


async def test_report_after_departure_is_taken_and_marked_late(office: Office) -> None:
    desk = office.desk
    await desk.clock.set(datetime(2026, 10, 2, 2, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    text = await report_trip(office.cppcc_vice, start="10-01", end="10-05", dest="洛阳")
    assert "记为迟报" in text
    await desk.settle()
    card = await office.director.wait_for("节假日离京报备 #1")
    assert "出发后报备（迟报）" in card.text
    await office.duty.send_command("/away")
    assert "迟报" in (await office.duty.wait_for("节假日离京报备")).text
    assert _rows(desk) == [(12, "洛阳", "13800000000", 1)]


async def test_offered_in_leave_to_district_leaders_only(office: Office) -> None:
    who = office.vice_head
    await who.send_command("/leave")
    kinds = await who.wait_for("请假类别")
    await who.press(kinds, text="🏮 节假日离京报备（报告，不需审批）")
    await who.wait_for("哪天出发")
    await who.send_command("/cancel")
    await who.wait_for("已取消")
    await office.officer.send_command("/leave")
    assert "节假日离京报备" not in " ".join(b for row in (await office.officer.wait_for("请假类别")).buttons
                                          for b in row)
    await office.officer.send_command("/cancel")
    await office.officer.send_command("/holiday")
    await office.officer.wait_for("无权")
    await office.officer.press_raw("l:k:holiday", office.officer.last.message_id)  # type: ignore[union-attr]
    await office.desk.settle()
    assert not [m for m in office.officer.inbox if "哪天出发" in (m.text or "")]
    assert _rows(office.desk) == []


async def test_bad_dates_and_overlaps_change_nothing(office: Office) -> None:
    desk = office.desk
    who = office.congress_vice
    await who.send_command("/holiday")
    await who.wait_for("哪天出发")
    await who.send_text("国庆前后")
    await who.wait_for("没看懂这个日期")
    await who.send_text("11-25")
    await who.wait_for("哪天返回")
    await who.send_text("11-26")  # no statutory holiday in between
    await who.wait_for("不含法定节假日")
    await who.send_text("11-20")
    await who.wait_for("结束不能早于开始")
    await who.send_command("/cancel")
    await who.wait_for("已取消")
    await who.send_command("/holiday")
    await who.wait_for("哪天出发")
    await who.send_text("2025-10-01")
    await who.wait_for("哪天返回")
    await who.send_text("2025-10-03")  # last year's holiday: the trip is over
    await who.wait_for("已经结束")
    await who.send_command("/cancel")
    await who.wait_for("已取消")
    assert _rows(desk) == []
    await report_trip(who)
    await who.send_command("/holiday")
    await who.wait_for("哪天出发")
    await who.send_text("10-03")
    await who.wait_for("哪天返回")
    await who.send_text("10-06")
    assert "#1" in (await who.wait_for("时间重叠")).text
    await who.send_command("/cancel")
    assert len(_rows(desk)) == 1
    # a press of 报备 outside any dialogue does nothing
    await who.press_raw("hr:ok", who.last.message_id)  # type: ignore[union-attr]
    await desk.settle()
    assert len(_rows(desk)) == 1
