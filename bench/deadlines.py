"""3. Deadline scale: P pending deadlines across I incidents in the database.

* start → ready: `dutydesk run` as a subprocess on that database, until it answers /help
  (resident memory of that process via psutil);
* lateness: in-process, K extra deadlines due within one `window` (60 s), each of which sends
  one reminder to its own person; lateness = emulator receipt − due time.

The K timed rows use a bench-only kind (`bench.ping`: one message to the chat in its payload)
registered on the real scheduler, so lateness measures scheduler + outbox + delivery and not
the routing rules of one feature; the P background rows use the real incident kinds."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import botproc, common
from bench.coldstart import spawn_until_answer
from bot.domain.members import Role
from storage.db import to_db
from storage.deadlines import Deadline
from storage.uow import Tx

KINDS = ("incident.remind", "incident.due", "incident.followup", "incident.forward_remind", "incident.due")
STAGES = ("first", "written", "full", "", "full")


async def run(pending: int = 100_000, incidents: int = 20_000, k: int = 1000, window: float = 60.0) -> common.Result:
    with common.tmpdir() as tmp:
        desk = await common.real_desk(tmp)
        try:
            return await _run(desk, tmp, pending, incidents, k, window)
        finally:
            await common.stop_desk(desk)


async def seed_incidents(conn, count: int, reporter_id: int, unit: str, start_seq: int = 1) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        at = to_db(now - timedelta(minutes=i))
        seq = start_seq + i
        rows.append((f"{now.year}-{seq:04d}" if seq < 10_000 else f"{now.year}-{seq}", now.year, seq, unit,
                     reporter_id, "fire", at, at, "建设路与桐柏路交叉口", "居民楼三层起火", at))
    await conn.executemany(
        "INSERT INTO incidents(number, year, seq, unit_code, reporter_id, category, occurred_at, learnt_at, place,"
        " description, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)


async def _run(desk, tmp: str, pending: int, n_inc: int, k: int, window: float) -> common.Result:  # type: ignore[no-untyped-def]
    reminded = [(510_000 + i, f"提醒对象{i}", common.OFFICER_UNIT, Role.OFFICER) for i in range(k)]
    ids = await common.seed_members(desk, [(500_000, "信息员", common.OFFICER_UNIT, Role.OFFICER), *reminded])
    rnd = random.Random(4)
    far = datetime.now(UTC) + timedelta(days=30)
    t_seed = time.perf_counter()
    async with desk.db.tx() as conn:
        await seed_incidents(conn, n_inc, ids[500_000], common.OFFICER_UNIT)
        first = (await (await conn.execute("SELECT min(id) FROM incidents")).fetchone())[0]
        rows = []
        for i in range(pending):
            j = i % len(KINDS)
            due = far + timedelta(seconds=rnd.uniform(0, 300 * 86400))
            rows.append((KINDS[j], first + i % n_inc, STAGES[j], to_db(due)))
        await conn.executemany("INSERT INTO deadlines(kind, ref_id, stage, due_at) VALUES (?,?,?,?)", rows)
        cnt = (await (await conn.execute(
            "SELECT count(*) FROM deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL")).fetchone())[0]
    seed_s = time.perf_counter() - t_seed
    await desk.stop_bot()  # the subprocess gets the database to itself
    start = await spawn_until_answer(desk.db_path, desk.emu, asker=500_000)
    await desk.start_bot()

    # Lateness: k reminders due within one window, starting a little after now.
    sched = desk.runtime.deps.scheduler

    async def ping(tx: Tx, d: Deadline) -> None:
        await tx.send_text(int(d.payload["chat"]), f"提醒 {d.ref_id}")

    sched.on("bench.ping", ping)
    base = datetime.now(UTC) + timedelta(seconds=2)
    dues: dict[int, datetime] = {}
    async with desk.db.tx() as conn:
        for i in range(k):
            due = base + timedelta(seconds=window * i / max(1, k))
            dues[510_000 + i] = due
            await conn.execute("INSERT INTO deadlines(kind, ref_id, due_at, payload) VALUES (?,?,?,?)",
                               ("bench.ping", i, to_db(due), json.dumps({"chat": 510_000 + i})))
    await sched.rearm()
    late: list[float] = []
    for tg, due in dues.items():
        user = desk.emu.get_user(tg)
        assert user is not None
        msg = await user.wait_for("提醒", timeout=window + 120)
        late.append(msg.date - due.timestamp())
    s = common.spread(late)
    ok = start.ready_s <= 2 and start.rss_mb <= 150 and s["p99"] <= 1000
    figures: list[tuple[str, Any, str]] = [
        ("pending deadlines in DB", cnt, ""),
        ("incidents in DB", n_inc, ""),
        ("(seeding by SQL, s)", seed_s, ""),
        ("start → first answer s (subprocess)", start.ready_s, common.verdict(start.ready_s <= 2, "≤ 2 s")),
        ("RSS of that process MB", start.rss_mb, common.verdict(start.rss_mb <= 150, "≤ 150 MB")),
        (f"reminders due within {window:g} s", k, ""),
        ("lateness p50 ms", s["p50"], ""),
        ("lateness p99 ms", s["p99"], common.verdict(s["p99"] <= 1000, "≤ 1 s")),
        ("lateness max ms", s["max"], ""),
    ]
    text = common.table("deadline scale", figures)
    text += ("\narrangement: start → first answer and RSS: `dutydesk run` in its own process;"
             "\n             lateness: " + botproc.IN_PROCESS_ARRANGEMENT + " (a bench-only deadline kind)")
    return common.Result("deadlines", text, ok)


if __name__ == "__main__":
    print(asyncio.run(run(2000, 400, 20, 2.0)).text)
