"""kill -9 in the middle of a report; the restarted process resumes at the same step."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from bot.emulator import BotApiEmulator
from bot.harness import example_config_text
from tests.waiting import ended

TOKEN = "424242:CRASH-test-token"


def write_config(tmp: Path, emu: BotApiEmulator) -> Path:
    path = tmp / "dutydesk.toml"
    path.write_text(example_config_text(emu, "desk.sqlite3"), encoding="utf-8")
    return path


def cli(config: Path, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(config), *args],
                         capture_output=True, text=True, check=True, timeout=60)
    return out.stdout


async def start_bot(config: Path, emu: BotApiEmulator) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN)
    polls = emu.stats.requests.get("getUpdates", 0)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--config", str(config), "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        await emu.wait_until(lambda: emu.stats.requests.get("getUpdates", 0) > polls or proc.poll() is not None, 15)
    except TimeoutError:
        pass
    if emu.stats.requests.get("getUpdates", 0) > polls:
        return proc
    proc.kill()
    raise AssertionError("bot did not start polling: " + (proc.stderr.read().decode() if proc.stderr else ""))


async def stop(proc: subprocess.Popen[bytes], sig: int, timeout: float = 20) -> int:
    """Signal and wait without blocking the loop: the emulator serves the bot's last requests."""
    proc.send_signal(sig)
    if not await ended(proc, timeout):
        proc.kill()
        raise AssertionError("bot did not stop")
    return proc.returncode


async def test_kill_9_mid_report_resumes_at_the_step(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN) as emu:
        config = write_config(tmp_path, emu)
        invited = cli(config, "invite", "--unit", "jianshelu", "--role", "officer", "--name", "李信息")
        code = re.search(r"code: (\w+)", invited)
        assert code
        bot = await start_bot(config, emu)
        try:
            officer = emu.user(9001, "Li")
            await officer.send_command("/start", code.group(1))
            await officer.wait_for("欢迎", timeout=10)
            await officer.send_command("/report")
            await officer.press(await officer.wait_for("类别", timeout=10), text="火灾")
            await officer.press(await officer.wait_for("发生时间", timeout=10), text="刚刚")
            await officer.wait_for("事发地点", timeout=10)
            await emu.wait_idle(quiet=0.2)
        finally:
            await stop(bot, signal.SIGKILL)
        bot = await start_bot(config, emu)
        try:
            await officer.share_location(34.75, 113.62)
            await officer.wait_for("伤亡情况", timeout=10)  # resumed at the place step
            await officer.send_text("1/0/0")
            await officer.wait_for("简要描述", timeout=10)
            await officer.send_text("商铺起火")
            summary = await officer.wait_for("请核对", timeout=10)
            assert "火灾" in summary.text and "定位" in summary.text and "死亡 1" in summary.text
            await officer.press(summary, text="✅ 确认上报")
            await officer.wait_for("2026-0001", timeout=10)
        finally:
            assert await stop(bot, signal.SIGTERM) == 0
        import sqlite3

        with sqlite3.connect(tmp_path / "desk.sqlite3") as conn:
            assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 1
        assert (tmp_path / "desk.sqlite3").stat().st_mode & 0o077 == 0


async def test_kill_9_mid_report_then_report_offers_the_draft(tmp_path: Path) -> None:
    """/report after the restart does not start over: it offers the half-written report, and
    继续上报 asks the step it was on, with the answers given before the kill."""
    async with BotApiEmulator(token=TOKEN) as emu:
        config = write_config(tmp_path, emu)
        invited = cli(config, "invite", "--unit", "jianshelu", "--role", "officer", "--name", "李信息")
        code = re.search(r"code: (\w+)", invited)
        assert code
        bot = await start_bot(config, emu)
        try:
            officer = emu.user(9001, "Li")
            await officer.send_command("/start", code.group(1))
            await officer.wait_for("欢迎", timeout=10)
            await officer.send_command("/report")
            await officer.press(await officer.wait_for("类别", timeout=10), text="交通事故")
            await officer.press(await officer.wait_for("发生时间", timeout=10), text="30分钟前")
            await officer.wait_for("事发地点", timeout=10)
            await emu.wait_idle(quiet=0.2)
        finally:
            await stop(bot, signal.SIGKILL)
        bot = await start_bot(config, emu)
        try:
            await officer.send_command("/report")
            offer = await officer.wait_for("未提交", timeout=10)
            assert "突发事件报告" in offer.text and "已填 2 项" in offer.text
            await officer.press(offer, text="继续上报")
            await officer.wait_for("事发地点", timeout=10)
            await officer.share_location(34.75, 113.62)
            await officer.press(await officer.wait_for("伤亡情况", timeout=10), text="无伤亡")
            await officer.wait_for("简要描述", timeout=10)
            await officer.send_text("两车追尾")
            summary = await officer.wait_for("请核对", timeout=10)
            assert "交通事故" in summary.text  # the category given before the kill
            await officer.press(summary, text="✅ 确认上报")
            await officer.wait_for("事件编号", timeout=10)
        finally:
            assert await stop(bot, signal.SIGTERM) == 0
