"""Two real `dutydesk run` processes on the same config and SQLite database (issue 28): one is
active and alone talks to Telegram, the other waits as a standby (one log line naming the active);
kill -9 the active and the standby takes over and answers; `dutydesk status` says who is active.
In webhook mode the standby answers 503 with Retry-After on its port until it takes over."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx

from bot.emulator import BotApiEmulator
from storage import instances
from storage.engine import database
from tests.e2e.test_cli_run import TOKEN, Bot, _config, _free_port
from tests.waiting import ended

SECRET = "Standby-test_secret1"


def run(config: Path, name: str, *extra: str) -> Bot:
    """`dutydesk run` in its own process, with the webhook secret the webhook tests give it."""
    return Bot(config, name, *extra, env={"DUTYDESK_WEBHOOK_SECRET": SECRET})


async def status(config: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--config", str(config), "status",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode("utf-8", "replace")


def _sqlite(config: Path) -> str:
    return str(config.parent / "desk.sqlite3")  # the database test_cli_run's config names


async def until_role(target: str, pid: int, role: str) -> None:
    """Until the instance row of process `pid` says `role` (rows are written on each heartbeat), on
    either engine: a SQLite file's path or a PostgreSQL address."""
    async with database(target) as db:
        for _ in range(300):
            found = await instances.all_instances(db.read)
            if any(i.pid == pid and i.role == role for i in found):
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"process {pid} never {role}: {found}")


async def kill_9_takeover(emu: BotApiEmulator, config: Path, target: str) -> None:
    """Two `dutydesk run` on `config` (its database at `target`, on either engine): one polls, the other
    waits as the standby with one line naming it; kill -9 the active one and the standby takes over and
    answers; `dutydesk status` says who is active at each point."""
    first = run(config, "first")
    second: Bot | None = None
    try:
        await first.wait_for(lambda out: "值班台已启动" in out)
        second = run(config, "second")
        out = await second.wait_for(lambda out: "待命" in out)
        waiting = [line for line in out.splitlines() if "待命" in line]
        assert len(waiting) == 1 and f":{first.proc.pid}" in waiting[0], out
        await until_role(target, second.proc.pid, "standby")
        code, shown = await status(config)
        assert code == 0 and f"进程 {first.proc.pid}" in shown.splitlines()[0], shown
        assert "待命实例" in shown and f"进程 {second.proc.pid}" in shown, shown
        # Only the active one talks to Telegram: one getMe, and the standby has not started.
        assert emu.stats.requests["getMe"] == 1 and "值班台已启动" not in second.out

        killed = asyncio.get_running_loop().time()
        first.proc.send_signal(signal.SIGKILL)
        assert await ended(first.proc, 10)
        await second.wait_for(lambda out: "值班台已启动" in out, seconds=30)
        print(f"{target}: kill -9 → the standby's start-up line: {asyncio.get_running_loop().time() - killed:.2f} s")
        assert emu.stats.requests["getMe"] == 2
        user = emu.user(501, "甲", started=True)
        await user.send_command("/start")
        await user.wait_for(None, timeout=20)  # the standby, now active, answers
        await until_role(target, second.proc.pid, "active")
        code, shown = await status(config)
        assert code == 0 and f"进程 {second.proc.pid}" in shown.splitlines()[0], shown
        assert f"进程 {first.proc.pid}" not in shown and "没有待命实例" in shown, shown
        assert await second.stop() == 0
        code, shown = await status(config)
        assert code == 1 and "没有工作实例" in shown, shown
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
        if second is not None and second.proc.poll() is None:
            second.proc.kill()
    assert "Traceback" not in first.out and second is not None and "Traceback" not in second.out, second.out


async def test_one_polls_the_standby_takes_over_after_kill_9_and_status_says_so(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN, bot_username="ha_duty_bot") as emu:
        config = _config(tmp_path, emu.port)
        await kill_9_takeover(emu, config, _sqlite(config))


async def test_a_standby_in_webhook_mode_answers_503_until_it_takes_over(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN, bot_username="ha_hook_bot") as emu:
        config = _config(tmp_path, emu.port)
        ports = _free_port(), _free_port()

        def webhook(port: int) -> tuple[str, ...]:
            return ("--webhook-url", f"http://127.0.0.1:{port}", "--listen", "127.0.0.1", "--port", str(port))

        first = run(config, "first", *webhook(ports[0]))
        second: Bot | None = None
        try:
            await first.wait_for(lambda out: "值班台已启动" in out)
            second = run(config, "second", *webhook(ports[1]))
            await second.wait_for(lambda out: "待命" in out)
            await until_role(_sqlite(config), second.proc.pid, "standby")  # written after the 503 server is up
            async with httpx.AsyncClient(timeout=5) as client:
                answer = await client.post(f"http://127.0.0.1:{ports[1]}/telegram", json={"update_id": 1})
            assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"

            first.proc.send_signal(signal.SIGKILL)
            assert await ended(first.proc, 10)
            await second.wait_for(lambda out: "值班台已启动" in out, seconds=30)
            await emu.wait_until(lambda: emu.webhook is not None and str(ports[1]) in emu.webhook.url, 10)
            user = emu.user(502, "乙", started=True)
            await user.send_command("/start")
            await user.wait_for(None, timeout=20)  # delivered to the new active one's webhook, answered
            assert await second.stop() == 0
        finally:
            if first.proc.poll() is None:
                first.proc.kill()
            if second is not None and second.proc.poll() is None:
                second.proc.kill()
    assert second is not None and "Traceback" not in second.out, second.out


async def test_a_standby_stops_at_once_on_sigterm(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN, bot_username="ha_stop_bot") as emu:
        config = _config(tmp_path, emu.port)
        first = run(config, "first")
        try:
            await first.wait_for(lambda out: "值班台已启动" in out)
            second = run(config, "second")
            await second.wait_for(lambda out: "待命" in out)
            await until_role(_sqlite(config), second.proc.pid, "standby")
            second.proc.send_signal(signal.SIGTERM)
            assert await ended(second.proc, 5) and second.proc.returncode == 0
            async with database(_sqlite(config)) as db:
                left = await instances.all_instances(db.read)
            assert [(i.pid, i.role) for i in left] == [(first.proc.pid, "active")]  # its row went with it
            assert "Traceback" not in second.out and "值班台已启动" not in second.out, second.out
            assert await first.stop() == 0
        finally:
            if first.proc.poll() is None:
                first.proc.kill()
