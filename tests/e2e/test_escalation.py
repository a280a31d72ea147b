"""Escalation until acknowledged: each step of the shipped policy fires once on the fake clock, and
已收到 stops it for everyone (also across a restart of the bot on the same database)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.escalation import KIND
from bot.domain.members import Role
from bot.harness import Desk
from storage import channels, deadlines, incidents, members
from tests.conftest import Cast
from tests.e2e.channel_desk import channel_desk, give_phone, member_of
from tests.e2e.flows import file_report

ESCALATED = "无人确认收到"


async def _events(desk: Desk, number: str) -> list[tuple[str, dict[str, object]]]:
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    return [(kind, d) for _at, _who, kind, d in await incidents.events(desk.db.conn, inc.id)]


def _count(desk: Desk, who: object, text: str) -> int:
    return sum(text in (m.text or "") for m in desk.emu.messages(who.id))  # type: ignore[attr-defined]


async def test_each_step_fires_once_then_ack_stops_it(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer, category="交通事故")
    alert = await cast.duty.wait_for(number)
    steps = [d["n"] for kind, d in await _events(desk, number) if kind == "escalated"]
    assert steps == [1]  # the alert itself: the duty officers on shift (nobody rostered: every duty officer)

    await desk.advance(minutes=2)
    assert _count(desk, cast.duty, ESCALATED) == 0  # not yet: the first step waits 3 minutes
    await desk.advance(minutes=1, seconds=1)
    # Step 2: every duty officer and the directors again, with the 已收到 button.
    reminder = await cast.duty.wait_for(ESCALATED)
    await cast.director.wait_for(ESCALATED)
    assert number in (reminder.text or "") and "✅ 已收到" in str(reminder.reply_markup)
    assert _count(desk, cast.leader, ESCALATED) == 0
    assert [d["n"] for kind, d in await _events(desk, number) if kind == "escalated"] == [1, 2]

    await cast.duty.press(alert, text="✅ 已收到")
    await cast.duty.wait_for_answer()
    await desk.settle()
    events = await _events(desk, number)
    stopped = [d for kind, d in events if kind == "escalation_stopped"]
    assert stopped == [{"name": "陈值班", "n": 2, "round": 1}]
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    later = await deadlines.due(desk.db.conn, desk.clock.now() + timedelta(days=1))
    assert not [d for d in later if d.kind == KIND and d.ref_id == inc.id]  # dropped in the acknowledgement's commit

    await desk.advance(minutes=60)
    assert _count(desk, cast.duty, ESCALATED) == 1 and _count(desk, cast.director, ESCALATED) == 1
    assert [d["n"] for kind, d in await _events(desk, number) if kind == "escalated"] == [1, 2]
    # The timeline of /incident says who stopped it at which step.
    await cast.duty.send_command("/incident", number)
    detail = await cast.duty.wait_for("第2步")
    assert "陈值班 确认收到，升级在第2步" in (detail.text or "")


async def test_steps_survive_a_restart_and_fire_once(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer, category="交通事故")
    await cast.duty.wait_for(number)
    await desk.advance(minutes=3, seconds=1)
    await cast.duty.wait_for(ESCALATED)
    await desk.stop_bot()  # as after a kill -9: the planted step is a row in the database
    await desk.clock.advance(minutes=8)  # due while down
    await desk.start_bot()
    await desk.settle()
    steps = [d["n"] for kind, d in await _events(desk, number) if kind == "escalated"]
    assert steps == [1, 2, 3]  # step 3 fired once, after the restart
    await desk.restart()
    await desk.settle()
    assert [d["n"] for kind, d in await _events(desk, number) if kind == "escalated"] == [1, 2, 3]
    # The policy repeats once: 10 minutes after step 3 it starts again from the first step.
    await desk.advance(minutes=10, seconds=1)
    assert [(d["n"], d["round"]) for kind, d in await _events(desk, number) if kind == "escalated"][-1] == (1, 2)


async def test_a_major_incident_takes_the_shorter_policy(desk: Desk, cast: Cast) -> None:
    number = await file_report(desk, cast.officer, category="火灾")  # a major category
    await cast.leader.wait_for(number)
    await desk.advance(minutes=1, seconds=1)
    await cast.duty.wait_for(ESCALATED)
    assert [d["n"] for kind, d in await _events(desk, number) if kind == "escalated"] == [1, 2]


async def test_an_unforwarded_stage_escalates_when_a_policy_is_named() -> None:
    """`[escalation] forward`: the 10-minute clock to the city ran out — the same mechanism, stopped
    by 已上报市委 on that clock; without the key (the default) the breach is told once, as before."""
    import dataclasses

    from bot.config import Escalation

    async with Desk(config_overrides={"escalation": dataclasses.replace(Escalation(), forward="incident")}) as desk:
        officer = await desk.register("officer", "李信息", "jianshelu", "officer")
        duty = await desk.register("duty", "陈值班", "office", "duty")
        director = await desk.register("director", "刘主任", "office", "director")
        number = await file_report(desk, officer, category="交通事故")
        alert = await duty.wait_for(number)
        await duty.press(alert, text="✅ 已收到")
        await duty.wait_for_answer()
        await desk.advance(minutes=10, seconds=1)
        first = await duty.wait_for("未上报")
        assert "📤 已上报市委" in str(first.reply_markup)
        await desk.advance(minutes=3)
        await director.wait_for("未上报")
        kinds = [kind for kind, _d in await _events(desk, number)]
        assert kinds.count("unforwarded_escalated") == 2
        reminder = [m for m in desk.emu.messages(director.id) if "未上报" in (m.text or "")][-1]
        await director.press(reminder, text="📤 已上报市委")
        await director.wait_for_answer()
        await desk.advance(minutes=30)
        events = await _events(desk, number)
        assert [kind for kind, _d in events].count("unforwarded_escalated") == 2
        assert [d["n"] for kind, d in events if kind == "forward_escalation_stopped"][-1] == 2  # said as 上报市委


async def _sms_rows(desk: Desk, number: str) -> list[tuple[str, str, int, str | None]]:
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None
    return [(r.tag, r.status, r.attempts, r.error) for r in await channels.for_ref(desk.db.conn, "incident", inc.id)
            if r.channel == channels.SMS]


async def test_ack_cancels_a_step_sms_held_by_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step's SMS waiting on backoff (the gateway answered 502) is cancelled in 已收到's commit: when the
    gateway recovers, nothing arrives; the row stays, marked."""
    async with channel_desk(monkeypatch, robots=()) as (desk, fakes):
        officer = await desk.register("officer", "李信息", "jianshelu", "officer")
        duty = await desk.register("duty", "陈值班", "office", "duty")
        duty2 = await desk.register("duty2", "王值班", "office", "duty")
        await give_phone(desk, duty, "13900002222")
        number = await file_report(desk, officer, category="交通事故")
        await duty.wait_for(number)
        alert = await duty2.wait_for(number)
        fakes.fail_next = 10**9  # the SMS gateway has a bad minute
        await desk.advance(minutes=3, seconds=1)  # step 2: SMS to the duty officers on shift
        await desk.settle()
        [(tag, status, attempts, _e)] = await _sms_rows(desk, number)
        assert tag.startswith("escalation:ack:") and status == "pending" and attempts >= 1  # held by backoff

        await duty2.press(alert, text="✅ 已收到")
        await duty2.wait_for_answer()
        fakes.fail_next = 0  # the gateway is back
        await desk.advance(minutes=10)
        await desk.settle()
        assert not fakes.received("sms")
        [(_t, status, _a, error)] = await _sms_rows(desk, number)
        assert status == "cancelled" and (error or "").startswith("cancelled:")


@pytest.mark.parametrize("change", ["deactivated", "no longer office"])
async def test_a_held_sms_is_not_sent_to_one_no_longer_entitled(monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    """The channel sender checks the recipient again when a held SMS would go: deactivated, or no
    longer allowed to see the incident (here: no longer a duty officer), it is cancelled with the reason."""
    async with channel_desk(monkeypatch, robots=()) as (desk, fakes):
        officer = await desk.register("officer", "李信息", "jianshelu", "officer")
        duty = await desk.register("duty", "陈值班", "office", "duty")
        await give_phone(desk, duty, "13900002222")
        number = await file_report(desk, officer, category="交通事故")
        await duty.wait_for(number)
        fakes.fail_next = 10**9
        await desk.advance(minutes=3, seconds=1)  # step 2's SMS, held by the gateway's 502s
        await desk.settle()
        assert [st for _t, st, _a, _e in await _sms_rows(desk, number)] == ["pending"]
        member = await member_of(desk, duty)
        async with desk.db.tx() as conn:
            if change == "deactivated":
                await members.set_active(conn, member.id, False, desk.clock.now())
            else:
                await members.set_roles(conn, member.id, [Role.OFFICER])  # an office clerk: no district reach
        fakes.fail_next = 0
        await desk.advance(minutes=5)
        await desk.settle()
        assert not fakes.received("sms")
        [(_t, status, _a, error)] = await _sms_rows(desk, number)
        assert status == "cancelled"
        assert ("no longer active" if change == "deactivated" else "may no longer see") in (error or "")


async def test_forwarding_cancels_an_unforwarded_step_sms_held_by_the_gateway(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from bot.config import Escalation

    async with channel_desk(monkeypatch, robots=(), escalation=dataclasses.replace(Escalation(), forward="incident")) \
            as (desk, fakes):
        officer = await desk.register("officer", "李信息", "jianshelu", "officer")
        duty = await desk.register("duty", "陈值班", "office", "duty")
        director = await desk.register("director", "刘主任", "office", "director")
        await give_phone(desk, duty, "13900002222")
        number = await file_report(desk, officer, category="交通事故")
        alert = await duty.wait_for(number)
        await duty.press(alert, text="✅ 已收到")
        await duty.wait_for_answer()
        await desk.advance(minutes=10, seconds=1)
        await duty.wait_for("未上报")
        fakes.fail_next = 10**9
        await desk.advance(minutes=3)  # the forward policy's step 2: SMS to the duty officers, held
        await desk.settle()
        assert [(t.split(":")[1], st) for t, st, _a, _e in await _sms_rows(desk, number)] == [("forward", "pending")]
        reminder = [m for m in desk.emu.messages(director.id) if "未上报" in (m.text or "")][-1]
        await director.press(reminder, text="📤 已上报市委")
        await director.wait_for_answer()
        fakes.fail_next = 0
        await desk.advance(minutes=10)
        await desk.settle()
        assert not fakes.received("sms")
        assert [st for _t, st, _a, _e in await _sms_rows(desk, number)] == ["cancelled"]
