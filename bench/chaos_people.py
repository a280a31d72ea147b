"""The chaos run's simulated officers: each answers whatever the bot last asked, as a person would.

An officer reads the newest question in their chat once it is quiet, answers it, and when no
answer comes (a crash swallowed it) or "please try again" does, sends the same answer again. What
they did and saw is kept per report (bench/chaos_evidence.py prints it when a check fails).
"""

from __future__ import annotations

import argparse
import asyncio
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.chaos_evidence import Dialogue
from bot.emulator import BotApiEmulator, SimMessage, SimUser

if TYPE_CHECKING:
    from bench.chaos_process import Instances

PROMPTS = {  # what the bot asks (start of the zh catalog text) -> step name
    "🚨 上报突发事件（第1步）": "category",
    "事件发生时间？": "occurred",
    "本单位获知时间？": "learnt",
    "事发地点？": "place",
    "伤亡情况？": "casualties",
    "受伤人数？": "injured",
    "失踪人数？": "missing",
    "请简要描述事件情况": "description",
    "请核对后确认": "confirm",
    "✅ 已上报，事件编号": "done",
    "没看懂伤亡情况": "casualties",  # casualties_bad: the casualties question, said again
    "上报草稿已失效": "lost",
    "没有理解您的意思": "lost",
    "抱歉，处理时出了点问题": "retry",  # core.error: a send failed while answering; a person tries again
}
STEP_ORDER = ["category", "occurred", "place", "casualties", "description", "confirm", "done"]
NUMBER = re.compile(r"\d{4}-\d{4}")  # an incident number, as "✅ 已上报" shows it


def step_of(msg: SimMessage) -> str | None:
    text = msg.text or ""
    for head, step in PROMPTS.items():
        if text.startswith(head):
            return step
    return None


@dataclass
class Report:
    index: int
    officer: SimUser
    unit: str
    category: str
    backdated: bool
    place: str
    casualties: tuple[int, int, int]
    description: str
    number: str | None = None  # the number the officer was shown on "✅ 已上报"
    dialogue: Dialogue = field(default_factory=Dialogue)


@dataclass
class Tally:
    kills: int = 0
    restarts: int = 0
    interrupted: int = 0  # conversations mid-way at a kill
    resumed: int = 0  # ... whose next answer after the restart got the next question
    restarted_dialogues: int = 0  # had to send /report again (must stay 0)
    resends: int = 0  # answers repeated because the crash swallowed them
    stalls: int = 0  # no answer without any crash (must stay 0 without faults)
    error_replies: int = 0  # "please try again" answers (a reply send failed under faults)
    in_flight_at_kills: int = 0  # messages Telegram had delivered whose outbox row was not yet marked sent
    late_confirmations: int = 0  # an earlier report's "✅ 已上报" arriving during the next report's dialogue
    problems: list[str] = field(default_factory=list)
    problem_reports: list[int] = field(default_factory=list)  # reports a problem above names


class People:
    """The officers' side of the run (a part of bench.chaos.Chaos)."""

    args: argparse.Namespace
    emu: BotApiEmulator
    bot: Instances | None
    tally: Tally
    reports: list[Report]
    officers: list[tuple[SimUser, str]]
    current: dict[int, str]
    done: int
    confirmed_to: dict[int, set[str]]
    late_seen: set[tuple[int, int]]

    def now(self) -> float:
        raise NotImplementedError

    async def _act(self, user: SimUser, msg: SimMessage | None, step: str, rep: Report, why: str = "") -> None:
        """Answer `step` (or send /report for "start"), noting the update it made."""
        if step == "start":
            await user.send_command("/report")
        else:
            assert msg is not None
            await self._answer(user, msg, step, rep)
        update_id = self.emu._next_update_id - 1  # enqueued synchronously by the call above
        rep.dialogue.update_ids.append(update_id)
        rep.dialogue.note(self.now(), f"{why or 'answers'} {step!r} (update {update_id})")

    async def _answer(self, user: SimUser, msg: SimMessage, step: str, rep: Report) -> None:
        if step == "category":
            await user.press_raw(f"r:cat:{rep.category}", msg.message_id)
        elif step == "occurred":
            await user.press_raw("r:t:h1" if rep.backdated else "r:t:now", msg.message_id)
        elif step == "learnt":
            await user.press_raw("r:t:same", msg.message_id)
        elif step == "place":
            await user.send_text(rep.place)
        elif step == "casualties":
            d, inj, miss = rep.casualties
            await user.send_text(f"{d}/{inj}/{miss}")
        elif step == "injured":
            await user.send_text(str(rep.casualties[1]))
        elif step == "missing":
            await user.send_text(str(rep.casualties[2]))
        elif step == "description":
            await user.send_text(rep.description)
        elif step == "confirm":
            await user.press_raw("r:ok", msg.message_id)

    def _late_confirmation(self, user: SimUser, msg: SimMessage) -> bool:
        """A "✅ 已上报" with a number this officer was already shown: an earlier report's
        confirmation said again (its 确认上报 pressed again, or handled again after a kill),
        arriving after the next report's /report. It confirms nothing of the report under way."""
        m = NUMBER.search(msg.text or "")
        return m is not None and m.group(0) in self.confirmed_to.get(user.id, set())

    async def _next_prompt(self, user: SimUser, rep: Report, start: int,
                           timeout: float) -> tuple[int, SimMessage, str] | None:
        """The newest question among the bot's messages after index `start`, once the chat is quiet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: tuple[int, SimMessage, str] | None = None
        quiet_since = None
        while loop.time() < deadline:
            msgs = self.emu.messages(user.id)
            for idx in range(start, len(msgs)):
                step = step_of(msgs[idx])
                if step == "done" and self._late_confirmation(user, msgs[idx]):
                    if (user.id, msgs[idx].message_id) not in self.late_seen:
                        self.late_seen.add((user.id, msgs[idx].message_id))
                        self.tally.late_confirmations += 1
                        rep.dialogue.note(self.now(), "skips a late repeat of an earlier confirmation"
                                                      f" (#{msgs[idx].message_id})")
                    continue
                if step is not None:
                    found = (idx, msgs[idx], step)
            if found is not None:
                # A question arrived; wait a moment for a later one (a resent answer may
                # produce an error then the question again).
                if quiet_since is None:
                    quiet_since = loop.time()
                    start_len = len(msgs)
                elif len(msgs) != start_len:
                    quiet_since, start_len = loop.time(), len(msgs)
                elif loop.time() - quiet_since > 0.15:
                    return found
            await asyncio.sleep(0.02)
        return found

    async def officer_loop(self, k: int) -> None:
        user, _unit = self.officers[k]
        mine = [r for r in self.reports if r.officer is user]
        for rep in mine:
            await self.run_report(user, rep)

    async def run_report(self, user: SimUser, rep: Report) -> None:
        assert self.bot is not None
        d = rep.dialogue
        await self.bot.up.wait()
        start = len(self.emu.messages(user.id))
        epoch = self.bot.epoch
        d.started = self.now()
        await self._act(user, None, "start", rep)
        last_action: tuple[SimMessage | None, str] = (None, "start")
        reached = -1
        tries = 0
        while True:
            got = await self._next_prompt(user, rep, start, timeout=self.args.answer_timeout)
            retry = got is not None and got[2] == "retry"
            if got is None or retry:
                if got is None and self.bot.epoch == epoch:
                    self.tally.stalls += 1
                    if not self.args.faults:
                        self.problem(rep, f"no answer to {last_action[1]} without a crash")
                if retry:
                    self.tally.error_replies += 1
                    start = got[0] + 1  # type: ignore[index]
                    await asyncio.sleep(0.3)  # a person reads "please try again", then does
                tries += 1
                if tries > 30:
                    d.gave_up, d.ended = True, self.now()
                    d.note(d.ended, f"gives up at {last_action[1]!r} after 30 tries")
                    self.problem(rep, f"gave up at {last_action[1]} after 30 tries")
                    return
                # The crash swallowed the answer (or the reply): answer the same question again.
                await self.bot.up.wait()
                epoch = self.bot.epoch
                self.tally.resends += 1
                d.resends += 1
                # `start` stays: an answer that comes late is still read (not skipped).
                msg, step = last_action
                why = "error reply: again" if retry else f"no answer in {self.args.answer_timeout:g} s: again"
                await self._act(user, msg, step, rep, why)
                continue
            idx, msg, step = got
            if self.bot.epoch != epoch and step in STEP_ORDER and reached >= 0:
                # First question after a restart: it must not be behind the step we had reached.
                self.tally.interrupted += 1
                if STEP_ORDER.index(step) >= reached:
                    self.tally.resumed += 1
                else:
                    self.problem(rep, f"after restart back at {step} (had reached "
                                      f"{STEP_ORDER[reached] if reached >= 0 else 'start'})")
            if step in STEP_ORDER:
                reached = max(reached, STEP_ORDER.index(step))
            epoch = self.bot.epoch
            start = idx + 1
            if step == "done":
                self.current.pop(user.id, None)
                m = NUMBER.search(msg.text or "")
                rep.number = m.group(0) if m else None
                if rep.number:
                    self.confirmed_to.setdefault(user.id, set()).add(rep.number)
                d.ended = self.now()
                d.note(d.ended, f"confirmed as {rep.number}")
                self.done += 1
                return
            if step == "lost":
                self.tally.restarted_dialogues += 1
                self.problem(rep, f"dialogue lost after {last_action[1]}: {msg.text!r}")
                await self._act(user, None, "start", rep, "dialogue lost: starts over with")
                last_action = (None, "start")
                reached = -1
                continue
            last_action = (msg, step)
            d.step = step
            self.current[user.id] = step
            await self._act(user, msg, step, rep)

    def problem(self, rep: Report, text: str) -> None:
        self.tally.problems.append(f"report {rep.index}: {text}")
        self.tally.problem_reports.append(rep.index)
