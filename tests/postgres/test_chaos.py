"""`python -m bench.chaos --backend postgres`, small: the real bot process on a PostgreSQL schema, kill -9
and restart, the same exactly-once checks as on SQLite (tests/reliability/test_chaos.py), read through
the engine. About 50 s on a 2-core machine: among the slow tests."""

from __future__ import annotations

import pytest

from bench import chaos
from bot.harness import test_server as pg_server
from storage.peek import PgSync
from tests.reliability.test_chaos import _check


def _schemas() -> set[str]:
    rows = PgSync(pg_server()).execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'chaos_%'").fetchall()
    return {r[0] for r in rows}


@pytest.mark.slow
async def test_chaos_kill_9_small_on_postgres() -> None:
    before = _schemas()
    args = chaos.parse_args(["--backend", "postgres", "--reports", "30", "--kills", "3", "--officers", "10",
                             "--forward", "5", "--seed", "3"])
    result = await chaos.run(args)
    _check(result, 30, 3)
    assert result["backend"] == "PostgreSQL"
    assert _schemas() <= before  # dropped after a run that held


@pytest.mark.slow
async def test_chaos_two_instances_small_on_postgres() -> None:
    """Two `dutydesk run` on one schema: each kill takes the active one, the standby takes over, the
    killed one comes back as a standby; the same checks, and every takeover timed within the goal."""
    args = chaos.parse_args(["--backend", "postgres", "--instances", "2", "--reports", "30", "--kills", "3",
                             "--officers", "10", "--forward", "5", "--seed", "3"])
    result = await chaos.run(args)
    _check(result, 30, 3)
    failover = result["failover"]
    assert isinstance(failover, dict) and failover["takeovers"] == 3 and failover["met"], chaos.render(result)
    assert 0 < failover["first_call"][0] <= failover["first_poll"][0] <= 15 + 5
    assert "lease_seconds = 5" in chaos.render(result)
