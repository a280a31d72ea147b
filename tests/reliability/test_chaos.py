"""Small versions of `python -m bench.chaos`: the real bot process, kill -9, restart, exactly-once.

They guard the promise the rest of the design serves, and they caught what no faster test did (an
early retry after a 429, a pass sending a row a direct send had just sent). A real process on the
real clock, its alerts paced at Telegram's one message a second per chat: about 40 s and 55 s on a
2-core machine, so among the slow tests (`python -m pytest -m slow`).
"""

from __future__ import annotations

import pytest

from bench import chaos


def _check(result: dict[str, object], reports: int, kills: int) -> None:
    assert result["problems"] == [], chaos.render(result)
    assert result["kills"] == kills and result["restarts"] == kills
    assert result["confirmed"] == reports and result["stored_exactly_once"] == reports
    assert result["incidents_in_db"] == reports
    assert result["messages_lost"] == 0
    # At-least-once: only a send in flight at a kill may be repeated (no idempotency key in the Bot API).
    in_flight = result["in_flight_at_kills"]
    assert isinstance(in_flight, int)
    assert result["messages_duplicated"] <= in_flight
    assert result["messages_delivered_once"] >= result["messages_expected"] - in_flight > 0
    assert result["deadlines_due"] == result["deadlines_fired"] > 0
    assert result["deadline_effects_once"] == result["deadline_effects_expected"] > 0
    assert result["interrupted_conversations"] == result["resumed_at_step"]


@pytest.mark.slow
async def test_chaos_kill_9_small() -> None:
    args = chaos.parse_args(["--reports", "30", "--kills", "3", "--officers", "10", "--forward", "5", "--seed", "3"])
    _check(await chaos.run(args), 30, 3)


@pytest.mark.slow
async def test_chaos_with_bot_api_faults_small() -> None:
    args = chaos.parse_args(["--reports", "30", "--kills", "3", "--officers", "10", "--forward", "5", "--seed", "4",
                             "--faults", "0.1", "--slow", "0.5"])
    result = await chaos.run(args)
    _check(result, 30, 3)
    assert sum(result["faults"].values()) > 0  # type: ignore[attr-defined]
    assert result["retry_after_violations"] == 0


@pytest.mark.slow
async def test_chaos_two_instances_small() -> None:
    """Two `dutydesk run` on one SQLite file (the flock lease): kills take the active one, a standby takes over."""
    args = chaos.parse_args(["--instances", "2", "--reports", "30", "--kills", "3", "--officers", "10",
                             "--forward", "5", "--seed", "5"])
    result = await chaos.run(args)
    _check(result, 30, 3)
    failover = result["failover"]
    assert isinstance(failover, dict) and failover["takeovers"] == 3 and failover["met"], chaos.render(result)
