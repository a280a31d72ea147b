"""Shared pieces of the benchmarks: a real-clock Desk on the emulator (SQLite or PostgreSQL), seeding by
SQL, tables."""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.config import Unit
from bot.domain.members import Role
from bot.emulator import BotApiEmulator, RateLimits
from bot.harness import TOKEN, Desk, scratch_schema, test_server, test_server_problem
from storage.conn import insert_id
from storage.db import to_db
from storage.peek import drop_schema

OFFICER_UNIT = "jianshelu"  # a street office in the shipped example config

SQLITE = "sqlite"
POSTGRES = "postgres"
BACKENDS = (SQLITE, POSTGRES)
ENGINE_NAMES = {SQLITE: "SQLite", POSTGRES: "PostgreSQL"}


# None when the test server (DUTYDESK_TEST_PG, else 127.0.0.1:5432) answers; else why not.
postgres_problem = test_server_problem


def postgres_arrangement() -> str:
    """Where the PostgreSQL side's database is, for the tables' footnotes."""
    from storage.pg import READ_POOL_SIZE, PgDatabase

    settings = test_server().partition("?")[2]
    return (f"a fresh schema bench_… on {PgDatabase(test_server()).path} (dropped after)"
            + (f" with {settings.replace('&', ', ')}" if settings else "")
            + f", through asyncpg: the bot's writes on one connection, its reads on a pool of {READ_POOL_SIZE}")


async def postgres_version() -> str:
    import asyncpg

    conn = await asyncpg.connect(test_server(), timeout=3)
    try:
        return str(await conn.fetchval("SHOW server_version")).split()[0]
    finally:
        await conn.close()


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def spread(values: Sequence[float], scale: float = 1000.0) -> dict[str, float]:
    return {"p50": pct(values, 50) * scale, "p99": pct(values, 99) * scale, "max": max(values) * scale,
            "mean": statistics.fmean(values) * scale}


def table(title: str, rows: Iterable[tuple[str, Any, str]]) -> str:
    """rows: (metric, value, goal/verdict)."""
    rows = list(rows)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(_fmt(r[1])) for r in rows)
    out = [f"== {title} ==", f"{'metric'.ljust(w0)}  {'value'.rjust(w1)}  goal"]
    for name, value, goal in rows:
        out.append(f"{name.ljust(w0)}  {_fmt(value).rjust(w1)}  {goal}")
    return "\n".join(out)


def table_by(title: str, columns: Sequence[str], rows: Iterable[tuple[str, Sequence[Any], str]]) -> str:
    """rows: (metric, one value per column, goal/verdict): e.g. the same figures on SQLite and PostgreSQL."""
    rows = list(rows)
    w0 = max(len(r[0]) for r in rows)
    widths = [max(len(c), *(len(_fmt(r[1][i])) for r in rows)) for i, c in enumerate(columns)]
    out = [f"== {title} ==", "  ".join(["metric".ljust(w0), *(c.rjust(w) for c, w in zip(columns, widths, strict=True)),
                                         "goal"])]
    for name, values, goal in rows:
        cells = [_fmt(v).rjust(w) for v, w in zip(values, widths, strict=True)]
        out.append("  ".join([name.ljust(w0), *cells, goal]).rstrip())
    return "\n".join(out)


def grid(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain table with one column per peer (e.g. DutyDesk | echo | ratio)."""
    cells = [list(header)] + [[_fmt(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [f"== {title} =="]
    for r in cells:
        lines.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)


def verdict(ok: bool, goal: str) -> str:
    return f"{goal}  {'met' if ok else 'NOT met'}"


def extra_units(n: int) -> tuple[Unit, ...]:
    return tuple(Unit(code=f"bench{i:03d}", name=f"测试街道{i:03d}", kind="street") for i in range(n))


async def real_desk(tmp: str, *, rate_limits: RateLimits | None = None, units: int = 0,
                    backend: str = SQLITE) -> Desk:
    """The real Application on the emulator, the system clock, and a fresh SQLite file in `tmp` or (backend
    "postgres") a fresh schema on the test server, dropped by stop_desk."""
    emu = BotApiEmulator(token=TOKEN, bot_username="dutydesk_bot", rate_limits=rate_limits,
                         record_transcript=False)
    await emu.start()
    overrides: dict[str, Any] = {}
    db_path = Path(tmp) / "bench.sqlite3"
    if units:
        from bot.harness import demo_config

        overrides["units"] = demo_config(db_path).units + extra_units(units)
    if backend == POSTGRES:
        desk = Desk(clock=SystemClock(), emulator=emu, config_overrides=overrides, engine="postgresql")
        # A fresh bench_… schema, not one the test suite's desks hand on (bot/harness.py desk_schema): a
        # benchmark measures a new desk, and its schema is told apart from theirs and dropped by stop_desk.
        desk.db_target = scratch_schema("bench")
    else:
        desk = Desk(clock=SystemClock(), db_path=db_path, emulator=emu, config_overrides=overrides)
    await desk.start()
    return desk


async def stop_desk(desk: Desk) -> None:
    target = desk.db_target if desk.on_postgres else None
    if target is not None:
        desk.db_target = str(desk.db_path)  # not handed on to a next desk (Desk.stop): dropped here
    await desk.stop()
    await desk.emu.stop()
    if target is not None:
        await drop_schema(target)


async def seed_members(desk: Desk, people: list[tuple[int, str, str, Role]]) -> dict[int, int]:
    """Insert members straight into the table (telegram id, name, unit, role); returns tg id → member id.

    Registration by invite is exercised by the tests; a benchmark needs a thousand people fast."""
    now = to_db(datetime.now(UTC))
    ids: dict[int, int] = {}
    async with desk.db.tx() as conn:
        for tg, name, unit, role in people:
            ids[tg] = await insert_id(conn, "INSERT INTO members(telegram_id, name, unit_code, created_at)"
                                      " VALUES (?,?,?,?)", (tg, name, unit, now))
            await conn.execute("INSERT INTO member_roles(member_id, role) VALUES (?,?)", (ids[tg], role.value))
    for tg, name, _unit, _role in people:
        desk.emu.user(tg, name, started=True)
    return ids


def tmpdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="dutydesk-bench-")


@dataclasses.dataclass
class Result:
    name: str
    text: str
    ok: bool
