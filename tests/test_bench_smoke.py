"""The benchmarks at tiny sizes, so they cannot rot: each runs the real app on the emulator
end to end and prints its table. No timing is asserted (figures come from `python -m bench`)."""

from __future__ import annotations

import re

import pytest

from bench.__main__ import NAMES, SMOKE, jobs, parser

TITLES = {
    "latency": "alert latency",
    "throughput": "throughput",
    "deadlines": "deadline scale",
    "broadcast": "broadcast",
    "coldstart": "cold start",
    "failover": "failover delivery",
}

OWN_PROCESS = ("latency", "throughput", "coldstart")  # the bot under test is spawned (bench/botproc.py)


def _value(text: str, metric: str) -> str:
    m = re.search(rf"(?m)^{re.escape(metric)}\s+(\S+)", text)
    assert m, f"no row {metric!r} in:\n{text}"
    return m.group(1)


@pytest.mark.parametrize("name", NAMES)
async def test_bench_runs_at_smoke_size(name: str) -> None:
    result = await jobs(parser().parse_args([name, "--smoke"]))[name]()
    assert result.name == name
    assert TITLES[name] in result.text.splitlines()[0]
    if name in OWN_PROCESS:
        assert "arrangement: bot: `dutydesk run` in its own process" in result.text
    if name == "latency":
        assert _value(result.text, "reports") == str(SMOKE["n"])
        float(_value(result.text, "p99 ms"))
    elif name == "throughput":
        row = result.text.splitlines()[2].split()
        assert row[:2] == [SMOKE["sizes"], str(int(SMOKE["sizes"]) * 7)]  # type: ignore[call-overload]
        # row[2]: DutyDesk/s, row[3]: runs, row[4]: echo/s
        assert float(row[2].replace(",", "")) > 0 and float(row[4].replace(",", "")) > 0
    elif name == "deadlines":
        assert int(_value(result.text, "pending deadlines in DB")) >= SMOKE["pending"]  # type: ignore[operator]
        assert float(_value(result.text, "RSS of that process MB")) > 10
    elif name == "broadcast":
        assert _value(result.text, "recipients") == str(SMOKE["n"])
        assert _value(result.text, "429 answers") == "0"
    elif name == "failover":
        assert _value(result.text, "robot delivered") == str(SMOKE["failover_incidents"])
        assert _value(result.text, "sms delivered") == str(SMOKE["failover_incidents"])
        assert _value(result.text, "SMS sent (two duty officers)") == str(2 * SMOKE["failover_incidents"])  # type: ignore[operator]
    elif name == "coldstart":
        assert _value(result.text, "notices") == str(SMOKE["notices"])
        assert float(_value(result.text, "spawn → first answer s (worst)")) > 0
