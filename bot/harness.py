"""DutyDesk on the bundled emulator: one harness for tests, `dutydesk demo` and benchmarks.

Starts the Bot API emulator and the real Application (through PTB's own HTTP layer),
registers simulated people by invite, and knows when everything has settled.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import inspect
import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot import config as cfg
from bot.app import Runtime, telegram_limits
from bot.clock import Clock, FakeClock
from bot.config import Config
from bot.emulator import BotApiEmulator, RateLimits, SimUser
from bot.pace import Pace, SkipPace, WallPace
from bot.pacing import Pacing
from bot.services import registration
from storage import outbox

TOKEN = "123456:DEMO-TOKEN-not-secret"


TEST_ENGINE_ENV = "DUTYDESK_TEST_ENGINE"
TEST_PG_ENV = "DUTYDESK_TEST_PG"
TEST_PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def test_server() -> str:
    """The PostgreSQL server the tests use: DUTYDESK_TEST_PG, else the local one."""
    return os.environ.get(TEST_PG_ENV) or TEST_PG_DEFAULT


async def test_server_problem() -> str | None:
    """None when the test server answers; else why not, in one line (DUTYDESK_TEST_PG=off: on purpose)."""
    if os.environ.get(TEST_PG_ENV, "").lower() == "off":
        return f"{TEST_PG_ENV}=off"
    import asyncpg

    try:
        conn = await asyncpg.connect(test_server(), timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return (f"no PostgreSQL at {test_server()} ({type(exc).__name__}: {exc}); "
                f"set {TEST_PG_ENV} to a server's address")
    await conn.close()
    return None


def scratch_schema(prefix: str = "desk") -> str:
    """An address on the test server naming a fresh schema (PgDatabase creates it at open)."""
    server = test_server()  # it may carry settings of its own (?synchronous_commit=off): the schema joins them
    return f"{server}{'&' if '?' in server else '?'}search_path={prefix}_{uuid.uuid4().hex[:12]}"


_EMPTY_SCHEMAS: list[str] = []  # this process's desks' schemas, emptied, for the next desk
_MADE_SCHEMAS: list[str] = []  # every schema this process made for a desk and has not dropped


def desk_schema() -> str:
    """A schema for a desk on the test server: one an earlier desk of this process left empty, else a
    fresh one. Those left are dropped when the process ends."""
    if _EMPTY_SCHEMAS:
        return _EMPTY_SCHEMAS.pop()
    target = scratch_schema()
    _MADE_SCHEMAS.append(target)
    return target


async def done_with_schema(target: str) -> None:
    from storage.peek import drop_schema, empty_schema

    if await empty_schema(target):
        _EMPTY_SCHEMAS.append(target)
    else:
        await drop_schema(target)
        _MADE_SCHEMAS.remove(target)


@atexit.register
def _drop_left() -> None:
    if not _MADE_SCHEMAS:
        return
    from storage.peek import drop_schema

    async def drop_all() -> None:
        for target in _MADE_SCHEMAS:
            await drop_schema(target)

    with contextlib.suppress(Exception):  # the server may be gone by then: the schemas stay, nothing else
        asyncio.run(drop_all())


def demo_config(db_path: Path | str, base_url: str = "", base_file_url: str = "", **incident: Any) -> Config:
    """The shipped example config, pointed at `db_path` and the emulator."""
    from bot.cli import example_config

    base = cfg.loads(example_config(), "<example>")
    general = dataclasses.replace(base.general, database=str(db_path))
    telegram = dataclasses.replace(base.telegram, base_url=base_url or base.telegram.base_url,
                                   base_file_url=base_file_url or base.telegram.base_file_url,
                                   bot_username="dutydesk_bot")
    inc = dataclasses.replace(base.incident, **incident) if incident else base.incident
    return base.replace(general=general, telegram=telegram, incident=inc, source=str(db_path))


def example_config_text(emu: BotApiEmulator, database: Path | str, *, bot_username: str | None = None) -> str:
    """The shipped example config file (`dutydesk init`) pointed at `database` and the emulator:
    what a spawned `dutydesk run` reads in the crash tests and the benchmarks."""
    import re

    from bot.cli import example_config

    text = example_config()
    # The bot keeps to the limits this emulator enforces (none: no pacing), as `Desk` does.
    lim = emu.rate_limits or RateLimits(global_per_second=0, per_chat_per_second=0, group_per_minute=0)
    for key, value in (("database", str(database)), ("base_url", emu.base_url), ("base_file_url", emu.base_file_url),
                       ("bot_username", bot_username)):
        if value is not None:
            line = f'{key} = "{value}"'.replace("\\", r"\\")  # a replacement template: backslashes doubled
            text = re.sub(rf'(?m)^{key} = "[^"\n]*"', line, text, count=1)
    for key in ("global_per_second", "per_chat_per_second", "group_per_minute"):
        text = re.sub(rf"(?m)^{key} = \d+", f"{key} = {getattr(lim, key)}", text, count=1)
    return text


def _paced_like(config: Config, limits: RateLimits | None) -> Config:
    """The bot keeps to the limits the emulator enforces; with none (most tests), it does not pace
    itself either, as against a local Bot API server: a test's dialogue is not held to a reply a second."""
    lim = limits or RateLimits(global_per_second=0, per_chat_per_second=0, group_per_minute=0)
    return config.replace(telegram=dataclasses.replace(
        config.telegram, global_per_second=lim.global_per_second, per_chat_per_second=lim.per_chat_per_second,
        group_per_minute=lim.group_per_minute))


class Desk:
    """Emulator + bot + simulated people. `async with Desk() as desk: ...`

    The bot keeps to Telegram's limits when the emulator enforces them (`rate_limits` given to it
    before the start, or `telegram_limits()` later), and otherwise does not pace itself."""

    def __init__(
        self, *, clock: Clock | None = None, db_path: Path | str | None = None, emulator: BotApiEmulator | None = None,
        config_overrides: dict[str, Any] | None = None, incident: dict[str, Any] | None = None,
        pace: Pace | None = None, engine: str | None = None,
    ) -> None:
        self.clock = clock if clock is not None else FakeClock()
        # Telegram's seconds for the outbox: on a FakeClock its paced waits are skipped, not slept
        # (bot/pace.py); the demo, on the system clock, goes at Telegram's real pace.
        self.pace: Pace = pace or (SkipPace() if isinstance(self.clock, FakeClock) else WallPace())
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dutydesk-")
            db_path = Path(self._tmp.name) / "desk.sqlite3"
        self.db_path = Path(db_path)
        # DUTYDESK_TEST_ENGINE=postgresql: the same desk on PostgreSQL, in a schema of its own (dropped at stop).
        postgres = (engine or os.environ.get(TEST_ENGINE_ENV, "")) == "postgresql"
        self.db_target = desk_schema() if self._tmp is not None and postgres else str(self.db_path)
        self.emu = emulator or BotApiEmulator(token=TOKEN, bot_username="dutydesk_bot")
        if isinstance(self.clock, FakeClock):  # messages are dated by the same clock as the bot's "now"
            fake = self.clock
            self.emu.clock = lambda: fake.now().timestamp()
        self.emu.limits_clock = self.pace.monotonic  # its flood limits judge the pacer on its own timeline
        self._own_emu = emulator is None
        self._incident = incident or {}
        self._overrides = config_overrides or {}
        self.config: Config | None = None
        self.runtime: Runtime | None = None
        self.people: dict[str, SimUser] = {}
        self._next_user_id = 10_001

    async def __aenter__(self) -> Desk:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> Desk:
        if self._own_emu and self.emu.port == 0:
            await self.emu.start()
        config = demo_config(self.db_target, self.emu.base_url, self.emu.base_file_url, **self._incident)
        if self._overrides:
            config = config.replace(**self._overrides)
        self.config = _paced_like(config, self.emu.rate_limits)
        await self.start_bot()
        return self

    async def start_bot(self) -> None:
        assert self.config is not None
        self.runtime = Runtime(self.config, self.emu.token, clock=self.clock, db_path=self.db_target, pace=self.pace)
        await self.runtime.start(poll_interval=0.0)
        # Deadlines due at start-up fire once the updates queued while the bot was down were handled.
        await asyncio.wait_for(self.runtime.deps.scheduler.released.wait(), 30)

    def telegram_limits(self, limits: RateLimits | None = RateLimits()) -> None:
        """Have the emulator enforce `limits` (None: none), and the bot keep to them, from now on."""
        self.emu.rate_limits = limits
        assert self.config is not None
        self.config = _paced_like(self.config, limits)
        if self.runtime is not None and self.runtime.app is not None:
            pacing = self.runtime.app.bot.rate_limiter
            assert isinstance(pacing, Pacing)
            pacing.configure(telegram_limits(self.config))

    async def stop_bot(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None

    async def restart(self) -> None:
        """Stop and start the bot on the same database (the emulator keeps running)."""
        await self.stop_bot()
        await self.start_bot()

    async def stop(self) -> None:
        await self.stop_bot()
        if self._own_emu:
            await self.emu.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        if self.on_postgres:
            await done_with_schema(self.db_target)

    @property
    def on_postgres(self) -> bool:
        return self.db_target != str(self.db_path)

    def sql(self) -> Any:
        """A look into the database from outside the bot, as sqlite3 gives (bot/harness_sql.py)."""
        if self.on_postgres:
            from storage.peek import PgSync

            return PgSync(self.db_target)
        import sqlite3

        return sqlite3.connect(self.db_path)

    def table_names(self) -> list[str]:
        from storage.address import schema_of
        from storage.peek import table_names

        return table_names(self.sql(), schema_of(self.db_target) if self.on_postgres else None)

    @property
    def services(self) -> Any:
        assert self.runtime is not None
        return self.runtime.deps.services

    @property
    def db(self) -> Any:
        return self.services.db

    async def register(self, key: str, name: str, unit: str, *roles: str, user_id: int | None = None) -> SimUser:
        """Create an invite and open its deep link as a new simulated person."""
        uid = user_id or self._next_user_id
        self._next_user_id = max(self._next_user_id, uid) + 1
        user = self.emu.user(uid, name)
        for role in roles:
            inv = await registration.create_invite(self.services, unit_code=unit, role=role, name=name)
            await user.send_command("/start", inv.code)
            await user.wait_for(lambda m: "欢迎" in (m.text or "") or "Welcome" in (m.text or ""), timeout=10)
        self.people[key] = user
        return user

    async def settle(self, timeout: float = 15.0) -> None:
        """Until nothing is left to do: every update was fetched and handled (the bot's next poll
        confirmed it), no deadline is firing, the outbox has nothing ready to send and sends
        nothing, and no request reached the emulator while that was checked. Waits on the bot's
        requests between checks, never for a fixed time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            seen = self.emu.activity
            ready = await self._ready_rows() if self._idle() else -1
            if ready == 0 and self._idle() and self.emu.activity == seen:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"not settled after {timeout} s: {max(ready, 0)} outbox rows ready, "
                                   f"{self.emu.pending_updates} updates unconfirmed")
            # The next request (a poll, a send) or the outbox's last pass finding nothing is what
            # changes any of it; the cap covers what changes without either (a deadline firing).
            await self._moved(seen, min(0.02, max(0.0, deadline - loop.time())))

    async def until(self, cond: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0) -> None:
        """Until `cond()` (which may be async) holds, looked at again after each request the bot makes
        (a message, an edit, a poll) rather than after a fixed sleep."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            seen = self.emu.activity
            held = cond()
            if inspect.isawaitable(held):
                held = await held
            if held:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self.emu.wait_moved(seen, min(0.05, max(0.0, deadline - loop.time())))

    async def _moved(self, seen: int, cap: float) -> None:
        """Until the emulator sees a request or a sender still busy (the outbox, robots and SMS) finds
        nothing more to send, at most `cap` s."""
        deps = self.runtime.deps if self.runtime is not None else None
        busy = [s for s in ((deps.sender, deps.channels) if deps else ()) if s is not None and not s.idle]
        if not busy:
            await self.emu.wait_moved(seen, cap)
            return
        waits = {asyncio.ensure_future(self.emu.wait_moved(seen, cap)),
                 *(asyncio.ensure_future(asyncio.wait_for(s.wait_idle(cap + 1), cap)) for s in busy)}
        _done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)

    def _idle(self) -> bool:
        if self.runtime is None or not self.emu.drained:
            return self.runtime is None and self.emu.drained
        deps = self.runtime.deps
        # On a SkipPace a row waiting out a 429 goes a moment later: wait for it. On real seconds
        # (the demo, the benchmarks) such a row is not waited for, only rows ready to go are.
        waits_out = isinstance(self.pace, SkipPace)
        channels = deps.channels  # group robots and SMS: nothing ready to send there either
        return (deps.scheduler.idle and (deps.sender is None or deps.sender.idle or not waits_out)
                and (channels is None or channels.idle))

    async def _ready_rows(self) -> int:
        if self.runtime is None:
            return 0
        now = self.pace.time()
        return sum(1 for r in await outbox.pending(self.db.conn, 1000) if r.not_before <= now)

    async def advance(self, delta: timedelta | None = None, **kw: float) -> datetime:
        """Move the fake clock; due deadlines fire; wait for their messages to go out."""
        assert isinstance(self.clock, FakeClock)
        now = await self.clock.advance(delta, **kw)
        await self.settle()
        return now
