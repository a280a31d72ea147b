"""Dates around new year (issue #23 item 9): a date not in the current year is shown with its year,
wherever it is shown, and a meeting more than a year ahead is refused like a leave date.

The FakeClock starts on Wednesday 2026-12-30 09:00 Beijing time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.harness import Desk
from tests.conftest import Cast


@pytest.fixture
async def desk() -> AsyncIterator[Desk]:
    async with Desk(clock=FakeClock(datetime(2026, 12, 30, 1, 0, tzinfo=UTC))) as d:
        yield d


async def test_meeting_times_a_year_ahead_refused_next_january_shown_with_its_year(desk: Desk, cast: Cast) -> None:
    d = cast.director
    await d.send_command("/meeting")
    await d.press(await d.wait_for("密级"), text="非密")
    await d.wait_for("会议名称")
    await d.send_text("全区安全生产工作会议")
    await d.wait_for("会议时间？")
    await d.send_text("2028-01-05 09:00")
    assert "一年" in (await d.wait_for("太远")).text
    await d.send_text("９９９９-１２-３１ ９:００")  # fullwidth, year 9999: the same answer, not an error
    await desk.settle()
    assert "太远" in d.last.text and "出了点问题" not in d.last.text  # type: ignore[union-attr]
    await d.send_text("01-05 9:00")  # typed on 30 December: next week
    assert "会议时间：2027-01-05 09:00" in (await d.wait_for("会议地点")).text


async def test_leave_into_next_year_shows_the_year(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/leave")
    await o.press(await o.wait_for("请假类别"), text="事假")
    await o.wait_for("从哪天开始")
    await o.send_text("12-31")
    await o.wait_for("到哪天结束")
    await o.send_text("01-04")
    await o.wait_for("去向")
    await o.send_text("北京")
    city = await o.wait_for("是否离开")
    await o.press_raw("l:c:y", city.message_id)
    await o.wait_for("事由")
    await o.send_text("家中有事")
    await o.press(await o.wait_for("请选择代理人"), text="无代理人")
    summary = await o.wait_for("请核对后提交")
    assert "12-31 至 2027-01-04" in (summary.text or "")


async def test_roster_week_across_new_year_shows_the_year(desk: Desk, cast: Cast) -> None:
    await cast.admin.send_command("/duty")
    week = await cast.admin.wait_for("2027年1月1日")
    assert "12月31日（周四）" in (week.text or "") and "2027年1月1日（周五）" in (week.text or "")
