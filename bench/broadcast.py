"""4. Broadcast: a notice (上情下达) to N recipients, against the emulator enforcing Telegram's
limits (30 messages/s per bot, 1/s per chat, 429 with retry_after beyond that)."""

from __future__ import annotations

import asyncio
import math
import time

from bench import botproc, common
from bot.domain.members import Role
from bot.domain.notices import Audience, AudienceSpec
from bot.emulator import RateLimits
from bot.services import notices
from storage import members

LIMITS = RateLimits()  # Telegram's: 30/s per bot, 1/s per chat, 20/min per group


async def run(n: int = 1000) -> common.Result:
    with common.tmpdir() as tmp:
        desk = await common.real_desk(tmp, rate_limits=LIMITS)
        try:
            return await _run(desk, n)
        finally:
            await common.stop_desk(desk)


async def _run(desk, n: int) -> common.Result:  # type: ignore[no-untyped-def]
    sender_tg = 600_000
    people = [(sender_tg, "值班主任", "office", Role.DIRECTOR)]
    people += [(600_001 + i, f"收件人{i}", common.OFFICER_UNIT, Role.OFFICER) for i in range(n)]
    await common.seed_members(desk, people)
    sender = await members.by_telegram_id(desk.db.conn, sender_tg)
    assert sender is not None
    await desk.settle()
    desk.emu.reset_stats()
    draft = notices.NoticeDraft(title="关于做好节日期间值班工作的通知", body="请各单位严格落实24小时值班制度。",
                                audience=AudienceSpec(Audience.ALL))
    t0 = time.time()
    await notices.send_notice(desk.services, sender, draft)
    t_committed = time.time()
    last = 0.0
    for i in range(n):
        user = desk.emu.get_user(600_001 + i)
        assert user is not None
        msg = await user.wait_for("值班工作", timeout=max(120.0, n / 5))
        last = max(last, msg.date)
    elapsed = last - t0
    messages = desk.emu.stats.messages_sent  # the n notices and the sender's status line
    # Telegram's window admits 30 in any second: the last batch can leave ceil(M/30) - 1 s after the first.
    minimum = float(max(0, math.ceil(messages / LIMITS.global_per_second) - 1))
    share = minimum / elapsed * 100 if minimum > 0 and elapsed > 0 else 100.0
    n429 = desk.emu.stats.rate_limited
    ok = share >= 90 and n429 == 0
    rows = [
        ("recipients", n, ""),
        ("messages sent (incl. the sender's)", messages, ""),
        ("commit (send_notice) ms", (t_committed - t0) * 1000, ""),
        ("elapsed s (to last delivery)", elapsed, ""),
        ("theoretical minimum s (ceil(msgs/30) - 1)", minimum, ""),
        ("share of ceiling %", share, common.verdict(share >= 90, "≥ 90 %")),
        ("429 answers", n429, common.verdict(n429 == 0, "0")),
    ]
    # Let the sender's status line get its last edit (bot/notice_progress.py has timers that
    # outlive Runtime.stop(): stopping now would log "database is not open").
    await asyncio.sleep(2.5)
    await desk.settle()
    text = common.table("broadcast (notice to all, Telegram limits on)", rows)
    # In-process on purpose: the notice is filed by a service call, and the 30/s pace, not CPU, sets the time.
    text += "\narrangement: " + botproc.IN_PROCESS_ARRANGEMENT
    return common.Result("broadcast", text, ok)


if __name__ == "__main__":
    print(asyncio.run(run(60)).text)
