"""`dutydesk run` as an operator meets it: one start-up line (bot, database, mode, time zone,
never a secret), an unreachable Telegram waited out with backoff and a clear line naming the
server (never the token) until it answers, and a stop at any moment without a traceback."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bot.cli import example_config
from bot.emulator import BotApiEmulator
from tests.waiting import ended

TOKEN = "777001:RUN-test-SECRETPART"
SECRET_PART = TOKEN.split(":", 1)[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp: Path, port: int, database: str = "desk.sqlite3") -> Path:
    """The example config with the emulator at `port` and the database at `database` (a file or an address)."""
    text = example_config()
    for key, value in (("base_url", f"http://127.0.0.1:{port}/bot"), ("base_file_url", f"http://127.0.0.1:{port}/file/bot"),
                       ("database", database)):
        text = re.sub(rf'(?m)^{key} = "[^"\n]*"', f'{key} = "{value}"', text, count=1)
    path = tmp / "dutydesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Bot:
    """`dutydesk run` in its own process, its output in a file (a pipe could fill and block it)."""

    def __init__(self, config: Path, name: str = "run", *extra: str, env: dict[str, str] | None = None) -> None:
        """`name`: of its log file (several may run on one config); `extra`: more `run` arguments."""
        self.log = config.parent / f"{name}.log"
        with open(self.log, "wb") as sink:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--config", str(config), "run", *extra],
                                         env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, **(env or {})},
                                         stdout=sink, stderr=subprocess.STDOUT)

    @property
    def out(self) -> str:
        return self.log.read_text("utf-8", "replace")

    async def wait_for(self, test: Callable[[str], bool], seconds: float = 30) -> str:
        """Until the log passes `test`: read again each 50 ms or as soon as the process exits."""
        end = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < end:
            out = self.out
            if test(out):
                return out
            if self.proc.poll() is not None:
                raise AssertionError(f"dutydesk run exited ({self.proc.returncode}):\n{out[-2000:]}")
            await ended(self.proc, 0.05)
        raise AssertionError(f"not seen in {seconds}s:\n{self.out[-2000:]}")

    async def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if not await ended(self.proc, 20):
                self.proc.kill()
                raise AssertionError("dutydesk run did not stop on SIGTERM")
        return self.proc.returncode


async def test_start_up_line_names_bot_database_mode_and_time_zone(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN, bot_username="zhongyuan_duty_bot") as emu:
        bot = Bot(_config(tmp_path, emu.port))
        out = await bot.wait_for(lambda out: "值班台已启动" in out)
        assert await bot.stop() == 0
    started = [line for line in out.splitlines() if "值班台已启动" in line]
    assert len(started) == 1, out
    line = started[0]
    assert "@zhongyuan_duty_bot" in line and str(tmp_path / "desk.sqlite3") in line
    assert "长轮询" in line and "Asia/Shanghai" in line
    assert SECRET_PART not in bot.out and "Traceback" not in bot.out


async def test_unreachable_telegram_is_retried_with_backoff_until_it_answers(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there yet: every call is refused at the socket
    bot = Bot(_config(tmp_path, port))
    url = f"http://127.0.0.1:{port}/bot"
    out = await bot.wait_for(lambda out: out.count("无法连接 Telegram") >= 2)
    tries = [line for line in out.splitlines() if "无法连接 Telegram" in line]
    assert all(url in line for line in tries) and "1 秒后重试" in tries[0] and "2 秒后重试" in tries[1], tries
    assert bot.proc.poll() is None  # still waiting, not given up
    async with BotApiEmulator(token=TOKEN, bot_username="back_online_bot") as emu:
        await emu.stop()
        await emu.start(port=port)  # Telegram is back
        await bot.wait_for(lambda out: "值班台已启动" in out, seconds=30)
        assert await bot.stop() == 0
    assert "@back_online_bot" in bot.out
    assert SECRET_PART not in bot.out and "Traceback" not in bot.out, bot.out[-2000:]


async def test_stopped_while_telegram_is_unreachable(tmp_path: Path) -> None:
    bot = Bot(_config(tmp_path, _free_port()))
    await bot.wait_for(lambda out: "无法连接 Telegram" in out)
    assert await bot.stop() == 0
    assert SECRET_PART not in bot.out and "Traceback" not in bot.out, bot.out[-2000:]
