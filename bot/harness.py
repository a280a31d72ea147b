"""DutyDesk on the bundled emulator: one harness for tests, `dutydesk demo` and benchmarks.

Starts the Bot API emulator and the real Application (through PTB's own HTTP layer),
registers simulated people by invite, and knows when everything has settled.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot import config as cfg
from bot.app import Runtime
from bot.clock import Clock, FakeClock
from bot.config import Config
from bot.emulator import BotApiEmulator, SimUser
from bot.services import registration
from storage import outbox

TOKEN = "123456:DEMO-TOKEN-not-secret"


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
    for key, value in (("database", str(database)), ("base_url", emu.base_url), ("base_file_url", emu.base_file_url),
                       ("bot_username", bot_username)):
        if value is not None:
            line = f'{key} = "{value}"'.replace("\\", r"\\")  # a replacement template: backslashes doubled
            text = re.sub(rf'(?m)^{key} = "[^"\n]*"', line, text, count=1)
    return text


class Desk:
    """Emulator + bot + simulated people. `async with Desk() as desk: ...`"""

    def __init__(
        self, *, clock: Clock | None = None, db_path: Path | str | None = None, emulator: BotApiEmulator | None = None,
        config_overrides: dict[str, Any] | None = None, incident: dict[str, Any] | None = None,
    ) -> None:
        self.clock = clock if clock is not None else FakeClock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dutydesk-")
            db_path = Path(self._tmp.name) / "desk.sqlite3"
        self.db_path = Path(db_path)
        self.emu = emulator or BotApiEmulator(token=TOKEN, bot_username="dutydesk_bot")
        if isinstance(self.clock, FakeClock):  # messages are dated by the same clock as the bot's "now"
            fake = self.clock
            self.emu.clock = lambda: fake.now().timestamp()
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
        config = demo_config(self.db_path, self.emu.base_url, self.emu.base_file_url, **self._incident)
        if self._overrides:
            config = config.replace(**self._overrides)
        self.config = config
        await self.start_bot()
        return self

    async def start_bot(self) -> None:
        assert self.config is not None
        self.runtime = Runtime(self.config, self.emu.token, clock=self.clock, db_path=str(self.db_path))
        await self.runtime.start(poll_interval=0.0)
        # Deadlines due at start-up fire once the updates queued while the bot was down were handled.
        await asyncio.wait_for(self.runtime.deps.scheduler.released.wait(), 30)

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
        """Until the bot consumed every update and the outbox has nothing ready to send."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        import time as _time

        while True:
            await self.emu.wait_idle(quiet=0.03, timeout=max(0.1, deadline - loop.time()))
            rows = await outbox.pending(self.db.conn, 1000)
            ready = [r for r in rows if r.not_before <= _time.time()]
            if not ready:
                await self.emu.wait_idle(quiet=0.03, timeout=max(0.1, deadline - loop.time()))
                rows = await outbox.pending(self.db.conn, 1000)
                if not [r for r in rows if r.not_before <= _time.time()]:
                    return
            if loop.time() > deadline:
                raise TimeoutError(f"outbox still has {len(ready)} ready rows")
            await asyncio.sleep(0.01)

    async def advance(self, delta: timedelta | None = None, **kw: float) -> datetime:
        """Move the fake clock; due deadlines fire; wait for their messages to go out."""
        assert isinstance(self.clock, FakeClock)
        now = await self.clock.advance(delta, **kw)
        await self.settle()
        return now
