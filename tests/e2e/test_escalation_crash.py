"""Escalation across a kill -9: the step planted with the alert fires once after the restart, and an
acknowledgement committed before the kill leaves no step to fire (the bot in its own process)."""

from __future__ import annotations

import re
import signal
import sqlite3
from pathlib import Path

from bot.emulator import BotApiEmulator
from tests.e2e.flows import file_report
from tests.e2e.test_crash_resume import TOKEN, cli, start_bot, stop, write_config

FAST_POLICY = """
[escalation]
incident = "fast"
major = "fast"
[[escalation.policies]]
name = "fast"
[[escalation.policies.steps]]
targets = ["duty@shift"]
delay = "2s"
[[escalation.policies.steps]]
targets = ["role:director"]
delay = "2s"
"""


class _NoSettle:
    async def settle(self) -> None:  # the bot is another process: each step waits for its answer instead
        return None


def _steps(db: Path) -> list[tuple[str | None, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT fired_at, cancelled_at FROM deadlines WHERE kind='escalation.step' "
                            "ORDER BY id").fetchall()


async def test_escalation_survives_kill_9_and_an_ack_before_it_holds(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN) as emu:
        config = write_config(tmp_path, emu)
        config.write_text(config.read_text(encoding="utf-8") + FAST_POLICY, encoding="utf-8")
        people = {}
        for key, name, unit, role in (("officer", "李信息", "jianshelu", "officer"),
                                      ("duty", "陈值班", "office", "duty"),
                                      ("director", "刘主任", "office", "director")):
            code = re.search(r"code: (\w+)", cli(config, "invite", "--unit", unit, "--role", role, "--name", name))
            assert code
            people[key] = (name, code.group(1))
        bot = await start_bot(config, emu)
        users = {}
        for n, (key, (name, code)) in enumerate(people.items()):
            users[key] = emu.user(50_001 + n, name)
            await users[key].send_command("/start", code)
            await users[key].wait_for("欢迎", timeout=10)
        officer, duty, director = users["officer"], users["duty"], users["director"]

        number = await file_report(_NoSettle(), officer, category="交通事故")  # type: ignore[arg-type]
        await duty.wait_for(number, timeout=10)
        assert await stop(bot, signal.SIGKILL) == -signal.SIGKILL  # step 2 is due in 2 s: a row, not a timer
        db = tmp_path / "desk.sqlite3"
        assert _steps(db) == [(None, None)]
        bot = await start_bot(config, emu)
        escalated = await director.wait_for("无人确认收到", timeout=15)
        assert number in (escalated.text or "")

        # The second incident: 已收到 pressed, then kill -9 at once. Its planted step was dropped in the
        # acknowledgement's own commit, so nothing is left to fire after the restart.
        second = await file_report(_NoSettle(), officer, category="交通事故")  # type: ignore[arg-type]
        alert = await duty.wait_for(second, timeout=10)
        await duty.press(alert, text="✅ 已收到")
        await duty.wait_for_answer(timeout=10)
        assert await stop(bot, signal.SIGKILL) == -signal.SIGKILL
        steps = _steps(db)
        assert steps[0][0] is not None and steps[-1][1] is not None  # the first fired; the second's cancelled
        assert len([s for s in steps if s[0] is None and s[1] is None]) == 0
        bot = await start_bot(config, emu)
        await stop(bot, signal.SIGTERM)
        escalations = [m for m in emu.messages(director.id) if "无人确认收到" in (m.text or "")]
        assert [number in (m.text or "") for m in escalations] == [True]  # once, and only the first incident's
