"""Top leaders' leave end to end: the heads of the 人大, 政府 and 政协 bodies report in writing to
the party secretary (archived by the office, approved by nobody — never by the office director);
the party secretary's own absence is recorded and reported to the office and a configured upstream
chat; a chain where the requester would approve their own request goes where its step says.

The fake clock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot.config import LeavePolicy
from bot.domain.leave_chains import LeaveChain, LeaveStep
from bot.harness import Desk
from storage import leave
from tests.e2e.test_leave import POSTS, Office, _office, ask_leave

UPSTREAM_CHAT = 77_001  # e.g. the city office's duty desk, not a member of the bot


def _policy(**kw: object) -> LeavePolicy:
    base = LeavePolicy()
    chains = tuple(dataclasses.replace(c, notify_chats=(UPSTREAM_CHAT,)) if c.name == "party_secretary" else c
                   for c in base.chains)
    return dataclasses.replace(base, posts=POSTS, chains=chains, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def office() -> AsyncIterator[Office]:
    async with Desk(config_overrides={"leave": _policy()}) as desk:
        desk.emu.user(UPSTREAM_CHAT, "市委办值班室", started=True)
        yield await _office(desk)


def _asked(office: Office) -> list[str]:
    """Every approval card anyone received."""
    return [m.text or "" for p in office.p.values() for m in p.inbox if "请假审批" in (m.text or "")]


@pytest.mark.parametrize(("head", "body"), [
    ("district_head", "区政府"), ("congress_head", "区人大常委会"), ("cppcc_head", "区政协")])
async def test_head_of_a_body_reports_to_the_party_secretary(office: Office, head: str, body: str) -> None:
    desk = office.desk
    who = office.p[head]
    text = await ask_leave(who, end="11-25", dest="北京")
    assert "外出报告 #1" in text and "无需审批" in text
    await desk.settle()
    report = await office.secretary.wait_for("请假报告 #1")
    assert who.first_name in report.text and "北京" in report.text and body in report.text
    archived = await office.director.wait_for("请假备案 #1：书面报告")
    assert who.first_name in archived.text
    await office.duty.wait_for("请假备案 #1")
    assert not _asked(office)  # nobody — least of all the office director — is asked to approve
    req = await leave.get(desk.db.conn, 1)
    assert req is not None and req.reported and req.status.value == "approved" and req.chain == "body_heads"
    assert "approved" not in [e[2] for e in await leave.events(desk.db.conn, 1)]
    await who.send_command("/leave_history")
    assert "已报告" in (await who.wait_for("请假记录")).text
    await office.duty.send_command("/away", "11-24")
    assert who.first_name in (await office.duty.wait_for("请假外出")).text
    # back on the return day, as any leave
    await desk.advance(hours=71)  # Thursday 09:00
    await who.wait_for("返岗日")


async def test_party_secretary_absence_is_recorded_and_reported_upstream(office: Office) -> None:
    desk = office.desk
    text = await ask_leave(office.secretary, end="11-24", dest="省委党校", leaves_city=False, reason="学习")
    assert "外出报告 #1" in text
    await desk.settle()
    await office.director.wait_for("请假备案 #1：书面报告")
    await office.duty.wait_for("请假备案 #1")
    upstream = desk.emu.user(UPSTREAM_CHAT, "市委办值班室")
    assert "吴书记" in (await upstream.wait_for("请假报告 #1")).text
    assert not _asked(office)
    assert not [m for m in office.secretary.inbox if "请假报告" in (m.text or "")]  # not reported to himself
    # withdrawn before it begins: the office and the upstream chat hear it is off
    await office.secretary.send_command("/leave_cancel")
    await office.secretary.wait_for("已撤回")
    await desk.settle()
    await office.director.wait_for("已由 吴书记 撤回")
    await upstream.wait_for("撤回")


async def test_own_step_goes_where_the_step_says_never_to_the_fallback() -> None:
    """With the post chains listed last (or a head not entered under [[leave.posts]] for them to
    match), the 区长 asking as a 区政府 leader would approve his own request: the step's `on_self`
    sends it on as a report; the fallback (区委办公室审批) is never asked."""
    base = _policy()
    reordered = (tuple(c for c in base.chains if c.mode != "report")
                 + tuple(c for c in base.chains if c.mode == "report"))
    async with Desk(config_overrides={"leave": dataclasses.replace(base, chains=reordered)}) as desk:
        office = await _office(desk)
        text = await ask_leave(office.district_head, end="11-24")
        assert "外出报告 #1" in text
        await desk.settle()
        await office.secretary.wait_for("请假报告 #1")
        assert not _asked(office)
        kinds = [e[2] for e in await leave.events(desk.db.conn, 1)]
        assert "self_rerouted" in kinds and "no_approver" not in kinds
        await office.district_head.send_command("/leave_history")
        assert "改按" in (await office.district_head.wait_for("请假记录")).text


async def test_own_only_step_without_a_way_on_is_refused_and_nothing_is_stored() -> None:
    base = _policy()
    lonely = LeaveChain(name="zhengfu", label="区政府领导", roles=("leader",), units=("zhengfu",),
                        steps=(LeaveStep("区长审批", ("post:district_head",)),))
    chains = (lonely,) + tuple(c for c in base.chains if c.name not in ("zhengfu", "body_heads"))
    chains = tuple(dataclasses.replace(c, steps=tuple(dataclasses.replace(st, on_self="") for st in c.steps))
                   for c in chains)
    async with Desk(config_overrides={"leave": dataclasses.replace(base, chains=chains)}) as desk:
        office = await _office(desk)
        who = office.district_head
        await who.send_command("/leave")  # told at once, before any question
        refused = await who.wait_for("您本人审批")
        assert "未提交" in refused.text and not refused.buttons
        await who.send_text("事假")
        await who.wait_for("没有理解")  # no dialogue was opened
        await desk.settle()
        assert await leave.for_member(desk.db.conn, 4) == []
        assert not _asked(office)
        # his vice still asks him, as ever
        await ask_leave(office.vice_head, end="11-24")
        await desk.settle()
        await office.district_head.wait_for("请假审批 #1")
