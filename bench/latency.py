"""1. Alert latency: from the 确认上报 press entering the emulator to the last alert request
for that incident reaching it (4 recipients: two duty officers, a director, the unit head).

Before each press the bench pauses `gap` seconds (default 0.3), as reports from people do;
`--gap 0` files them back to back, so each alert also competes with the next report's dialogue
replies in the bot's event loop.

The bot is `dutydesk run` in its own process (bench/botproc.py); the emulator, the officer and
the recipients stay in the bench process, which takes both timestamps. Which recipients are
active is switched through the bench's own database connection while the bot runs (WAL)."""

from __future__ import annotations

import asyncio
import re

from bench import botproc, common
from bench.flows import confirm, report_until_summary
from bot.domain.members import Role
from bot.emulator import BotApiEmulator
from storage.db import Database

SETS = 50  # recipients rotate, so every alert meets a fresh per-chat budget, as real reports do
OFFICER_TG = 900_001  # files every report; also the warm-up user of the bot process
FIRST_RECIPIENT_TG = 910_001


async def run(n: int = 1000, gap: float = 0.3) -> common.Result:
    with common.tmpdir() as tmp:
        desk = await common.real_desk(tmp)
        try:
            people, sets = _people()
            await common.seed_members(desk, people)
            await desk.stop_bot()  # the bot under test is the `dutydesk run` process below
            async with botproc.dutydesk(desk.db_path, desk.emu, warmup=OFFICER_TG) as bot, \
                    Database(desk.db_path) as db:
                with botproc.CpuWindow(bot) as cpu:
                    latencies = await _measure(desk.emu, db, sets, n, gap)
            return _result(latencies, n, gap, cpu)
        finally:
            await common.stop_desk(desk)


def _people() -> tuple[list[tuple[int, str, str, Role]], list[list[int]]]:
    """The officer and SETS sets of 4 recipients (two duty officers, a director, the unit head)."""
    people = [(OFFICER_TG, "李信息", common.OFFICER_UNIT, Role.OFFICER)]
    sets: list[list[int]] = []
    tg = FIRST_RECIPIENT_TG - 1
    for _k in range(SETS):
        chats = []
        for role, unit in ((Role.DUTY, "office"), (Role.DUTY, "office"), (Role.DIRECTOR, "office"),
                           (Role.UNIT_HEAD, common.OFFICER_UNIT)):
            tg += 1
            people.append((tg, f"收件人{tg}", unit, role))
            chats.append(tg)
        sets.append(chats)
    return people, sets


async def _activate(db: Database, chats: list[int]) -> None:
    """Only `chats` among the recipients are active, so the next alert goes to them alone."""
    async with db.tx() as conn:
        await conn.execute("UPDATE members SET active=0 WHERE telegram_id >= ?", (FIRST_RECIPIENT_TG,))
        marks = ",".join("?" * len(chats))
        await conn.execute(f"UPDATE members SET active=1 WHERE telegram_id IN ({marks})", chats)


async def _measure(emu: BotApiEmulator, db: Database, sets: list[list[int]], n: int, gap: float) -> list[float]:
    officer = emu.get_user(OFFICER_TG)
    assert officer is not None
    latencies: list[float] = []
    active: int | None = None
    for i in range(n):
        k = i % SETS
        if active != k:
            await _activate(db, sets[k])
            active = k
        summary = await report_until_summary(officer)
        if gap:
            await asyncio.sleep(gap)
        t0 = await confirm(officer, summary)
        done = officer.last
        assert done is not None
        m = re.search(r"\d{4}-\d{4}", done.text or "")
        assert m, done.text
        number = m.group(0)
        ends = []
        for chat in sets[k]:
            user = emu.get_user(chat)
            assert user is not None
            msg = await user.wait_for(re.compile(re.escape(number)), timeout=30)
            ends.append(msg.date)
        latencies.append(max(ends) - t0)
    return latencies


def _result(latencies: list[float], n: int, gap: float, cpu: botproc.CpuWindow) -> common.Result:
    s = common.spread(latencies)
    bot_pct, bench_pct = cpu.percent()
    rows = [
        ("reports", n, ""),
        ("recipients per alert", 4, ""),
        ("pause before each press s", gap, "0 = back to back: 4 alerts a report meet the outbox 30/s bulk pace"),
        ("p50 ms", s["p50"], ""),
        ("p99 ms", s["p99"], common.verdict(s["p99"] <= 20, "≤ 20 ms")),
        ("max ms", s["max"], ""),
        ("CPU % of a core: bot process", bot_pct, ""),
        ("CPU % of a core: bench process", bench_pct, "emulator + people"),
    ]
    text = common.table("alert latency (press → last alert at the emulator)", rows)
    text += "\narrangement: " + botproc.DESK_ARRANGEMENT
    return common.Result("latency", text, s["p99"] <= 20)


if __name__ == "__main__":
    print(asyncio.run(run(50)).text)
