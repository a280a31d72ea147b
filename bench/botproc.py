"""The bot under test as its own OS process, the way production runs it.

Telegram's servers are elsewhere in production; running the emulator and the simulated people
in the bot's process and event loop would take their CPU from the bot and hide its own cost.
So the bench process keeps the emulator, the people, the seeding and the clock, and every
benchmark that times the bot spawns it through `bot_process` (one spawn path for all)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Coroutine, Sequence
from pathlib import Path
from typing import IO, Any

import psutil

from bot.emulator import BotApiEmulator, SimMessage
from bot.emulator.emulator import Matcher
from bot.harness import example_config_text

log = logging.getLogger(__name__)

DESK_ARRANGEMENT = "bot: `dutydesk run` in its own process; emulator + simulated people: bench process"
ECHO_ARRANGEMENT = "bot: `python -m bench.echo_bot` in its own process; emulator + simulated people: bench process"
IN_PROCESS_ARRANGEMENT = "bot, emulator + simulated people: all in the bench process, one event loop"

STOP_GRACE_S = 15.0  # SIGTERM, then this long for a clean shutdown before SIGKILL


class BotDied(RuntimeError):
    """The bot process exited (or never answered) while the benchmark needed it."""


@dataclasses.dataclass
class BotProcess:
    proc: asyncio.subprocess.Process
    log_file: IO[bytes]  # the child's stdout + stderr
    spawned_at: float  # time.time() just before the spawn
    answer: SimMessage | None = None  # its answer to the warm-up command

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        return psutil.Process(self.pid).memory_info().rss / 2**20

    def cpu_s(self) -> float:
        """User + system CPU seconds the bot process has used so far."""
        t = psutil.Process(self.pid).cpu_times()
        return t.user + t.system

    def tail(self, chars: int = 3000) -> str:
        # pread: the child shares this file's offset, so seeking here would move its writes.
        fd = self.log_file.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - chars)
        return os.pread(fd, size - start, start).decode(errors="replace")


# Nobody acknowledges in these runs: the shipped policies' reminders (after 1 min for a fire) would go to
# the same few recipients as the next alerts and time the policy, not the alert path. A policy whose
# first wait outlasts any run keeps what an alert's transaction does for it (resolve the first step,
# plant the next) and fires nothing; `python -m bench failover` times the other channels.
BENCH_ESCALATION = """
[escalation]
incident = "bench"
major = "bench"
[[escalation.policies]]
name = "bench"
[[escalation.policies.steps]]
targets = ["duty@shift"]
delay = "1d"
"""


def write_config(path: Path, database: Path | str, emu: BotApiEmulator) -> Path:
    """The shipped example config at `path`, pointed at `database` (a SQLite file or a postgresql://
    address) and the emulator."""
    path.write_text(example_config_text(emu, database, bot_username="dutydesk_bot") + BENCH_ESCALATION,
                    encoding="utf-8")
    return path


def dutydesk_command(config: Path) -> list[str]:
    exe = shutil.which("dutydesk", path=str(Path(sys.executable).parent))
    if exe:
        return [exe, "--config", str(config), "run"]
    return [sys.executable, "-m", "bot.cli", "--config", str(config), "run"]


def echo_command(emu: BotApiEmulator, transport: str = "httpx") -> list[str]:
    return [sys.executable, "-m", "bench.echo_bot", "--base-url", emu.base_url,
            "--base-file-url", emu.base_file_url, "--token", emu.token, "--transport", transport]


@contextlib.asynccontextmanager
async def bot_process(argv: Sequence[str], emu: BotApiEmulator, *, warmup: int, command: str = "/help",
                      expect: Matcher = None, env: dict[str, str] | None = None, timeout: float = 60.0,
                      name: str = "bot") -> AsyncIterator[BotProcess]:
    """Spawn `argv`, have simulated user `warmup` send `command`, yield once the bot answered.

    If the bot exits before answering, never answers, or dies while the body runs, raise
    BotDied with the tail of its output. At exit: SIGTERM and wait (SIGKILL after a grace)."""
    user = emu.get_user(warmup)
    assert user is not None, f"warm-up user {warmup} is not known to the emulator"
    with tempfile.TemporaryFile(prefix="dutydesk-bench-bot-", suffix=".log") as out:
        spawned_at = time.time()
        proc = await asyncio.create_subprocess_exec(*argv, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=out, stderr=out)
        bot = BotProcess(proc, out, spawned_at)
        try:
            await user.send_command(command)
            bot.answer = await _first_answer(bot, user.wait_for(expect, timeout=timeout), name, timeout)
            async with _watch(bot, name):
                yield bot
        finally:
            await _terminate(bot, name)


async def _first_answer(bot: BotProcess, waiting: Coroutine[Any, Any, SimMessage], name: str,
                        timeout: float) -> SimMessage:
    """The warm-up answer, or BotDied as soon as the process exits (no waiting out the timeout)."""
    answer = asyncio.ensure_future(waiting)
    exited = asyncio.ensure_future(bot.proc.wait())
    try:
        await asyncio.wait({answer, exited}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for fut in (answer, exited):
            if not fut.done():
                fut.cancel()
    if answer.done() and not answer.cancelled():
        try:
            return answer.result()
        except TimeoutError:
            raise BotDied(f"{name} did not answer in {timeout:g} s; its output ends:\n{bot.tail()}") from None
    raise BotDied(f"{name} exited with {bot.proc.returncode} before answering; its output ends:\n{bot.tail()}")


@contextlib.asynccontextmanager
async def _watch(bot: BotProcess, name: str) -> AsyncIterator[None]:
    """Cancel the body if the bot exits under it, and turn that into BotDied with its output."""
    host = asyncio.current_task()
    assert host is not None
    died = False

    async def watcher() -> None:
        nonlocal died
        await bot.proc.wait()
        died = True
        host.cancel()

    task = asyncio.create_task(watcher())
    try:
        yield
    except asyncio.CancelledError:
        if died and host.uncancel() == 0:
            raise BotDied(f"{name} exited with {bot.proc.returncode} during the run; its output ends:\n"
                          f"{bot.tail()}") from None
        raise
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _terminate(bot: BotProcess, name: str) -> None:
    """SIGTERM and wait; an unclean stop is logged (the figures stand, but the bot has a bug)."""
    proc = bot.proc
    if proc.returncode is not None:
        return  # already dead: BotDied said why
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
    except TimeoutError:
        log.warning("%s ignored SIGTERM for %g s; killing it", name, STOP_GRACE_S)
        proc.kill()
        await proc.wait()
    if proc.returncode not in (0, -signal.SIGTERM):
        log.warning("%s exited with %s after SIGTERM; its output ends:\n%s", name, proc.returncode, bot.tail())


@contextlib.asynccontextmanager
async def dutydesk(database: Path | str, emu: BotApiEmulator, *, warmup: int, timeout: float = 60.0,
                   config: Path | None = None) -> AsyncIterator[BotProcess]:
    """`dutydesk run` on `database` (a SQLite file or a postgresql:// address) against `emu`, answering /help
    from member `warmup` first. Its config file: `config`, else next to the SQLite file."""
    config = write_config(config or Path(database).with_suffix(".toml"), database, emu)
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=emu.token)
    async with bot_process(dutydesk_command(config), emu, warmup=warmup, env=env, timeout=timeout,
                           name="dutydesk run") as bot:
        yield bot


class CpuWindow:
    """CPU used by the bot process(es) and by the bench process (emulator + people) over a window;
    with `server=True`, also by the PostgreSQL server processes serving the bots' connections."""

    def __init__(self, *bots: BotProcess, server: bool = False) -> None:
        self.bots = bots
        self.server = server
        self.bot_s = self.bench_s = self.wall_s = self.steal_s = self.server_s = 0.0

    def _bots_cpu_s(self) -> float:
        return sum(b.cpu_s() for b in self.bots)

    def __enter__(self) -> CpuWindow:
        self._t0 = time.perf_counter()
        self._bot0 = self._bots_cpu_s()
        self._bench0 = _own_cpu_s()
        self._steal0 = _steal_s()
        self._server0 = _backends_cpu_s(self.bots) if self.server else {}
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._t0
        self.bot_s = self._bots_cpu_s() - self._bot0
        self.bench_s = _own_cpu_s() - self._bench0
        self.steal_s = _steal_s() - self._steal0
        if self.server:  # a pool connection opened during the window counts from 0
            self.server_s = sum(t - self._server0.get(pid, 0.0) for pid, t in _backends_cpu_s(self.bots).items())

    def percent(self) -> tuple[float, float]:
        """(bots, bench) in % of one core."""
        if not self.wall_s:
            return float("nan"), float("nan")
        return 100 * self.bot_s / self.wall_s, 100 * self.bench_s / self.wall_s

    def server_percent(self) -> float:
        """The PostgreSQL backends serving the bots, in % of one core (server=True)."""
        return 100 * self.server_s / self.wall_s if self.wall_s else float("nan")

    def steal_percent(self) -> float:
        """CPU the hypervisor gave to other guests while ours wanted it (all cores), in % of one
        core: on a shared VM the same code runs ~15 % slower when this reads 5 than when it reads 0."""
        return 100 * self.steal_s / self.wall_s if self.wall_s else float("nan")


def _backends_cpu_s(bots: Sequence[BotProcess]) -> dict[int, float]:
    """pid → CPU seconds of each PostgreSQL backend whose client is one of the bots' TCP connections
    (a backend's process title names its client: "postgres: 15/main: postgres test 127.0.0.1(54321) idle").
    Other sessions on a shared server are left out; its WAL writer and checkpointer too."""
    ports = set()
    for b in bots:
        with contextlib.suppress(psutil.Error):
            ports |= {c.laddr.port for c in psutil.Process(b.pid).net_connections(kind="tcp") if c.raddr}
    found: dict[int, float] = {}
    for proc in psutil.process_iter(["name", "cmdline"]):
        title = " ".join(proc.info["cmdline"] or ())
        m = _BACKEND.search(title)
        if m and int(m.group(1)) in ports:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                found[proc.pid] = t.user + t.system
    return found


_BACKEND = re.compile(r"^postgres: .*\((\d+)\) ")


def _steal_s() -> float:
    return float(getattr(psutil.cpu_times(), "steal", 0.0))  # Linux only; elsewhere 0


def _own_cpu_s() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system
