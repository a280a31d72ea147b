"""The chaos run's officers (bench/chaos_people.py) judge a report confirmed only by its own confirmation.

The window: the officer's previous report was confirmed, its 确认上报 was handled once more (pressed
again after an error reply, or redelivered after a kill before the dialogue's end was saved), and
that repeat "✅ 已上报，事件编号 <the old number>" arrives after the next report's /report, more than
the officers' quiet pause before that report's first question. Read as the newest answer, it ended
the next report as "confirmed" — which was then never filed: "report N stored 0 times" alone, a
product loss that was none. No bot runs here: the test plays the bot's messages itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bench.chaos_people import People, Report, Tally
from bot.emulator import BotApiEmulator, SimUser


class _Bot:
    def __init__(self) -> None:
        self.up = asyncio.Event()
        self.up.set()
        self.epoch = 0


class _Officers(People):
    def __init__(self, emu: BotApiEmulator, user: SimUser) -> None:
        self.args = argparse.Namespace(answer_timeout=5.0, faults=0.1)
        self.emu, self.bot, self.tally = emu, _Bot(), Tally()  # type: ignore[assignment]
        self.reports, self.officers, self.current, self.done = [], [(user, "jianshelu")], {}, 0
        self.confirmed_to = {user.id: {"2026-0031"}}  # the previous report's number
        self.late_seen = set()

    def now(self) -> float:
        return 0.0


async def test_a_late_repeat_of_the_previous_confirmation_does_not_confirm_the_next_report() -> None:
    emu = BotApiEmulator(record_transcript=False)
    user = emu.user(60031, "信息员031")
    await user.send_command("/start")  # the private chat exists
    people = _Officers(emu, user)
    rep = Report(index=71, officer=user, unit="jianshelu", category="fire", backdated=False, place="路口71号",
                 casualties=(0, 1, 0), description="chaos#00071")

    async def bot() -> None:
        await emu.wait_until(lambda: emu.pending_updates > asked, 5)  # the officer has sent /report
        emu.api.send_message({"chat_id": user.id,
                              "text": "✅ 已上报，事件编号 2026-0031。\n已通知区委办值班室和办公室领导。"}, {})
        # The next report's first question comes late (a 429 waited out): after the officer has read
        # the repeat of report 31's confirmation.
        await emu.wait_until(lambda: people.tally.late_confirmations == 1, 5)
        emu.api.send_message({"chat_id": user.id, "text": "🚨 上报突发事件（第1步）\n请选择事件类别：",
                              "reply_markup": {"inline_keyboard": [[{"text": "火灾", "callback_data": "r:cat:fire"}]]}},
                             {})

    asked = emu.pending_updates
    dialogue = asyncio.create_task(people.run_report(user, rep))
    await bot()
    # until the officer answered the category (or, wrongly, took the repeat as done)
    with contextlib.suppress(TimeoutError):
        await emu.wait_until(lambda: dialogue.done() or rep.dialogue.step == "category", 4)
    assert rep.number is None and not dialogue.done(), "a repeat of report 31's confirmation ended report 71"
    assert rep.dialogue.step == "category"
    assert people.tally.late_confirmations == 1
    dialogue.cancel()
