"""Escalation policies, GoAlert-style: ordered steps, each naming whom to reach and how long to
wait for an acknowledgement before the next step; the whole list repeated a set number of times.

Plain rules: parsing a target, and where a policy goes after a step. Who a target resolves to (the
duty officers on shift now, the leader on duty) is the service's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

KIND = "escalation.step"  # the deadline rows a policy's steps are planted as
CHANNELS = ("tg", "sms")  # how a person is reached; a robot target names a [[robots]] entry
_WHO_RE = re.compile(r"^(duty@shift|leader@duty|waiting|member:\d+|role:[a-z_]+(@unit)?)$")


@dataclass(frozen=True)
class Target:
    """`channel` "tg" / "sms" and a person selector in `who`, or "robot" and the robot's name."""

    channel: str
    who: str


def parse_target(text: str) -> Target:
    """`duty@shift` (Telegram), `sms:leader@duty`, `tg:role:director`, `role:unit_head@unit` (the
    incident's unit, or the units of those still waiting), `member:12`, `waiting` (whose answer is awaited:
    the office members an alert went to, a notice's unsigned recipients, a leave step's approvers),
    `robot:office`. ValueError says what is accepted."""
    text = text.strip()
    if text.startswith("robot:"):
        name = text[len("robot:"):]
        if not name:
            raise ValueError(f"bad target {text!r}: name the robot, e.g. robot:office")
        return Target("robot", name)
    channel, _, who = text.partition(":") if text.split(":", 1)[0] in CHANNELS else ("tg", "", text)
    if not _WHO_RE.match(who):
        raise ValueError(f"bad target {text!r}: write [tg:|sms:] then duty@shift, leader@duty, waiting, member:12, "
                         "role:director or role:unit_head@unit; or robot:<name>")
    return Target(channel, who)


@dataclass(frozen=True)
class Step:
    targets: tuple[Target, ...]
    delay: timedelta  # how long to wait for an acknowledgement before the next step


@dataclass(frozen=True)
class Policy:
    name: str
    steps: tuple[Step, ...]
    repeat: int = 0  # after the last step, start again from the first this many times

    def after(self, step: int, round_: int) -> tuple[int, int] | None:
        """The (step, round) that follows `step` of `round_`; None when the policy is used up."""
        if step + 1 < len(self.steps):
            return step + 1, round_
        if round_ < self.repeat:
            return 0, round_ + 1
        return None

    def plan(self) -> list[tuple[int, int, timedelta]]:
        """Every (step, round, offset from the start) the policy would fire if nobody acknowledged."""
        out, at, pos = [], timedelta(0), (0, 0)
        while True:
            out.append((pos[0], pos[1], at))
            nxt = self.after(*pos)
            if nxt is None:
                return out
            at += self.steps[pos[0]].delay
            pos = nxt
