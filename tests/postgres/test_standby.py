"""Two real `dutydesk run` on one config and one PostgreSQL database (a scratch schema): one is
active, the other waits on the advisory lock; kill -9 the active one and the standby takes over as
soon as the server ends the dead session, and answers; `dutydesk status` says so."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

from bot.emulator import BotApiEmulator
from bot.harness import scratch_schema
from storage.peek import drop_schema
from tests.e2e.test_cli_run import TOKEN, _config
from tests.e2e.test_standby import Run, status, until_role
from tests.waiting import ended


async def test_the_standby_takes_over_on_postgresql_after_kill_9(tmp_path: Path) -> None:
    target = scratch_schema("standby")
    try:
        async with BotApiEmulator(token=TOKEN, bot_username="ha_pg_bot") as emu:
            config = _config(tmp_path, emu.port)
            config.write_text(re.sub(r'(?m)^database = "[^"\n]*"', f'database = "{target}"',
                                     config.read_text("utf-8"), count=1), "utf-8")
            first = Run(config, "first")
            second: Run | None = None
            try:
                await first.wait_for(lambda out: "值班台已启动" in out)
                second = Run(config, "second")
                out = await second.wait_for(lambda out: "待命" in out)
                assert f":{first.proc.pid}" in next(line for line in out.splitlines() if "待命" in line), out
                await until_role(target, second.proc.pid, "standby")
                code, shown = await status(config)
                assert code == 0 and f"进程 {first.proc.pid}" in shown.splitlines()[0], shown
                assert emu.stats.requests["getMe"] == 1

                killed = asyncio.get_running_loop().time()
                first.proc.send_signal(signal.SIGKILL)
                assert await ended(first.proc, 10)
                await second.wait_for(lambda out: "值班台已启动" in out, seconds=30)
                print(f"PostgreSQL: kill -9 → the standby's start-up line: "
                      f"{asyncio.get_running_loop().time() - killed:.2f} s")
                user = emu.user(501, "甲", started=True)
                await user.send_command("/start")
                await user.wait_for(None, timeout=20)
                await until_role(target, second.proc.pid, "active")
                code, shown = await status(config)
                assert code == 0 and f"进程 {second.proc.pid}" in shown.splitlines()[0], shown
                assert await second.stop() == 0
                code, shown = await status(config)
                assert code == 1 and "没有工作实例" in shown, shown
            finally:
                if first.proc.poll() is None:
                    first.proc.kill()
                if second is not None and second.proc.poll() is None:
                    second.proc.kill()
        assert second is not None and "Traceback" not in second.out, second.out
    finally:
        await drop_schema(target)
