"""1. Alert latency: from the 确认上报 press entering the emulator to the last alert request
for that incident reaching it (4 recipients: two duty officers, a director, the unit head).

Before each press the bench pauses `gap` seconds (default 0.3), as reports from people do;
`--gap 0` files them back to back, so each alert also competes with the next report's dialogue
replies on the one event loop the emulator, the users and the bot share."""

from __future__ import annotations

import asyncio
import re

from bench import common
from bench.flows import confirm, report_until_summary
from bot.domain.members import Role

SETS = 50  # recipients rotate, so every alert meets a fresh per-chat budget, as real reports do


async def run(n: int = 1000, gap: float = 0.3) -> common.Result:
    with common.tmpdir() as tmp:
        desk = await common.real_desk(tmp)
        try:
            return await _run(desk, n, gap)
        finally:
            await common.stop_desk(desk)


async def _run(desk, n: int, gap: float) -> common.Result:  # type: ignore[no-untyped-def]
    officer_tg = 900_001
    people = [(officer_tg, "李信息", common.OFFICER_UNIT, Role.OFFICER)]
    sets: list[list[int]] = []
    tg = 910_000
    for k in range(SETS):
        chats = []
        for role, unit in ((Role.DUTY, "office"), (Role.DUTY, "office"), (Role.DIRECTOR, "office"),
                           (Role.UNIT_HEAD, common.OFFICER_UNIT)):
            tg += 1
            people.append((tg, f"收件人{tg}", unit, role))
            chats.append(tg)
        sets.append(chats)
    ids = await common.seed_members(desk, people)
    officer = desk.emu.get_user(officer_tg)
    assert officer is not None
    latencies: list[float] = []
    active: int | None = None
    for i in range(n):
        k = i % SETS
        if active != k:
            async with desk.db.tx() as conn:
                await conn.execute("UPDATE members SET active=0 WHERE telegram_id >= 910000")
                marks = ",".join("?" * len(sets[k]))
                await conn.execute(f"UPDATE members SET active=1 WHERE telegram_id IN ({marks})", sets[k])
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
            user = desk.emu.get_user(chat)
            assert user is not None
            msg = await user.wait_for(lambda x, num=number: num in (x.text or ""), timeout=30)
            ends.append(msg.date)
        latencies.append(max(ends) - t0)
    del ids
    s = common.spread(latencies)
    rows = [
        ("reports", n, ""),
        ("recipients per alert", 4, ""),
        ("pause before each press s", gap, "0 = back to back: 4 alerts a report meet the outbox 30/s bulk pace"),
        ("p50 ms", s["p50"], ""),
        ("p99 ms", s["p99"], common.verdict(s["p99"] <= 20, "≤ 20 ms")),
        ("max ms", s["max"], ""),
    ]
    return common.Result("latency", common.table("alert latency (press → last alert at the emulator)", rows),
                         s["p99"] <= 20)


if __name__ == "__main__":
    print(asyncio.run(run(50)).text)
