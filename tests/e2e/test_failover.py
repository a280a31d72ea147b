"""When Telegram fails: a person it cannot reach gets the alert by SMS at once; a Bot API down for
longer than `failover_after` sends the alerts in flight by robot and SMS, and once it answers
again every Telegram message goes once and nothing goes twice on any channel."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.harness import Desk
from storage import incidents, members
from tests.e2e.channel_desk import channel_desk, file_direct, give_phone, member_of
from tests.e2e.flows import file_report


async def _people(desk: Desk) -> dict[str, object]:
    return {
        "officer": await desk.register("officer", "李信息", "jianshelu", "officer"),
        "duty": await desk.register("duty", "陈值班", "office", "duty"),
        "director": await desk.register("director", "刘主任", "office", "director"),
        "admin": await desk.register("admin", "周管理", "office", "admin"),
    }


async def test_a_blocked_person_gets_the_alert_by_sms_and_the_admins_are_told(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=("dingtalk",)) as (desk, fakes):
        people = await _people(desk)
        await give_phone(desk, people["duty"], "13900002222")
        people["duty"].block()  # type: ignore[attr-defined]
        number = await file_report(desk, people["officer"], category="交通事故")  # type: ignore[arg-type]
        await desk.until(lambda: bool(fakes.received("sms")))
        [sms] = fakes.received("sms")
        assert sms.name == "13900002222" and number in sms.text
        told = await people["admin"].wait_for("无法通过 Telegram")  # type: ignore[attr-defined]
        assert "陈值班" in (told.text or "") and number in (told.text or "")
        await people["director"].wait_for(number)  # everyone else had it on Telegram as usual
        inc = await incidents.by_number(desk.db.conn, number)
        assert inc is not None
        assert "failover_sms" in [k for _a, _w, k, _d in await incidents.events(desk.db.conn, inc.id)]


async def test_an_outage_fails_over_then_recovers_without_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    # DingTalk carries every alert anyway; Feishu only what fails over.
    robots, events = ("dingtalk", "feishu"), {"feishu": ("failover",)}
    async with channel_desk(monkeypatch, robots=robots, events=events) as (desk, fakes):
        failover = desk.runtime.deps.failover  # type: ignore[union-attr]
        ding = desk.config.robots[0]  # type: ignore[union-attr]
        assert ding.name == "ding"
        people = await _people(desk)
        await give_phone(desk, people["duty"], "13900002222")
        await give_phone(desk, people["admin"], "13900003333")
        await desk.settle()
        desk.emu.fail_next("502", count=10**9)  # the Bot API blackholed: every send fails
        number = await file_direct(desk, people["officer"])
        await desk.until(lambda: failover.failing_since is not None)
        await desk.clock.advance(seconds=30)
        assert not fakes.received("sms")  # not yet: failing for less than failover_after (60 s)
        await desk.clock.advance(seconds=31)
        await desk.until(lambda: len(fakes.received("sms")) >= 2)
        sms = {a.name: a.text for a in fakes.received("sms")}
        assert number in sms["13900002222"]  # the duty officer's alert, by SMS
        assert "Telegram" in sms["13900003333"] and number not in sms["13900003333"]  # the admins told
        await desk.until(lambda: len(fakes.received("feishu")) == 2 and len(fakes.received("dingtalk")) == 2)
        assert [number in a.text for a in fakes.received("feishu")] == [False, True]  # the outage, then the alert
        assert [number in a.text for a in fakes.received("dingtalk")] == [True, False]  # the alert, then the outage
        await desk.clock.advance(seconds=30)  # still down: nothing is sent again
        assert len(fakes.received("sms")) == 2

        desk.emu._forced.clear()  # Telegram answers again
        await people["duty"].wait_for(number, timeout=30)  # type: ignore[attr-defined]
        await people["director"].wait_for(number, timeout=30)  # type: ignore[attr-defined]
        await desk.settle(timeout=60)
        assert failover.failing_since is None
        for who in ("duty", "director"):
            alerts = [m for m in desk.emu.messages(people[who].id) if number in (m.text or "")]  # type: ignore[attr-defined]
            assert len(alerts) == 1, who
        for kind in ("sms", "dingtalk", "feishu"):
            seen = Counter((a.name, a.text) for a in fakes.received(kind))
            assert max(seen.values()) == 1, (kind, seen)
        assert len(fakes.received("sms")) == 2


async def test_an_outage_sends_nothing_to_a_member_deactivated_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=("dingtalk",)) as (desk, fakes):
        failover = desk.runtime.deps.failover  # type: ignore[union-attr]
        people = await _people(desk)
        duty2 = await desk.register("duty2", "王值班", "office", "duty")
        await give_phone(desk, people["duty"], "13900002222")
        await give_phone(desk, duty2, "13900004444")
        await desk.settle()
        desk.emu.fail_next("502", count=10**9)
        number = await file_direct(desk, people["officer"])
        await desk.until(lambda: failover.failing_since is not None)
        gone = await member_of(desk, people["duty"])
        async with desk.db.tx() as conn:  # an admin deactivates 陈值班 while Telegram is down
            await members.set_active(conn, gone.id, False, desk.clock.now())
        await desk.clock.advance(seconds=61)
        await desk.until(lambda: bool(fakes.received("sms")))
        await desk.settle()
        sms = {a.name: a.text for a in fakes.received("sms")}
        assert number in sms["13900004444"]  # 王值班 is still on duty: the failover went out
        assert "13900002222" not in sms


async def test_a_blocked_person_is_moved_once_across_escalation_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 2 fails on Telegram again for the same person: the SMS already covers them, so the admins
    are not told a second time (nor falsely that no phone is registered) and no robot post is added."""
    async with channel_desk(monkeypatch, robots=("dingtalk",), events={"dingtalk": ("failover",)}) as (desk, fakes):
        people = await _people(desk)
        await give_phone(desk, people["duty"], "13900002222")
        people["duty"].block()  # type: ignore[attr-defined]
        await file_direct(desk, people["officer"])
        await desk.until(lambda: bool(fakes.received("sms")))
        await people["admin"].wait_for("无法通过 Telegram")  # type: ignore[attr-defined]
        await desk.settle()
        robots_before = len(fakes.received("dingtalk"))
        await desk.advance(minutes=3, seconds=1)  # step 2: the duty officers on Telegram again → 403 again
        await desk.settle()
        told = [m.text or "" for m in desk.emu.messages(people["admin"].id)  # type: ignore[attr-defined]
                if "无法通过 Telegram" in (m.text or "")]
        assert len(told) == 1 and "未登记手机号" not in told[0]
        assert len(fakes.received("dingtalk")) == robots_before
        # Step 2's own SMS goes (its policy names SMS); the failover's went once.
        assert sum("Telegram暂时无法送达" in a.text for a in fakes.received("sms")) == 1
