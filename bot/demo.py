"""`dutydesk demo`: a short scripted day, offline, on the bundled emulator.

A fresh temporary database, the real Application over HTTP, a demo policy counted
in seconds instead of hours, simulated people registering by invite and working
through each feature's scene. Prints the transcript and a summary; exits 0.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from bot.clock import SystemClock
from bot.demo_scenes import SCENES
from bot.demo_scenes.stage import Stage
from bot.harness import Desk
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

CAST = (
    ("officer", "李明（建设路街道信息员）", "jianshelu", ("officer",)),
    ("head", "王芳（建设路街道党政办主任）", "jianshelu", ("unit_head",)),
    ("chief", "赵刚（建设路街道办事处主任）", "jianshelu", ("unit_chief",)),
    ("duty", "陈静（区委办值班员）", "office", ("duty",)),
    ("director", "刘强（区委办主任）", "office", ("director",)),
)


async def run_demo(verbose: bool = False, out=print) -> int:  # type: ignore[no-untyped-def]
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)
    started = time.monotonic()
    out("DutyDesk 值班台 — 演示（离线：自带 Bot API 模拟器 + 临时 SQLite 数据库）")
    out("演示时限以秒计：首报 4 秒、书面报告 8 秒、续报 12 秒（实际为 1/2/3 小时）。\n")
    async with Desk(clock=SystemClock(), incident=DEMO_INCIDENT_POLICY) as desk:
        stage = Stage(desk, {}, out)
        stage.narrate("人员通过邀请链接登记")
        for key, name, unit, roles in CAST:
            stage.people[key] = await desk.register(key, name, unit, *roles)
        for scene in SCENES:
            stage.narrate(desk.services.texts(scene.TITLE))
            await scene.play(stage)
        await desk.settle()
        stage.flush()
        db = desk.db
        sent = await outbox.counts(db.conn)
        fired = await deadlines.fired_count(db.conn)
        out("\n== 小结 / Summary ==")
        for line in stage.facts.get("summary", []):
            out(line)
        out(f"消息经发件箱送达 {sent.get('sent', 0)} 条，失败 {sent.get('failed', 0)} 条；触发时限 {fired} 个。")
        out(f"用时 {time.monotonic() - started:.1f} 秒。")
    return 0
