"""Crash-restart chaos: the real bot process, kill -9 at random moments, exactly-once checks.

    python -m bench.chaos --reports 500 --kills 20 [--officers 40] [--faults 0.1] [--seed 7] [--runs 20]

The Bot API emulator and the simulated officers run in this process; `dutydesk run` runs as
a child process on a SQLite file in a temporary folder. Officers answer whatever the bot
last asked (as a person would), so a conversation interrupted by a crash carries on from
the step the restarted bot resumes at. A killer task sends SIGKILL at random moments and
restarts the bot each time. At the end (bot stopped, database read directly):

* every confirmed report is stored exactly once, with the facts the officer gave;
* every sent outbox message (alerts, deadline messages) reached its chat exactly once,
  counted by the emulator, except those Telegram had delivered but the bot not yet marked
  sent when it was killed (counted at each kill; sent again after the restart, as an
  at-least-once outbox must); nothing is left pending or failed;
* every interrupted conversation resumed at its step (no dialogue fell back to the start,
  no answer was stored in the wrong field);
* every deadline that came due fired exactly once (one "late" per stage, one forward
  reminder per incident, each delivered once).

With ``--faults R`` the emulator also injects 429 (retry_after), 500/502, dropped
connections and slow answers into a fraction R of the bot's sending requests; the same
checks must hold and no retry may come before its retry_after.

Every run prints its seed first (without ``--seed`` it draws one). Kill moments and faults
still vary with timing, so a seed need not fail twice: a failing run keeps its folder and
prints, per report a check named, what is needed to follow it (bench/chaos_evidence.py).
``--runs N`` runs N times (fresh seeds, or the one given) and stops at the first failing run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.chaos_checks import check, render, render_tally
from bench.chaos_db import Look, look
from bench.chaos_evidence import Scene, explain
from bench.chaos_people import STEP_ORDER, People, Report, Tally, step_of  # noqa: F401 (read from here)
from bench.chaos_process import TOKEN, Instances, RetryWatch
from bench.common import postgres_problem
from bot.emulator import BotApiEmulator, Faults, SimUser
from bot.harness import scratch_schema
from storage.db import to_db
from storage.peek import drop_schema

SQLITE, POSTGRES = "sqlite", "postgres"
QUIET_S = 10.0  # the run stops once no deadline is due within this long (see Chaos.drain)

UNITS = ("jianshelu", "mianfanglu", "xushui", "jiaoti", "huanbao", "jianshe")
CATEGORIES = ("fire", "traffic", "other", "safety")

# Short deadlines so they come due while the run lasts: a report typed as "1 hour ago"
# has its written and full reports due at once; every report's forward reminder is due
# after FORWARD_REMIND seconds.
INCIDENT_SECTION = """[incident]
first_report = "1h"
written_report = "1h"
full_report = "1h"
followup_every = "24h"
remind_before = ["15m"]
forward_target = "60s"
forward_remind = "{forward}s"
max_backdate = "7d"
major_categories = ["fire"]
"""

HA_SECTION = """
[ha]
lease_seconds = {lease:g}
heartbeat_seconds = {heartbeat:g}
"""


def heartbeat_for(lease: float) -> float:
    """The longest heartbeat bot/config.py accepts for `lease` (lease ≥ 3 + 2 × heartbeat), at most 2 s."""
    return min(2.0, (lease - 3) / 2)


def write_config(tmp: Path, emu: BotApiEmulator, forward_seconds: int, database: Path | str,
                 lease: float | None = None) -> Path:
    from bot.harness import example_config_text

    text = example_config_text(emu, database)
    start = text.index("[incident]")
    end = text.index("\n[", start + 1)
    text = text[:start] + INCIDENT_SECTION.format(forward=forward_seconds) + text[end:]
    if lease is not None:  # a short lease, so that the run's many takeovers fit its time (said in its output)
        text += HA_SECTION.format(lease=lease, heartbeat=heartbeat_for(lease))
    path = tmp / "dutydesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Chaos(People):
    """The run: the bot process, the emulator, the officers (bench/chaos_people.py), the killer, the checks."""

    def __init__(self, args: argparse.Namespace, tmp: Path, seed: int) -> None:
        self.args = args
        self.tmp = tmp
        self.seed = seed
        # The database: a SQLite file in the folder, or a fresh schema on the PostgreSQL test server.
        self.target: str | Path = scratch_schema("chaos") if args.backend == POSTGRES else tmp / "desk.sqlite3"
        self.rng = random.Random(seed)
        faults = None
        if args.faults:
            faults = Faults(rate=args.faults, retry_after=1, slow_seconds=args.slow, seed=seed)
        # The transcript (every message, press and fault, by chat) is what a failing run prints.
        self.emu = BotApiEmulator(token=TOKEN, faults=faults, record_transcript=True)
        self.wall0 = time.time() - (time.monotonic() - self.emu._t0)
        self.timeline: list[tuple[float, str]] = []  # kills and restarts, at emulator time
        self.tally = Tally()
        self.reports: list[Report] = []
        self.office: dict[str, SimUser] = {}
        self.officers: list[tuple[SimUser, str]] = []
        self.bot: Instances | None = None
        self.current: dict[int, str] = {}  # officer id -> step it is answering (None when idle)
        self.done = 0
        self.confirmed_to: dict[int, set[str]] = {}  # officer id -> numbers "✅ 已上报" showed them
        self.late_seen: set[tuple[int, int]] = set()  # (chat, message id) of late confirmations counted
        self.cut: str | None = None  # the drain's end (to_db): deadlines due by then must have fired

    def now(self) -> float:
        """Seconds since the emulator started: the time base of its transcript."""
        return time.monotonic() - self.emu._t0

    # ------------------------------------------------------------------ set-up

    async def register_people(self) -> None:
        from bot import config as cfg
        from bot.cli import _open_services
        from bot.services import registration

        config = cfg.load(self.config_path)
        s = await _open_services(config)
        invites: list[tuple[SimUser, str]] = []
        try:
            for i, (role, unit) in enumerate([("duty", "office"), ("director", "office"), ("leader", "office")]):
                user = self.emu.user(50_000 + i, f"办公室{i}")
                inv = await registration.create_invite(s, unit_code=unit, role=role, name=f"{role}{i}")
                invites.append((user, inv.code))
                self.office[role] = user
            for i in range(self.args.officers):
                unit = UNITS[i % len(UNITS)]
                user = self.emu.user(60_000 + i, f"信息员{i}")
                inv = await registration.create_invite(s, unit_code=unit, role="officer", name=f"信息员{i:03d}")
                invites.append((user, inv.code))
                self.officers.append((user, unit))
        finally:
            await s.db.close()
        assert self.bot is not None
        await self.bot.start()
        for user, code in invites:
            await user.send_command("/start", code)
        for user, _ in invites:
            await user.wait_for("欢迎", timeout=60)

    def plan(self) -> None:
        per = [0] * len(self.officers)
        for i in range(self.args.reports):
            k = i % len(self.officers)
            per[k] += 1
            user, unit = self.officers[k]
            self.reports.append(Report(
                index=i, officer=user, unit=unit, category=self.rng.choice(CATEGORIES),
                backdated=self.rng.random() < self.args.backdated,
                place=f"路口{i}号 <b>&amp;",
                casualties=(self.rng.randint(0, 3), self.rng.randint(0, 9), 0),
                description=f"chaos#{i:05d} 情况描述 <i>{self.rng.randint(0, 10**6)}</i>",
            ))

    # ------------------------------------------------------------------ chaos

    async def killer(self, stop: asyncio.Event) -> None:
        assert self.bot is not None
        total = self.args.reports
        # Spread the kills over the run: kill number i once about i/(kills+1) of the reports are done.
        for i in range(self.args.kills):
            target = int(total * (i + 1) / (self.args.kills + 1))
            while self.done < target and not stop.is_set():
                await asyncio.sleep(0.05)
            if self.done < target:
                return  # the dialogues ended short of it
            # A random moment, not a step boundary; if the last reports were filed meanwhile, the kill
            # still comes (among deadlines and queued messages): a run makes the kills it was asked for.
            await asyncio.sleep(self.rng.uniform(0.0, 0.6))
            if len(self.bot.procs) > 1:
                await self.fail_over()
                continue
            await self.bot.kill_active()
            self.tally.kills += 1
            self.timeline.append((self.now(), f"✖ kill -9 #{self.tally.kills}"))
            # The restarted bot cannot know a 429 the dead one was waiting out; re-asking its question
            # at once is no early retry (Telegram would refuse it again, and that 429 it does wait out).
            self.emu_retry.blocked_until.clear()
            await asyncio.sleep(self.rng.uniform(0.05, 0.5))
            while self.emu.stalled_requests:  # a send of the dead bot held by a "slow" fault lands when released
                await asyncio.sleep(0.01)
            # Dead meanwhile: its rows stay as they were; the emulator has carried out what reached it.
            in_flight = self.in_flight()
            self.tally.in_flight_at_kills += in_flight
            self.timeline.append((self.now(), f"▶ restart #{self.tally.kills} ({in_flight} messages were in flight)"))
            await self.bot.restart(self.bot.active)
            self.tally.restarts += 1
            self.timeline.append((self.now(), f"▶ restarted bot polls (#{self.tally.restarts})"))

    async def fail_over(self) -> None:
        """Kill the ACTIVE instance; a standby takes over with no pause of ours (it is already racing:
        the messages in flight are counted at once, on a look opened before the kill); once it polls,
        the killed one is started again and comes back as a standby."""
        assert isinstance(self.bot, Instances)
        with self.db() as conn:
            killed = await self.bot.kill_active()
            killed_at = time.monotonic()
            stats = self.emu.stats.requests
            polls, calls = stats.get("getUpdates", 0), sum(stats.values())
            self.tally.kills += 1
            self.timeline.append((self.now(), f"✖ kill -9 #{self.tally.kills} of the active instance {killed.pid}"))
            self.emu_retry.blocked_until.clear()
            while self.emu.stalled_requests:
                await asyncio.sleep(0.01)
            in_flight = self.in_flight(conn)
        self.tally.in_flight_at_kills += in_flight
        self.timeline.append((self.now(), f"  ({in_flight} messages were in flight)"))
        took = await self.bot.take_over(killed_at, polls, calls, within=3 * self.args.lease + 60)
        self.timeline.append((self.now(), f"⇄ standby {took.pid} polls {took.first_poll:.2f} s after the kill"
                                          f" (first call {took.first_call:.2f} s, status row {took.status_row:.2f} s)"))
        await self.bot.start_standby(killed)
        self.tally.restarts += 1
        self.timeline.append((self.now(), f"▶ the killed one is back as a standby ({killed.pid},"
                                          f" #{self.tally.restarts})"))

    async def progress(self, stop: asyncio.Event) -> None:
        while not stop.is_set() and self.args.verbose:
            await asyncio.sleep(5)
            steps = Counter(self.current.values())
            if self.args.verbose > 1 and self.current:
                uid = next(iter(self.current))
                for m in self.emu.messages(uid, include_user=True)[-6:]:
                    print("      ", m.summary()[:150], file=sys.stderr)
                user = self.emu.get_user(uid)
                print("      answers:", user.callback_answers[-3:] if user else [], file=sys.stderr)
            stats = self.emu.stats
            print(f"  … {self.done}/{len(self.reports)} confirmed, {self.tally.kills} kills,"
                  f" {self.tally.resends} resends, steps {dict(steps)}, pending updates {self.emu.pending_updates},"
                  f" polls {stats.requests.get('getUpdates', 0)}, errors {dict(stats.errors)}"
                  f" req {dict(stats.requests)}", file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ run

    async def run(self) -> dict[str, Any]:
        await self.emu.start()
        self.config_path = write_config(self.tmp, self.emu, self.args.forward, self.target,
                                        self.args.lease if self.args.instances > 1 else None)
        self.bot = Instances(self.config_path, self.emu, self.tmp, self.args.instances, self.db)
        self.emu.faults, faults = None, self.emu.faults  # no faults while registering
        try:
            await self.register_people()
            self.emu.faults = faults
            self.emu_retry = RetryWatch(self.emu)
            self.plan()
            t0 = time.monotonic()
            stop = asyncio.Event()
            killer = asyncio.create_task(self.killer(stop))
            progress = asyncio.create_task(self.progress(stop))
            await asyncio.gather(*(self.officer_loop(k) for k in range(len(self.officers))))
            stop.set()
            await killer
            progress.cancel()
            dialogue_s = time.monotonic() - t0
            # Let every due deadline fire and every message go out, then stop cleanly.
            await self.drain()
            self.emu.faults = None
            await asyncio.sleep(0.5)
            code = await self.bot.stop()
            total_s = time.monotonic() - t0
            result = check(self, dialogue_s, total_s, code)
            if result["problems"]:
                result["evidence"] = self.evidence(result["problem_reports"][:self.args.explain])
            return result
        finally:
            self.bot.kill_all()
            await self.emu.stop()

    def in_flight(self, look: Look | None = None) -> int:
        """Right after a kill: messages the emulator delivered whose outbox rows were still pending.
        The restarted bot sends those again (Telegram has no idempotency key): the only repeats
        the outbox allows, counted exactly instead of guessed per kill."""
        with contextlib.nullcontext(look) if look is not None else self.db() as conn:
            rows = conn.execute("SELECT chat_id, payload, status FROM outbox WHERE method='send_message'").fetchall()
        pending: Counter[tuple[int, str]] = Counter()
        marked: Counter[tuple[int, str]] = Counter()
        for r in rows:
            key = (r["chat_id"], json.loads(r["payload"])["text"])
            (pending if r["status"] == "pending" else marked)[key] += 1
        delivered = Counter((chat, m.source_text or "") for chat in {c for c, _ in pending}
                            for m in self.emu.messages(chat))
        return sum(min(n, max(0, delivered[k] - marked[k])) for k, n in pending.items())

    def db(self) -> Look:
        return look(self.target)

    async def drain(self) -> None:
        """Until every forward reminder fired, the outbox is empty, and no deadline is due now or
        within QUIET_S: as long as it keeps moving. Then `cut` is that moment: the checks hold the
        deadlines due by it to "fired once" (one coming due while the bot stops is not its miss).

        Telegram allows about one message a second per chat, so a duty officer alerted about
        500 incidents in five minutes is still being sent to for a while after the last report.
        """
        loop = asyncio.get_running_loop()
        last, moved = None, loop.time()
        while loop.time() - moved < 60:
            at = datetime.now(UTC)
            with self.db() as conn:
                pending = conn.execute("SELECT count(*) FROM outbox WHERE status='pending'").fetchone()[0]
                unfired = conn.execute("SELECT count(*) FROM deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL "
                                       "AND kind='incident.forward_remind'").fetchone()[0]
                soon = conn.execute("SELECT count(*) FROM deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL "
                                    "AND due_at <= ?", (to_db(at + timedelta(seconds=QUIET_S)),)).fetchone()[0]
            if pending == 0 and unfired == 0 and soon == 0:
                self.cut = to_db(at)
                await self.emu.wait_idle(quiet=0.5, timeout=30)
                return
            if (pending, unfired, soon) != last:
                last, moved = (pending, unfired, soon), loop.time()
                if self.args.verbose:
                    print(f"  … draining: {pending} messages queued, {unfired} reminders not yet fired,"
                          f" {soon} deadlines due within {QUIET_S:g} s",
                          file=sys.stderr, flush=True)
            await asyncio.sleep(1.0)

    # ------------------------------------------------------------------ evidence

    def evidence(self, indices: list[int]) -> list[str]:
        """What to follow each of these reports by (bench/chaos_evidence.py)."""
        others = tuple(p.log_path for p in self.bot.procs[1:]) if self.bot is not None else ()
        scene = Scene(self.emu, self.timeline, self.target, self.tmp / "bot.log", self.wall0, others)
        out = []
        for i in indices:
            rep = self.reports[i]
            out.append(explain(scene, i, rep.officer, rep.description, rep.dialogue))
        return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=(SQLITE, POSTGRES), default=SQLITE,
                   help="the bot's database: a SQLite file (default) or a fresh schema on the PostgreSQL test server"
                        " (DUTYDESK_TEST_PG, else 127.0.0.1:5432), dropped after unless kept")
    p.add_argument("--instances", type=int, default=1,
                   help="`dutydesk run` processes on the same config and database: one active, the others standby;"
                        " each kill takes the active one and the failover is timed (default 1: kill and restart)")
    p.add_argument("--lease", type=float, default=5.0,
                   help="with --instances > 1: [ha] lease_seconds for the run (short, so takeovers fit; ≥ 4)")
    p.add_argument("--reports", type=int, default=500)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--officers", type=int, default=40)
    p.add_argument("--backdated", type=float, default=0.2, help="share of reports typed as 1 hour ago (deadlines due)")
    p.add_argument("--forward", type=int, default=20, help="seconds until the forward reminder (a deadline)")
    p.add_argument("--faults", type=float, default=0.0, help="Bot API fault rate, e.g. 0.1")
    p.add_argument("--slow", type=float, default=1.0, help="seconds a 'slow' fault stalls")
    p.add_argument("--answer-timeout", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=None, help="replay this seed (default: a fresh one, printed first)")
    p.add_argument("--runs", type=int, default=1,
                   help="run N times (fresh seeds unless --seed), stop at the first failure")
    p.add_argument("--explain", type=int, default=3, help="on failure, follow at most this many reports in full")
    p.add_argument("-v", "--verbose", action="count", default=0, help="print progress every 5 s")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (database, bot log); "
                                                       "a failing run always keeps it")
    return p.parse_args(argv)


def replay_command(args: argparse.Namespace, seed: int) -> str:
    """The command that runs `args` again on `seed` (options left at their defaults omitted)."""
    defaults = vars(parse_args([]))
    parts = ["python -m bench.chaos"]
    for name, value in vars(args).items():
        if name in ("seed", "runs", "verbose", "keep") or (
                value == defaults.get(name) and name not in ("reports", "kills")):
            continue
        option = f"--{name.replace('_', '-')}"
        parts.append(f"{option} {value:g}" if isinstance(value, float) else f"{option} {value}")
    return " ".join(parts + [f"--seed {seed}"])


async def run(args: argparse.Namespace) -> dict[str, Any]:
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    # First, before anything can go wrong: the seed, so that any run can be replayed.
    print(f"chaos: seed {seed} (replay: {replay_command(args, seed)})", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="dutydesk-chaos-"))
    keep = args.keep
    chaos = Chaos(args, tmp, seed)
    try:
        result = await chaos.run()
        keep = keep or bool(result["problems"])  # a failing run's database and log are its evidence
        result["folder"] = str(tmp) if keep else ""
        result["database"] = str(chaos.target) if keep else ""
        return result
    except BaseException:
        keep = True
        print(f"chaos: seed {seed}: the run stopped before its checks; kept {tmp} (database {chaos.target})",
              file=sys.stderr, flush=True)
        raise
    finally:
        if not keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
            if args.backend == POSTGRES:
                await drop_schema(str(chaos.target))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Stopped with SIGTERM (a soak cut short): unwind as for Ctrl-C, so the bot child is killed too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if args.backend == POSTGRES and (problem := asyncio.run(postgres_problem())) is not None:
        print(f"chaos: --backend postgres: {problem}", file=sys.stderr, flush=True)
        return 2
    results: list[dict[str, Any]] = []
    for n in range(1, args.runs + 1):
        if args.runs > 1:
            print(f"chaos run {n}/{args.runs}", flush=True)
        try:
            result = asyncio.run(run(args))
        except KeyboardInterrupt:
            print(f"chaos: interrupted in run {n}", file=sys.stderr, flush=True)
            if results:
                print(render_tally(results, args.runs), flush=True)
            return 130
        print(render(result), flush=True)
        results.append(result)
        if result["problems"]:
            break
    if args.runs > 1:
        print(render_tally(results, args.runs), flush=True)
    return 1 if results[-1]["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
