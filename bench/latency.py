"""1. Alert latency: from the 确认上报 press entering the emulator to the last alert request
for that incident reaching it (4 recipients: two duty officers, a director, the unit head).

Before each press the bench pauses `gap` seconds (default 0.3), as reports from people do;
`--gap 0` files them back to back, so each alert also competes with the next report's dialogue
replies in the bot's event loop.

The bot is `dutydesk run` in its own process (bench/botproc.py); the emulator, the officer and
the recipients stay in the bench process, which takes both timestamps. Which recipients are
active is switched through the bench's own database connection while the bot runs (WAL).

`backends` ("sqlite", "postgres"): the same run on each in turn, a fresh SQLite file or a fresh schema on
the PostgreSQL test server (bench/common.py), the figures side by side."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from bench import botproc, common
from bench.flows import confirm, report_until_summary
from bot.domain.members import Role
from bot.emulator import BotApiEmulator
from storage.engine import AnyDatabase, database

SETS = 50  # recipients rotate, so every alert meets a fresh per-chat budget, as real reports do
OFFICER_TG = 900_001  # files every report; also the warm-up user of the bot process
FIRST_RECIPIENT_TG = 910_001


async def run(n: int = 1000, gap: float = 0.3, backends: Sequence[str] = (common.SQLITE,)) -> common.Result:
    runs = [await _run(n, gap, backend) for backend in backends]
    return _result(runs, n, gap)


async def _run(n: int, gap: float, backend: str) -> tuple[str, list[float], botproc.CpuWindow]:
    with common.tmpdir() as tmp:
        desk = await common.real_desk(tmp, backend=backend)
        try:
            people, sets = _people()
            await common.seed_members(desk, people)
            await desk.stop_bot()  # the bot under test is the `dutydesk run` process below
            async with botproc.dutydesk(desk.db_target, desk.emu, warmup=OFFICER_TG,
                                        config=desk.db_path.with_suffix(".toml")) as bot, \
                    database(desk.db_target) as db:
                with botproc.CpuWindow(bot, server=backend == common.POSTGRES) as cpu:
                    latencies = await _measure(desk.emu, db, sets, n, gap)
            return backend, latencies, cpu
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


async def _activate(db: AnyDatabase, chats: list[int]) -> None:
    """Only `chats` among the recipients are active, so the next alert goes to them alone."""
    async with db.tx() as conn:
        await conn.execute("UPDATE members SET active=0 WHERE telegram_id >= ?", (FIRST_RECIPIENT_TG,))
        marks = ",".join("?" * len(chats))
        await conn.execute(f"UPDATE members SET active=1 WHERE telegram_id IN ({marks})", chats)


async def _measure(emu: BotApiEmulator, db: AnyDatabase, sets: list[list[int]], n: int, gap: float) -> list[float]:
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


def _result(runs: Sequence[tuple[str, list[float], botproc.CpuWindow]], n: int, gap: float) -> common.Result:
    spreads = [common.spread(latencies) for _, latencies, _ in runs]
    cpus = [cpu.percent() for _, _, cpu in runs]
    met = [s["p99"] <= 20 for s in spreads]
    names = [common.ENGINE_NAMES[backend] for backend, _, _ in runs]
    goal = "≤ 20 ms  " + ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in zip(names, met, strict=True))
    if len(runs) == 1:
        goal = common.verdict(met[0], "≤ 20 ms")
    each = len(runs)
    rows: list[tuple[str, Sequence[object], str]] = [
        ("reports", [n] * each, ""),
        ("recipients per alert", [4] * each, ""),
        ("pause before each press s", [gap] * each,
         "0 = back to back: 4 alerts a report meet the outbox 30/s bulk pace"),
        ("p50 ms", [s["p50"] for s in spreads], ""),
        ("p99 ms", [s["p99"] for s in spreads], goal),
        ("max ms", [s["max"] for s in spreads], ""),
        ("CPU % of a core: bot process", [c[0] for c in cpus], ""),
        ("CPU % of a core: bench process", [c[1] for c in cpus], "emulator + people"),
    ]
    if any(backend == common.POSTGRES for backend, _, _ in runs):
        rows.append(("CPU % of a core: postgres backends", [cpu.server_percent() if cpu.server else "-"
                                                             for _, _, cpu in runs], "serving the bot's connections"))
    text = common.table_by("alert latency (press → last alert at the emulator)", names, rows)
    text += "\narrangement: " + botproc.DESK_ARRANGEMENT
    if any(backend == common.POSTGRES for backend, _, _ in runs):
        text += "\n  PostgreSQL: " + common.postgres_arrangement()
    return common.Result("latency", text, all(met))


if __name__ == "__main__":
    print(asyncio.run(run(50)).text)
