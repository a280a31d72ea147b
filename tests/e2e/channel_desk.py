"""A desk with fake DingTalk, WeCom and Feishu robots and an SMS gateway (bot/emulator/channels.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Robot, Sms
from bot.domain.members import Member
from bot.domain.report_draft import ReportDraft
from bot.emulator.channels import FakeChannels
from bot.harness import Desk
from bot.services.incidents import file_first_report
from storage import channels, members

DING_SECRET = "SEC0123456789abcdef-ding"
FEISHU_SECRET = "feishu-secret-42"
SMS_KEY = "sms-key-7"


def sms_config(fakes: FakeChannels, **kw: Any) -> Sms:
    return dataclasses.replace(Sms(
        url=fakes.sms(SMS_KEY), method="POST", format="json", headers={"X-Sms-Key": "{secret}"},
        body={"mobile": "{phone}", "content": "{text}"}, secret_env="TEST_SMS_SECRET",
        success_field="code", success_value="0"), **kw)


@asynccontextmanager
async def channel_desk(monkeypatch: pytest.MonkeyPatch, *, ding_secret: str = DING_SECRET,
                       robots: tuple[str, ...] = ("dingtalk", "wecom", "feishu"),
                       escalation: Any = None, events: dict[str, tuple[str, ...]] | None = None,
                       **sms: Any) -> AsyncIterator[tuple[Desk, FakeChannels]]:
    clock = FakeClock()
    fakes = FakeChannels(clock=lambda: clock.now().timestamp())
    await fakes.start()
    monkeypatch.setenv("TEST_DING_SECRET", ding_secret)
    monkeypatch.setenv("TEST_FEISHU_SECRET", FEISHU_SECRET)
    monkeypatch.setenv("TEST_SMS_SECRET", SMS_KEY)
    all_robots = {
        "dingtalk": Robot("ding", "dingtalk", fakes.dingtalk("dtoken", DING_SECRET), secret_env="TEST_DING_SECRET"),
        "wecom": Robot("wecom", "wecom", fakes.wecom("wkey"), detail="full"),
        "feishu": Robot("feishu", "feishu", fakes.feishu("fhook", FEISHU_SECRET), secret_env="TEST_FEISHU_SECRET"),
    }
    for kind, wanted in (events or {}).items():
        all_robots[kind] = dataclasses.replace(all_robots[kind], events=wanted)
    overrides: dict[str, Any] = {"robots": tuple(all_robots[k] for k in robots), "sms": sms_config(fakes, **sms)}
    if escalation is not None:
        overrides["escalation"] = escalation
    try:
        async with Desk(clock=clock, config_overrides=overrides) as desk:
            yield desk, fakes
    finally:
        await fakes.stop()


async def member_of(desk: Desk, user: Any) -> Member:
    m = await members.by_telegram_id(desk.db.conn, user.id)
    assert m is not None
    return m


async def give_phone(desk: Desk, user: Any, phone: str) -> None:
    m = await member_of(desk, user)
    async with desk.db.tx() as conn:
        await channels.set_phone(conn, m.id, phone)


async def file_direct(desk: Desk, officer: Any, category: str = "traffic") -> str:
    """The first report filed through the use case (not the dialogue): for when Telegram is down."""
    now = desk.services.now().isoformat()
    draft = ReportDraft(category=category, occurred_at=now, learnt_at=now, place="建设路", description="两车相撞",
                        deaths=0, injured=0, missing=0)
    inc = await file_first_report(desk.services, await member_of(desk, officer), draft, at=desk.services.now())
    return inc.number
