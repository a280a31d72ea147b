"""Two real `dutydesk run` on one config and one PostgreSQL database (a scratch schema): one is
active, the other waits on the advisory lock; kill -9 the active one and the standby takes over as
soon as the server ends the dead session, and answers; `dutydesk status` says so."""

from __future__ import annotations

from pathlib import Path

from bot.emulator import BotApiEmulator
from bot.harness import scratch_schema
from storage.peek import drop_schema
from tests.e2e.test_cli_run import TOKEN, _config
from tests.e2e.test_standby import kill_9_takeover


async def test_the_standby_takes_over_on_postgresql_after_kill_9(tmp_path: Path) -> None:
    target = scratch_schema("standby")
    try:
        async with BotApiEmulator(token=TOKEN, bot_username="ha_pg_bot") as emu:
            config = _config(tmp_path, emu.port, database=target)
            await kill_9_takeover(emu, config, target)
    finally:
        await drop_schema(target)
