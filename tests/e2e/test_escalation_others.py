"""The same mechanism for other unanswered things, when the config names a policy: an urgent notice
unsigned at its deadline, a leave approver silent past the last reminder. Stopped by the answer."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.config import Escalation, EscalationPolicy, EscalationStep
from bot.domain.leave import Decision, LeaveDraft
from bot.domain.notices import Audience, AudienceSpec
from bot.services import leave as leave_svc
from bot.services import notices as notice_svc
from tests.e2e.channel_desk import channel_desk, give_phone, member_of

CHASE = EscalationPolicy("chase", (
    EscalationStep(("waiting", "sms:waiting"), timedelta(minutes=5)),
    EscalationStep(("role:unit_head@unit", "robot:*"), timedelta(minutes=5)),
))


def _escalation(**keys: str) -> Escalation:
    return dataclasses.replace(Escalation(), policies=(*Escalation().policies, CHASE), **keys)


async def test_an_urgent_notice_unsigned_at_its_deadline_escalates_until_signed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=("wecom",), escalation=_escalation(notice_urgent="chase")) as (
            desk, fakes):
        director = await desk.register("director", "刘主任", "office", "director")
        late = await desk.register("late", "李信息", "jianshelu", "officer")
        prompt = await desk.register("prompt", "赵信息", "jianshelu", "officer")
        head = await desk.register("head", "王主任", "jianshelu", "unit_head")
        await give_phone(desk, late, "13800005555")
        await notice_svc.send_notice(desk.services, await member_of(desk, director), notice_svc.NoticeDraft(
            title="防汛紧急通知", body="今晚有暴雨，请立即部署。", urgent=True,
            audience=AudienceSpec(Audience.UNITS, units=("jianshelu",))))
        await desk.settle()
        notice = await prompt.wait_for("防汛紧急通知")
        await prompt.press(notice, text="✅ 已阅/收到")
        await prompt.wait_for_answer()
        await head.press(await head.wait_for("防汛紧急通知"), text="✅ 已阅/收到")
        await head.wait_for_answer()

        await desk.advance(minutes=30, seconds=1)  # the urgent receipt deadline: step 1 to whoever has not signed
        chased = await late.wait_for("已过签收时限")
        assert "李信息" in (chased.text or "") and "已阅/收到" in str(chased.reply_markup)
        assert not [m for m in desk.emu.messages(prompt.id) if "已过签收时限" in (m.text or "")]
        [sms] = fakes.received("sms")
        assert sms.name == "13800005555" and "防汛紧急通知" in sms.text
        assert not fakes.received("wecom")

        await desk.advance(minutes=5)  # step 2: the unit's head (no button: theirs is signed) and the duty group
        told = await head.wait_for("已过签收时限")
        assert told.reply_markup is None or "收到" not in str(told.reply_markup)
        [group] = fakes.received("wecom")
        assert "李信息" in group.text and "赵信息" not in group.text

        await late.press(chased, text="✅ 已阅/收到")  # the last signature stops it
        await late.wait_for_answer()
        await desk.advance(minutes=30)
        # (the chase itself now reads as the signed notice: 已阅/收到 on it signs and edits it)
        rows = await desk.db.conn.execute_fetchall(
            "SELECT chat_id FROM outbox WHERE ref_kind='notice' AND tag='escalation' "
            "AND payload LIKE '%已过签收时限%' ORDER BY id")
        assert [r[0] for r in rows] == [late.id, head.id]  # one step each, nothing after the last signature
        assert len(fakes.received("sms")) == 1 and len(fakes.received("wecom")) == 1


async def test_a_silent_leave_approver_escalates_until_the_step_is_decided(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=(), escalation=_escalation(leave="chase")) as (desk, fakes):
        officer = await desk.register("officer", "李信息", "jianshelu", "officer")
        head = await desk.register("head", "王主任", "jianshelu", "unit_head")
        await give_phone(desk, head, "13800006666")
        start = desk.services.now() + timedelta(days=3)
        draft = LeaveDraft(kind="personal", start_at=start.isoformat(), end_at=(start + timedelta(days=1)).isoformat(),
                           destination="郑州", leaves_city=False, reason="家事", standin_chosen=True)
        req = await leave_svc.submit(desk.services, await member_of(desk, officer), draft, at=desk.services.now())
        await desk.settle()
        policy = desk.services.config.leave
        # Every reminder (remind_after apart), then one more interval: the policy's first step.
        for _ in range(policy.remind_times + 1):
            await desk.advance(policy.remind_after + timedelta(seconds=1))
        chased = await head.wait_for("已等待审批")
        assert f"#{req.id}" in (chased.text or "") and "批准" in str(chased.reply_markup)
        [sms] = fakes.received("sms")
        assert sms.name == "13800006666"

        await leave_svc.decide(desk.services, await member_of(desk, head), req.id, Decision.APPROVED, None)
        await desk.advance(hours=2)
        assert len([m for m in desk.emu.messages(head.id) if "已等待审批" in (m.text or "")]) == 1
        assert len(fakes.received("sms")) == 1


async def test_the_last_signature_cancels_a_chase_sms_held_by_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step's SMS waiting on backoff (the gateway answered 502) is cancelled in the last signature's
    commit: when the gateway recovers, nothing arrives."""
    async with channel_desk(monkeypatch, robots=(), escalation=_escalation(notice_urgent="chase")) as (desk, fakes):
        director = await desk.register("director", "刘主任", "office", "director")
        late = await desk.register("late", "李信息", "jianshelu", "officer")
        await give_phone(desk, late, "13800005555")
        await notice_svc.send_notice(desk.services, await member_of(desk, director), notice_svc.NoticeDraft(
            title="防汛紧急通知", body="今晚有暴雨，请立即部署。", urgent=True,
            audience=AudienceSpec(Audience.MEMBERS, member_ids=((await member_of(desk, late)).id,))))
        await desk.settle()
        notice = await late.wait_for("防汛紧急通知")
        fakes.fail_next = 10**9  # the SMS gateway has a bad hour
        await desk.advance(minutes=30, seconds=1)  # the receipt deadline: step 1, an SMS to whoever has not signed
        await desk.settle()
        rows = await desk.db.conn.execute_fetchall(
            "SELECT status FROM channel_outbox WHERE ref_kind='notice' AND channel='sms'")
        assert [r[0] for r in rows] == ["pending"]  # held by backoff
        await late.press(notice, text="✅ 已阅/收到")  # the last signature
        await late.wait_for_answer()
        fakes.fail_next = 0
        await desk.advance(minutes=30)
        await desk.settle()
        assert not fakes.received("sms")
        rows = await desk.db.conn.execute_fetchall(
            "SELECT status FROM channel_outbox WHERE ref_kind='notice' AND channel='sms'")
        assert [r[0] for r in rows] == ["cancelled"]
