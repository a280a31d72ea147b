"""5. Cold start: `dutydesk run` as a subprocess, on a database holding a busy year
(incidents, notices with their recipients, members, and the sent outbox history),
from the spawn to the first update answered (a member's /help, queued before the spawn)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import botproc, common
from bot.domain.members import Role
from bot.emulator import BotApiEmulator
from storage.db import to_db


@dataclasses.dataclass
class Start:
    ready_s: float
    rss_mb: float


async def spawn_until_answer(db_path: Path, emu: BotApiEmulator, asker: int, timeout: float = 60) -> Start:
    """Spawn `dutydesk run`, with /help from `asker` sent at once; time to its answer, RSS then."""
    async with botproc.dutydesk(Path(db_path), emu, warmup=asker, timeout=timeout) as bot:
        assert bot.answer is not None
        ready = bot.answer.date - bot.spawned_at
        rss = bot.rss_mb()
    await emu.wait_idle(quiet=0.05, timeout=10)
    return Start(ready, rss)


async def seed_year(conn, *, incidents: int, notices: int, members_n: int, per_notice: int = 20) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A busy year by SQL: members, incidents with events, notices with recipients, sent outbox."""
    from bench.deadlines import seed_incidents

    now = datetime.now(UTC)
    units = [r[0] for r in await (await conn.execute("SELECT code FROM units")).fetchall()]
    member_rows = [(300_000 + i, f"成员{i}", units[i % len(units)], to_db(now)) for i in range(members_n)]
    await conn.executemany("INSERT INTO members(telegram_id, name, unit_code, created_at) VALUES (?,?,?,?)",
                           member_rows)
    ids = [r[0] for r in await (await conn.execute(
        "SELECT id FROM members WHERE telegram_id >= 300000 AND telegram_id < 400000 ORDER BY id")).fetchall()]
    roles = [Role.OFFICER, Role.OFFICER, Role.OFFICER, Role.UNIT_HEAD, Role.DUTY, Role.DIRECTOR]
    await conn.executemany("INSERT INTO member_roles(member_id, role) VALUES (?,?)",
                           [(m, roles[i % len(roles)].value) for i, m in enumerate(ids)])
    await seed_incidents(conn, incidents, ids[0], common.OFFICER_UNIT)
    await conn.execute("UPDATE incidents SET status='closed', closed_at=created_at")
    await conn.execute("INSERT INTO incident_events(incident_id, at, actor_id, kind) "
                       "SELECT id, created_at, reporter_id, 'reported' FROM incidents")
    outbox_rows = []
    has_notices = await _has_table(conn, "notices")
    if has_notices:
        audience = json.dumps({"kind": "all"})
        for i in range(notices):
            at = to_db(now - timedelta(minutes=90 * i))
            cur = await conn.execute(
                "INSERT INTO notices(kind, sender_id, unit_code, title, body, audience, created_at, due_at)"
                " VALUES ('notice',?,?,?,?,?,?,?)",
                (ids[5], "office", f"通知{i}", "请各单位落实。" * 10, audience, at, at))
            nid = cur.lastrowid
            chosen = [ids[(i * 7 + j) % len(ids)] for j in range(per_notice)]
            await conn.executemany(
                "INSERT OR IGNORE INTO notice_recipients(notice_id, member_id, unit_code, asked_id, acked_at)"
                " VALUES (?,?,?,?,?)", [(nid, m, "office", m, at) for m in chosen])
            payload = json.dumps({"text": f"通知{i}：请各单位落实。", "parse_mode": "HTML"}, ensure_ascii=False)
            outbox_rows += [
                (300_000 + (m % members_n), "sendMessage", payload, "notice", nid, "deliver", "sent", at, at)
                for m in chosen]
    await conn.executemany(
        "INSERT INTO outbox(chat_id, method, payload, ref_kind, ref_id, tag, status, created_at, sent_at)"
        " VALUES (?,?,?,?,?,?,?,?,?)", outbox_rows)
    return {"members": members_n, "incidents": incidents, "notices": notices if has_notices else 0,
            "outbox history": len(outbox_rows)}


async def _has_table(conn, name: str) -> bool:  # type: ignore[no-untyped-def]
    row = await (await conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,))).fetchone()
    return row is not None


async def run(incidents: int = 500, notices: int = 5000, members_n: int = 300, repeat: int = 3) -> common.Result:
    with common.tmpdir() as tmp:
        desk = await common.real_desk(tmp)
        try:
            await common.seed_members(desk, [(400_000, "值班员", "office", Role.DUTY)])
            async with desk.db.tx() as conn:
                sizes = await seed_year(conn, incidents=incidents, notices=notices, members_n=members_n)
            await desk.settle()
            await desk.stop_bot()
            size_mb = desk.db_path.stat().st_size / 2**20
            starts = [await spawn_until_answer(desk.db_path, desk.emu, asker=400_000) for _ in range(repeat)]
        finally:
            await common.stop_desk(desk)
    ready = [s.ready_s for s in starts]
    best, worst = min(ready), max(ready)
    rows: list[tuple[str, Any, str]] = [(k, v, "") for k, v in sizes.items()]
    rows += [
        ("database MB", size_mb, ""),
        ("runs", repeat, ""),
        ("spawn → first answer s (best)", best, ""),
        ("spawn → first answer s (worst)", worst, common.verdict(worst <= 1.5, "≤ 1.5 s")),
        ("RSS MB at first answer", max(s.rss_mb for s in starts), ""),
    ]
    text = common.table("cold start (`dutydesk run` subprocess)", rows) + "\narrangement: " + botproc.DESK_ARRANGEMENT
    return common.Result("coldstart", text, worst <= 1.5)


if __name__ == "__main__":
    print(asyncio.run(run(20, 50, 30, 1)).text)
