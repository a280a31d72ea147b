"""`python -m bench --backend postgres` at tiny sizes: latency and throughput run the spawned bot on a
fresh PostgreSQL schema and print its figures beside SQLite's (no timing asserted)."""

from __future__ import annotations

import re

from bench import common
from bench.__main__ import SMOKE, jobs, parser
from bot.harness import test_server as pg_server


def _schemas() -> set[str]:
    from storage.peek import PgSync

    rows = PgSync(pg_server()).execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_%'").fetchall()
    return {r[0] for r in rows}


async def test_latency_on_both_engines_side_by_side() -> None:
    before = _schemas()
    result = await jobs(parser().parse_args(["latency", "--smoke", "--backend", "both"]))["latency"]()
    header = result.text.splitlines()[1].split()
    assert header[:3] == ["metric", "SQLite", "PostgreSQL"], result.text
    m = re.search(r"(?m)^p99 ms\s+(\S+)\s+(\S+)", result.text)
    assert m and float(m.group(1)) > 0 and float(m.group(2).replace(",", "")) > 0, result.text
    assert re.search(r"(?m)^reports\s+5\s+5$", result.text), result.text
    assert "PostgreSQL: a fresh schema bench_… on postgresql://" in result.text
    assert _schemas() <= before  # the run's schema was dropped


async def test_throughput_on_postgres() -> None:
    result = await jobs(parser().parse_args(["throughput", "--smoke", "--backend", "postgres"]))["throughput"]()
    header, row = result.text.splitlines()[1].split(), result.text.splitlines()[2].split()
    assert header[-4:] == ["PG/s", "runs", "ratio", "PG"], result.text
    assert row[:2] == [SMOKE["sizes"], str(int(SMOKE["sizes"]) * 7)]  # type: ignore[call-overload]
    assert float(row[-3].replace(",", "")) > 0  # on PG/s
    assert "on PostgreSQL: DutyDesk" in result.text


async def test_default_backend_is_both_when_the_server_answers() -> None:
    from bench.__main__ import pick_backend

    assert await pick_backend(parser().parse_args(["latency"])) == "both"
    assert await common.postgres_problem() is None
