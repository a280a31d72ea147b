"""2. Throughput against the framework floor: N officers each file a full first report at once
(7 updates each, durable writes); then the same harness drives a bare python-telegram-bot echo
bot (bench/echo_bot.py) with the same number of round trips.

Each bot runs as its own process (bench/botproc.py); the emulator and the simulated people stay
in the bench process, which also takes the time.

A third run splits the same officers over SPLIT independent DutyDesk processes, each with its own
database and emulator: nothing shared, nothing to coordinate. No sharding of one bot across the
machine's cores (workers behind one poller, one database) could beat that figure, so it is the
ceiling of that design on this machine, measured instead of guessed.

With "postgres" among `backends`, each round also runs DutyDesk on a fresh schema of the PostgreSQL test
server (bench/common.py), its median beside SQLite's; the echo runs and the split run stay as they are."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path

from bench import botproc, common
from bench.flows import UPDATES_PER_REPORT, confirm, report_until_summary
from bot import loop
from bot.domain.members import Role
from bot.emulator import BotApiEmulator, SimUser
from bot.harness import TOKEN
from storage.engine import database

SPLIT = 2  # independent bots in the split run: one per core of the 2-core goal
DUTY_TG = 799_001  # a duty officer: the warm-up user of the DutyDesk process
ECHO_WARMUP_TG = 699_999


@dataclasses.dataclass
class Rate:
    per_s: float
    bot_cpu: float  # % of one core, bot process, over the timed window
    bench_cpu: float  # % of one core, bench process (emulator + people)
    steal: float = 0.0  # % of one core taken by the hypervisor for other guests (bench/botproc.py)
    server_cpu: float = 0.0  # % of one core, the PostgreSQL backends serving the bot (PostgreSQL runs)


async def run(sizes: Sequence[int] = (100, 1000), runs: int = 3,
              backends: Sequence[str] = (common.SQLITE,)) -> common.Result:
    """Each size: DutyDesk and the echo bot `runs` times, alternating, each run its own fresh
    process and database; the median run of each is compared (a shared VM's speed drifts between
    runs by more than any one change here, so one run per side would compare luck)."""
    rows = []
    cpu_lines = []
    ok = True
    pg = common.POSTGRES in backends
    pg_ok = True
    pg_line = ""
    for n in sizes:
        ours_runs: list[Rate] = []
        pg_runs: list[Rate] = []
        echo_runs: list[Rate] = []
        for _ in range(runs):
            if common.SQLITE in backends or not pg:
                ours_runs.append(await _ours(n))
            if pg:
                pg_runs.append(await _ours(n, backend=common.POSTGRES))
            echo_runs.append(await _echo(n))
        if not ours_runs:  # --backend postgres alone: the SQLite columns stay, run once
            ours_runs.append(await _ours(n))
        ours, echo = _median(ours_runs), _median(echo_runs)
        split = await _ours(n, SPLIT)
        echo_lean = await _echo(n, "desk")
        ratio = ours.per_s / echo.per_s if echo.per_s else float("nan")
        ok = ok and ours.per_s >= 500 and ratio >= 0.5
        row: list[object] = [n, n * UPDATES_PER_REPORT, ours.per_s, _range(ours_runs), echo.per_s, _range(echo_runs),
                             ratio, echo_lean.per_s, ours.per_s / echo_lean.per_s if echo_lean.per_s else float("nan"),
                             split.per_s]
        if pg:
            on_pg = _median(pg_runs)
            pg_ratio = on_pg.per_s / echo.per_s if echo.per_s else float("nan")
            pg_ok = pg_ok and on_pg.per_s >= 500 and pg_ratio >= 0.5
            row += [on_pg.per_s, _range(pg_runs), pg_ratio]
            pg_line = (f"  {n} officers on PostgreSQL: DutyDesk {on_pg.bot_cpu:.0f} %"
                       f" (bench {on_pg.bench_cpu:.0f} %, stolen {on_pg.steal:.0f} %),"
                       f" its postgres backends {on_pg.server_cpu:.0f} %")
        rows.append(tuple(row))
        cpu_lines.append(f"  {n} officers: DutyDesk {ours.bot_cpu:.0f} % (bench {ours.bench_cpu:.0f} %,"
                         f" stolen {ours.steal:.0f} %),"
                         f" {SPLIT} bots {split.bot_cpu:.0f} % (bench {split.bench_cpu:.0f} %),"
                         f" echo {echo.bot_cpu:.0f} % (bench {echo.bench_cpu:.0f} %, stolen {echo.steal:.0f} %),"
                         f" echo on desk {echo_lean.bot_cpu:.0f} % (bench {echo_lean.bench_cpu:.0f} %)")
        if pg:
            cpu_lines.append(pg_line)
    header = ["officers", "updates", "DutyDesk/s", "runs", "echo/s", "runs", "ratio", "echo desk/s", "ratio desk",
              f"{SPLIT} bots/s"]
    if pg:
        header += ["on PG/s", "runs", "ratio PG"]
    text = common.grid("throughput: N officers file a full first report at once vs a bare PTB echo bot", header, rows)
    text += f"\nDutyDesk/s, echo/s: the median of {runs} runs each (alternating); runs: slowest–fastest"
    if pg:
        text += ("\n  on PG/s: DutyDesk on PostgreSQL, the median of its runs (alternating with the others);"
                 " ratio PG = on PG/s ÷ echo/s; DutyDesk/s, the split and echo desk runs: SQLite"
                 "\n  PostgreSQL: " + common.postgres_arrangement())
    text += "\narrangement: " + botproc.DESK_ARRANGEMENT
    text += "\n  echo run: " + botproc.ECHO_ARRANGEMENT
    text += ("\n  echo = PTB's defaults (httpx, asyncio's loop); echo desk = the same bot on DutyDesk's transport"
             f" (bot/telegram_http.py) and event loop ({loop.name()}, bot/loop.py), the like-for-like floor")
    text += (f"\n  {SPLIT} bots = the officers split over {SPLIT} independent `dutydesk run` processes, each with"
             " its own database and emulator: the ceiling of sharding one bot over this machine's cores")
    text += ("\nCPU over the median run's timed window, % of one core: bot process(es)"
             " (bench process = emulator + people; stolen = taken by the hypervisor for other guests,"
             " the main cause of run-to-run spread here)\n")
    text += "\n".join(cpu_lines)
    text += "\ngoal: ≥ 500 updates/s and ratio ≥ 0.5 — " + ("met" if ok else "NOT met")
    if pg:
        text += "; on PostgreSQL " + ("met" if pg_ok else "NOT met")
    return common.Result("throughput", text, ok and pg_ok)


def _median(rates: Sequence[Rate]) -> Rate:
    return sorted(rates, key=lambda r: r.per_s)[(len(rates) - 1) // 2]


def _range(rates: Sequence[Rate]) -> str:
    return f"{min(r.per_s for r in rates):,.0f}–{max(r.per_s for r in rates):,.0f}"


async def _timed(bots: Sequence[botproc.BotProcess], n: int, jobs: Sequence[Awaitable[None]],
                 server: bool = False) -> Rate:
    with botproc.CpuWindow(*bots, server=server) as cpu:
        t0 = time.perf_counter()
        await asyncio.gather(*jobs)
        elapsed = time.perf_counter() - t0
    bot_pct, bench_pct = cpu.percent()
    return Rate(n * UPDATES_PER_REPORT / elapsed, bot_pct, bench_pct, cpu.steal_percent(),
                cpu.server_percent() if server else 0.0)


async def _ours(n: int, bots: int = 1, backend: str = common.SQLITE) -> Rate:
    """n officers, split over `bots` independent DutyDesk processes (own database, own emulator)."""
    shares = [n // bots + (i < n % bots) for i in range(bots)]
    with contextlib.ExitStack() as dirs:
        async with contextlib.AsyncExitStack() as stack:
            desks = []
            for share in shares:
                desk = await common.real_desk(dirs.enter_context(common.tmpdir()), backend=backend)
                stack.push_async_callback(common.stop_desk, desk)
                people = [(800_000 + i, f"信息员{i}", common.OFFICER_UNIT, Role.OFFICER) for i in range(share)]
                people += [(DUTY_TG, "值班员甲", "office", Role.DUTY), (799_002, "主任乙", "office", Role.DIRECTOR)]
                await common.seed_members(desk, people)
                await desk.stop_bot()  # the bot under test is the `dutydesk run` process below
                desks.append(desk)
            procs = [await stack.enter_async_context(botproc.dutydesk(d.db_target, d.emu, warmup=DUTY_TG,
                                                                      config=d.db_path.with_suffix(".toml")))
                     for d in desks]
            officers = [d.emu.get_user(800_000 + i)
                        for d, share in zip(desks, shares, strict=True) for i in range(share)]
            rate = await _timed(procs, n, [_report(o) for o in officers], backend == common.POSTGRES)
            for desk, share in zip(desks, shares, strict=True):
                await _check_filed(desk.db_target, share)
            return rate


async def _report(who: SimUser | None) -> None:
    assert who is not None
    await confirm(who, await report_until_summary(who, timeout=600), timeout=600)


async def _check_filed(target: Path | str, n: int) -> None:
    async with database(target) as db:
        row = await (await db.conn.execute("SELECT count(*) FROM incidents")).fetchone()
    assert row is not None and row[0] == n, f"{row[0] if row else 0} incidents filed, expected {n}"


async def _echo(n: int, transport: str = "httpx") -> Rate:
    """The echo bot process on a fresh emulator, driven with the round trips of a report."""
    emu = BotApiEmulator(token=TOKEN, bot_username="echo_bot", record_transcript=False)
    await emu.start()
    try:
        emu.user(ECHO_WARMUP_TG, "预热", started=True)
        users = [emu.user(700_000 + i, f"用户{i}", started=True) for i in range(n)]
        async with botproc.bot_process(botproc.echo_command(emu, transport), emu, warmup=ECHO_WARMUP_TG,
                                       command="/start", expect="echo", name="echo bot") as bot:
            return await _timed([bot], n, [_echo_round_trips(u) for u in users])
    finally:
        await emu.stop()


async def _echo_round_trips(u: SimUser) -> None:
    # Same shape as a report: texts and button presses, each waiting for the answer.
    await u.send_text("/start")
    msg = await u.wait_for("echo", timeout=600)
    for step in range(UPDATES_PER_REPORT - 1):
        if step % 2 == 0:
            await u.press(msg, text="好")
        else:
            await u.send_text(f"第{step}步")
        msg = await u.wait_for("echo", timeout=600)


if __name__ == "__main__":
    print(asyncio.run(run((20,))).text)
