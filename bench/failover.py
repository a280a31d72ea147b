"""6. Failover delivery: the Bot API blackholed (every send dropped without an answer), incidents
filed one after another; how long from each filing to its first robot message and its first SMS
(fake Feishu robot and SMS gateway on 127.0.0.1). The robot mirrors every alert at once; SMS waits
for `[escalation] failover_after` of consecutive Telegram failures, then goes for every alert in
flight. Goal: p99 ≤ 2 s plus that wait.

Incidents come at `rate` a second, under the Feishu bot's documented 100 a minute: faster, and
the robot's own limit, not DutyDesk, would set the figure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from datetime import timedelta

from bench import common
from bot.clock import SystemClock
from bot.config import Escalation, Robot, Sms
from bot.domain.members import Role
from bot.domain.report_draft import ReportDraft
from bot.emulator import BotApiEmulator
from bot.emulator.channels import FakeChannels
from bot.harness import TOKEN, Desk
from bot.services.incidents import file_first_report
from storage import channels, members

SECRET_ENV = "DUTYDESK_BENCH_FEISHU_SECRET"


async def run(n: int = 200, rate: float = 1.6, wait: float = 3.0) -> common.Result:
    with common.tmpdir() as tmp:
        fakes = await FakeChannels().start()
        os.environ[SECRET_ENV] = "bench-feishu-secret"
        emu = BotApiEmulator(token=TOKEN, bot_username="dutydesk_bot", record_transcript=False)
        await emu.start()
        overrides = {
            "robots": (Robot("duty_group", "feishu", fakes.feishu("bench", os.environ[SECRET_ENV]),
                             secret_env=SECRET_ENV),),
            "sms": Sms(url=fakes.sms("bench-key", per_minute=100_000), headers={"X-Sms-Key": "bench-key"},
                       body={"mobile": "{phone}", "content": "{text}"}, success_field="code", success_value="0",
                       per_minute=100_000),
            # Only the failover is measured: no escalation step falls within the run.
            "escalation": dataclasses.replace(Escalation(), incident="", major="",
                                              failover_after=timedelta(seconds=wait)),
        }
        desk = Desk(clock=SystemClock(), db_path=f"{tmp}/bench.sqlite3", emulator=emu, config_overrides=overrides)
        await desk.start()
        try:
            return await _run(desk, fakes, n, rate, wait)
        finally:
            await desk.stop()
            await emu.stop()
            await fakes.stop()


async def _run(desk: Desk, fakes: FakeChannels, n: int, rate: float, wait: float) -> common.Result:
    ids = await common.seed_members(desk, [(700_000, "信息员", common.OFFICER_UNIT, Role.OFFICER),
                                           (700_001, "值班员甲", "office", Role.DUTY),
                                           (700_002, "值班员乙", "office", Role.DUTY)])
    async with desk.db.tx() as conn:
        await channels.set_phone(conn, ids[700_001], "13800000001")
        await channels.set_phone(conn, ids[700_002], "13800000002")
    officer = await members.by_telegram_id(desk.db.conn, 700_000)
    assert officer is not None
    await desk.settle()
    desk.emu.fail_next("drop", count=10**9)  # blackholed: connections closed, nothing answered
    filed: dict[str, float] = {}
    for i in range(n):
        now = desk.services.now()
        draft = ReportDraft(category="traffic", occurred_at=now.isoformat(), learnt_at=now.isoformat(),
                            place=f"测试路{i}号", description="两车相撞", deaths=0, injured=0, missing=0)
        t0 = time.time()
        inc = await file_first_report(desk.services, officer, draft, at=now)
        filed[inc.number] = t0
        await asyncio.sleep(1 / rate)

    def first(kind: str) -> dict[str, float]:
        seen: dict[str, float] = {}
        for a in fakes.received(kind):
            for number in filed:
                if number in a.text and number not in seen:
                    seen[number] = a.at - filed[number]
        return seen

    deadline = time.time() + 60 + wait
    while time.time() < deadline and (len(first("feishu")) < n or len(first("sms")) < n):
        await asyncio.sleep(0.1)
    robot, sms = first("feishu"), first("sms")
    r, s = list(robot.values()), list(sms.values())
    goal = 2.0 + wait
    ok = len(r) == n and len(s) == n and common.pct(r, 99) <= goal and common.pct(s, 99) <= goal
    rows = [
        ("incidents (Bot API blackholed)", n, ""),
        ("failover_after s", wait, ""),
        ("robot delivered", len(r), f"{n}"),
        ("robot p50 ms", common.pct(r, 50) * 1000, ""),
        ("robot p99 ms", common.pct(r, 99) * 1000, common.verdict(bool(r) and common.pct(r, 99) <= goal,
                                                                    f"≤ {goal * 1000:.0f}")),
        ("sms delivered", len(s), f"{n}"),
        ("sms p50 ms", common.pct(s, 50) * 1000, ""),
        ("sms p99 ms", common.pct(s, 99) * 1000, common.verdict(bool(s) and common.pct(s, 99) <= goal,
                                                                  f"≤ {goal * 1000:.0f}")),
        ("SMS sent (two duty officers)", len(fakes.received("sms")), f"{2 * n} (one each, none twice)"),
    ]
    return common.Result("failover", common.table("failover delivery (Bot API blackholed)", rows), ok)
