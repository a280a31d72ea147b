"""`python -m bench [latency|throughput|deadlines|broadcast|coldstart|failover|all] [sizes]
[--backend sqlite|postgres|both]` — see docs/PERFORMANCE.md."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable

from bench import broadcast, coldstart, common, deadlines, failover, latency, throughput
from bot.harness import TEST_PG_ENV

NAMES = ("latency", "throughput", "deadlines", "broadcast", "coldstart", "failover")

# Tiny sizes: a smoke run of everything in seconds (used by tests/test_bench_smoke.py).
SMOKE = {"n": 5, "gap": 0.0, "sizes": "5", "pending": 500, "incidents": 100, "k": 5, "window": 1.0,
         "year_incidents": 10, "notices": 20, "members": 20, "repeat": 1, "runs": 1, "reporters": 2,
         "failover_incidents": 5, "failover_wait": 1.0}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description="DutyDesk benchmarks (real app, local emulator)")
    p.add_argument("name", nargs="?", default="all", choices=(*NAMES, "all"))
    p.add_argument("--smoke", action="store_true", help="tiny sizes, seconds; no figures worth quoting")
    p.add_argument("--backend", choices=(*common.BACKENDS, "both"),
                   help="latency and throughput on SQLite, PostgreSQL or both side by side (default: both when a"
                        f" PostgreSQL server answers at {TEST_PG_ENV} or 127.0.0.1:5432, else sqlite);"
                        " the other benchmarks run on SQLite")
    p.add_argument("--n", type=int, help="latency: reports (1000); broadcast: recipients (1000)")
    p.add_argument("--gap", type=float, help="latency: pause before each press, s (0.3; 0 = back to back)")
    p.add_argument("--sizes", help="throughput: officers at once, comma separated (100,1000)")
    p.add_argument("--runs", type=int, help="throughput: runs per side and size, the median compared (3)")
    p.add_argument("--reporters", type=int, help="broadcast: officers filing reports meanwhile (20; 0 = none)")
    p.add_argument("--pending", type=int, help="deadlines: pending rows in the DB (100000)")
    p.add_argument("--incidents", type=int, help="deadlines: incidents they belong to (20000)")
    p.add_argument("--k", type=int, help="deadlines: reminders due within the window (1000)")
    p.add_argument("--window", type=float, help="deadlines: seconds the k reminders fall within (60)")
    p.add_argument("--year-incidents", type=int, help="coldstart: incidents in the year (500)")
    p.add_argument("--notices", type=int, help="coldstart: notices in the year (5000)")
    p.add_argument("--members", type=int, help="coldstart: members (300)")
    p.add_argument("--repeat", type=int, help="coldstart: spawns (3)")
    p.add_argument("--failover-incidents", type=int, help="failover: incidents filed with the Bot API blackholed (200)")
    p.add_argument("--failover-wait", type=float, help="failover: [escalation] failover_after, s (3)")
    return p


def _pick(args: argparse.Namespace, key: str, default: object) -> object:
    v = getattr(args, key)
    if v is not None:
        return v
    return SMOKE[key] if args.smoke else default


def backends(choice: str | None) -> tuple[str, ...]:
    """What --backend names ("both": SQLite, then PostgreSQL); None: SQLite."""
    if choice == "both":
        return common.BACKENDS
    return (choice or common.SQLITE,)


async def pick_backend(args: argparse.Namespace) -> str | None:
    """--backend as given, else "both" when the PostgreSQL test server answers, else "sqlite" with one
    line saying why. None: --backend postgres/both asked for a server that does not answer (said why)."""
    problem = await common.postgres_problem()
    if args.backend is None:
        if problem is None:
            return "both"
        print(f"backend: SQLite only — {problem}", flush=True)
        return common.SQLITE
    if args.backend != common.SQLITE and problem is not None:
        print(f"--backend {args.backend}: {problem}", flush=True)
        return None
    return str(args.backend)


def jobs(args: argparse.Namespace) -> dict[str, Callable[[], Awaitable[common.Result]]]:
    n_lat = int(_pick(args, "n", 1000))  # type: ignore[call-overload]
    sizes = tuple(int(x) for x in str(_pick(args, "sizes", "100,1000")).split(","))
    on = backends(args.backend)
    return {
        "latency": lambda: latency.run(n_lat, float(_pick(args, "gap", 0.3)), on),  # type: ignore[arg-type]
        "throughput": lambda: throughput.run(sizes, int(_pick(args, "runs", 3)), on),  # type: ignore[call-overload]
        "deadlines": lambda: deadlines.run(int(_pick(args, "pending", 100_000)),  # type: ignore[call-overload]
                                           int(_pick(args, "incidents", 20_000)),  # type: ignore[call-overload]
                                           int(_pick(args, "k", 1000)),  # type: ignore[call-overload]
                                           float(_pick(args, "window", 60.0))),  # type: ignore[arg-type]
        "broadcast": lambda: broadcast.run(n_lat, int(_pick(args, "reporters", 20))),  # type: ignore[call-overload]
        "coldstart": lambda: coldstart.run(int(_pick(args, "year_incidents", 500)),  # type: ignore[call-overload]
                                           int(_pick(args, "notices", 5000)),  # type: ignore[call-overload]
                                           int(_pick(args, "members", 300)),  # type: ignore[call-overload]
                                           int(_pick(args, "repeat", 3))),  # type: ignore[call-overload]
        "failover": lambda: failover.run(int(_pick(args, "failover_incidents", 200)),  # type: ignore[call-overload]
                                         wait=float(_pick(args, "failover_wait", 3.0))),  # type: ignore[arg-type]
    }


async def main_async(args: argparse.Namespace) -> list[common.Result] | None:
    names = NAMES if args.name == "all" else (args.name,)
    print(f"machine: {common.machine()}; load average at start {_load()}", flush=True)
    if {"latency", "throughput"} & set(names):
        backend = await pick_backend(args)
        if backend is None:
            return None
        args.backend = backend
        if backend != common.SQLITE:
            engines = " and ".join(common.ENGINE_NAMES[b] for b in backends(backend))
            print(f"backend: latency and throughput on {engines}"
                  f" (PostgreSQL {await common.postgres_version()}: {common.postgres_arrangement()});"
                  " the other benchmarks on SQLite", flush=True)
    todo = jobs(args)
    results = []
    for name in names:
        t0 = time.perf_counter()
        res = await todo[name]()
        results.append(res)
        print(res.text, flush=True)
        print(f"({name}: {time.perf_counter() - t0:.1f} s wall; load average now {_load()})\n", flush=True)
    return results


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    return 0 if asyncio.run(main_async(args)) is not None else 2


if __name__ == "__main__":
    raise SystemExit(main())
