"""`dutydesk demo`: a short scripted day, offline, on the bundled emulator.

A fresh temporary database, the real Application over HTTP, a demo policy counted
in seconds instead of hours, simulated people registering by invite and working
through each feature's scene. Prints the transcript and a summary; exits 0.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta

from bot.clock import SystemClock
from bot.config import Robot, Sms
from bot.demo_scenes import SCENES
from bot.demo_scenes.stage import Stage
from bot.emulator.channels import FakeChannels
from bot.harness import Desk, demo_config
from bot.i18n import TerminalTexts
from storage import deadlines, outbox

# The reporting commitment in seconds: first 1 h → 4 s, written 2 h → 8 s, full 3 h → 12 s.
DEMO_INCIDENT_POLICY = {
    "first_report": timedelta(seconds=4),
    "written_report": timedelta(seconds=8),
    "full_report": timedelta(seconds=12),
    "followup_every": timedelta(seconds=30),
    "remind_before": (timedelta(seconds=3),),
    "forward_target": timedelta(seconds=10),
    "forward_remind": timedelta(seconds=8),
}

DEMO_ROBOT_SECRET_ENV = "DUTYDESK_DEMO_ROBOT_SECRET"

CAST = (
    ("officer", "李明（建设路街道信息员）", "jianshelu", ("officer",)),
    ("head", "王芳（建设路街道党政办主任）", "jianshelu", ("unit_head",)),
    ("chief", "赵刚（建设路街道办事处主任）", "jianshelu", ("unit_chief",)),
    ("duty", "陈静（区委办值班员）", "office", ("duty",)),
    ("director", "刘强（区委办主任）", "office", ("director",)),
)


class _Warning(logging.Formatter):
    """A warning as the reader sees it: the message (in the catalog's words where the bot logs
    it so), marked ⚠️ unless it starts with a sign of its own; the logger's name and level are
    for developers (`dutydesk demo -v`)."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        return msg if msg[:1] and not msg[0].isalnum() else f"⚠️ {msg}"


def _show_warnings(verbose: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s") if verbose else _Warning())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


async def run_demo(verbose: bool = False, out=print) -> int:  # type: ignore[no-untyped-def]
    _show_warnings(verbose)
    started = time.monotonic()
    t = TerminalTexts(demo_config(":memory:").general.language)
    out(t("demo.intro"))
    out(t("demo.intro_time") + "\n")
    # Fake DingTalk and SMS platforms on 127.0.0.1 for the escalation scene; the robot's 加签 secret as
    # an operator would give it, in the environment (of this process only).
    fakes = await FakeChannels().start()
    os.environ.setdefault(DEMO_ROBOT_SECRET_ENV, "SECdemo-not-secret")
    robot = Robot("office", "dingtalk", fakes.dingtalk("demo-token", os.environ[DEMO_ROBOT_SECRET_ENV]),
                  secret_env=DEMO_ROBOT_SECRET_ENV, events=("escalation", "failover"))
    sms = Sms(url=fakes.sms("demo-sms-key"), headers={"X-Sms-Key": "demo-sms-key"},
              body={"mobile": "{phone}", "content": "{text}"}, success_field="code", success_value="0")
    async with Desk(clock=SystemClock(), incident=DEMO_INCIDENT_POLICY,
                    config_overrides={"robots": (robot,), "sms": sms}) as desk:
        stage = Stage(desk, {}, out, facts={"channels": fakes})
        stage.narrate(t("demo.cast"))
        for key, name, unit, roles in CAST:
            stage.people[key] = await desk.register(key, name, unit, *roles)
        for n, scene in enumerate(SCENES, 1):
            stage.narrate(t("demo.scene", n=n, total=len(SCENES), title=t(scene.TITLE)))
            await scene.play(stage)
        await desk.settle()
        stage.flush()
        db = desk.db
        sent = await outbox.counts(db.conn)
        fired = await deadlines.fired_count(db.conn)
        out("\n" + t("demo.summary"))
        for line in stage.facts.get("summary", []):
            out(line)
        out(t("demo.summary_sent", sent=sent.get("sent", 0), failed=sent.get("failed", 0), fired=fired))
        out(t("demo.summary_time", seconds=f"{time.monotonic() - started:.1f}"))
    await fakes.stop()
    return 0
