"""The chaos run's bot process(es) (kill -9 and restart) and its watch on retries after a 429.

With `--instances N` (N > 1) the run starts N `dutydesk run` on the same config and database: the
first becomes active, the others wait as standbys (bot/lease.py). A kill takes the ACTIVE one; the
failover is timed from the kill to the standby's first Bot API call and its first getUpdates (the
emulator counts them), and to `desk_instances` (what `dutydesk status` reads) naming it active. The
killed one is started again once a standby has taken over, and comes back as a standby."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.chaos_db import Look
from bot.emulator import BotApiEmulator

TOKEN = "777001:CHAOS-token-never-in-logs"


class BotProcess:
    """`dutydesk run` as a child process; kill -9 and restart."""

    def __init__(self, config: Path, emu: BotApiEmulator, log_path: Path) -> None:
        self.config, self.emu, self.log_path = config, emu, log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.up = asyncio.Event()
        self.epoch = 0  # +1 at every kill

    def spawn(self) -> None:
        env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--config", str(self.config), "run"],
                                         env=env, stdout=log, stderr=log)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def start(self) -> None:
        polls = self.emu.stats.requests.get("getUpdates", 0)
        self.spawn()
        assert self.proc is not None
        for _ in range(600):
            if self.emu.stats.requests.get("getUpdates", 0) > polls:
                self.up.set()
                return
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError("bot did not start polling; see " + str(self.log_path))

    async def kill9(self) -> None:
        assert self.proc is not None
        self.up.clear()
        self.epoch += 1
        self.proc.send_signal(signal.SIGKILL)
        while self.proc.poll() is None:
            await asyncio.sleep(0.01)

    async def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        for _ in range(600):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.05)
        self.proc.kill()
        return -9


@dataclasses.dataclass(frozen=True)
class Failover:
    """One takeover, in seconds from the kill -9 of the active instance."""

    first_call: float  # the standby's first Bot API request (getMe, as it starts)
    first_poll: float  # its first getUpdates: it serves
    status_row: float  # desk_instances (`dutydesk status`) names it active (polled every 0.1 s)
    pid: int  # the instance that took over


class Instances:
    """N `dutydesk run` on one config and database, one active and the others standing by; what the
    officers wait on (`up`: the active instance polls; `epoch`: +1 at every kill)."""

    def __init__(self, config: Path, emu: BotApiEmulator, folder: Path, n: int, look: Callable[[], Look]) -> None:
        self.emu, self.look = emu, look
        self.procs = [BotProcess(config, emu, folder / ("bot.log" if i == 0 else f"bot{i + 1}.log")) for i in range(n)]
        self.active = self.procs[0]
        self.up = asyncio.Event()
        self.epoch = 0
        self.failovers: list[Failover] = []

    @property
    def log_path(self) -> Path:
        return self.procs[0].log_path

    @property
    def standbys(self) -> list[BotProcess]:
        return [p for p in self.procs if p is not self.active]

    async def start(self) -> None:
        """The first instance until it polls, then each other one until its row says standby."""
        await self.active.start()
        self.up.set()
        for proc in self.standbys:
            await self.start_standby(proc)

    async def start_standby(self, proc: BotProcess) -> None:
        proc.spawn()
        await self._until_row(proc, "standby", 60.0)

    async def kill_active(self) -> BotProcess:
        self.up.clear()
        self.epoch += 1
        killed = self.active
        await killed.kill9()
        return killed

    async def restart(self, killed: BotProcess) -> None:
        """One instance: start the killed one again (it takes the lease and polls). More: see take_over."""
        await killed.start()
        self.up.set()

    async def take_over(self, killed_at: float, polls: int, calls: int, within: float) -> Failover:
        """After the active one's kill (at `killed_at`, time.monotonic(); the emulator had counted `polls`
        getUpdates and `calls` requests by then): until a standby polls, and its row says active."""
        loop = asyncio.get_running_loop()
        first_call: float | None = None
        while self.emu.stats.requests.get("getUpdates", 0) == polls:
            if first_call is None and sum(self.emu.stats.requests.values()) > calls:
                first_call = time.monotonic() - killed_at
            if time.monotonic() - killed_at > within:
                raise RuntimeError(f"no standby polled within {within:g} s of the kill; see {self.log_path.parent}")
            if not any(p.alive() for p in self.standbys):
                raise RuntimeError(f"every standby exited; see {self.log_path.parent}")
            await asyncio.sleep(0.01)
        first_poll = time.monotonic() - killed_at
        self.up.set()
        pid = await loop.run_in_executor(None, self._wait_active_row, killed_at + within)
        status_row = time.monotonic() - killed_at
        self.active = next(p for p in self.procs if p.alive() and p.pid == pid)
        took = Failover(first_call if first_call is not None else first_poll, first_poll, status_row, pid)
        self.failovers.append(took)
        return took

    def _wait_active_row(self, until: float) -> int:
        """The pid desk_instances names active, once it is a standby's (on a thread: the look is blocking)."""
        standbys = {p.pid for p in self.standbys if p.alive()}
        with self.look() as conn:
            while time.monotonic() < until:
                rows = conn.execute("SELECT pid FROM desk_instances WHERE role='active'").fetchall()
                found = [int(r[0]) for r in rows if int(r[0]) in standbys]
                if found:
                    return found[0]
                time.sleep(0.1)
        raise RuntimeError("no standby's row says active; see " + str(self.log_path.parent))

    async def _until_row(self, proc: BotProcess, role: str, within: float) -> None:
        def wait() -> None:
            until = time.monotonic() + within
            with self.look() as conn:
                while time.monotonic() < until and proc.alive():
                    if conn.execute("SELECT 1 FROM desk_instances WHERE pid=? AND role=?", (proc.pid, role)).fetchone():
                        return
                    time.sleep(0.1)
            raise RuntimeError(f"instance {proc.pid} not {role} after {within:g} s; see {proc.log_path}")

        await asyncio.get_running_loop().run_in_executor(None, wait)

    async def stop(self) -> int:
        """SIGTERM to every instance; 0 when each exited cleanly, else the first other code."""
        codes = [await p.stop() for p in [*self.standbys, self.active]]
        return next((c for c in codes if c != 0), 0)

    def kill_all(self) -> None:
        for p in self.procs:
            if p.alive():
                assert p.proc is not None
                p.proc.kill()


class RetryWatch:
    """Counts retries of a request refused with 429 that came before its retry_after.

    A retry is the same send again: same chat, method and text (or message edited). Other sends
    to that chat in the meantime are not retries (Telegram would answer them with 429 too, which
    the bot then handles in turn).
    """

    def __init__(self, emu: BotApiEmulator) -> None:
        from bot.emulator.limits import is_sending_method

        self.blocked_until: dict[tuple[object, ...], float] = {}
        self.violations = 0
        self.retried_429 = 0
        server = emu._server
        assert server is not None
        inject, run = server._inject, server._run

        def key(method: str, params: dict[str, Any]) -> tuple[object, ...]:
            text = params.get("text") or params.get("caption")
            return (params.get("chat_id"), method, text, params.get("message_id"))

        def watched_inject(fault: str, method: str, params: dict[str, Any]) -> Any:
            if is_sending_method(method):
                self._arrive(key(method, params))
                if fault == "429":
                    ra = emu.faults.retry_after if emu.faults is not None else 1
                    self.blocked_until[key(method, params)] = time.monotonic() + ra
            return inject(fault, method, params)

        def watched_run(name: str, impl: Any, params: dict[str, Any], files: Any) -> Any:
            if is_sending_method(name):
                self._arrive(key(name, params))
            return run(name, impl, params, files)

        server._inject = watched_inject  # type: ignore[method-assign]
        server._run = watched_run  # type: ignore[method-assign]

    def _arrive(self, k: tuple[object, ...]) -> None:
        until = self.blocked_until.pop(k, None)
        if until is None:
            return
        if time.monotonic() < until - 0.05:
            self.violations += 1
        else:
            self.retried_429 += 1
