"""4. Broadcast: a notice (上情下达) to N recipients, against the emulator enforcing Telegram's
limits (30 messages/s per bot, 1/s per chat, 429 with retry_after beyond that); then the same
broadcast while officers file reports, all of it through the bot's one pacing budget."""

from __future__ import annotations

import asyncio
import math
import time

from bench import botproc, common
from bench.flows import confirm, report_until_summary
from bot.domain.members import Role
from bot.domain.notices import Audience, AudienceSpec
from bot.emulator import RateLimits
from bot.services import notices
from storage import members

LIMITS = RateLimits()  # Telegram's: 30/s per bot, 1/s per chat, 20/min per group


REPORTERS = 20  # the mixed case: officers filing a full first report each while the broadcast runs
REPORTER_TG = 650_001


async def run(n: int = 1000, reporters: int = REPORTERS) -> common.Result:
    """The broadcast alone, then (fresh bot and database) the same broadcast while `reporters` officers
    file reports: their replies, alerts and the notice share the bot's one pacing budget (bot/pacing.py)."""
    results = []
    for mixed in (0, reporters) if reporters else (0,):
        with common.tmpdir() as tmp:
            desk = await common.real_desk(tmp, rate_limits=LIMITS)
            try:
                results.append(await _run(desk, n, mixed))
            finally:
                await common.stop_desk(desk)
    text = "\n\n".join(r.text for r in results)
    # In-process on purpose: the notice is filed by a service call, and the 30/s pace, not CPU, sets the time.
    text += "\narrangement: " + botproc.IN_PROCESS_ARRANGEMENT
    return common.Result("broadcast", text, all(r.ok for r in results))


async def _run(desk, n: int, reporters: int) -> common.Result:  # type: ignore[no-untyped-def]
    sender_tg = 600_000
    people = [(sender_tg, "值班主任", "office", Role.DIRECTOR)]
    people += [(600_001 + i, f"收件人{i}", common.OFFICER_UNIT, Role.OFFICER) for i in range(n)]
    if reporters:  # whom their alerts go to, and the officers themselves (who get the notice too)
        people += [(REPORTER_TG - 1, "值班员", "office", Role.DUTY)]
        people += [(REPORTER_TG + i, f"信息员{i}", common.OFFICER_UNIT, Role.OFFICER) for i in range(reporters)]
    await common.seed_members(desk, people)
    sender = await members.by_telegram_id(desk.db.conn, sender_tg)
    assert sender is not None
    await desk.settle()
    desk.emu.reset_stats()
    draft = notices.NoticeDraft(title="关于做好节日期间值班工作的通知", body="请各单位严格落实24小时值班制度。",
                                audience=AudienceSpec(Audience.ALL))
    t0 = time.time()
    filing = [asyncio.create_task(_file_report(desk, REPORTER_TG + i)) for i in range(reporters)]
    await notices.send_notice(desk.services, sender, draft)
    t_committed = time.time()
    last = 0.0
    for i in range(n):
        user = desk.emu.get_user(600_001 + i)
        assert user is not None
        msg = await user.wait_for("值班工作", timeout=max(120.0, n / 5))
        last = max(last, msg.date)
    notice_done = last - t0
    report_times = await asyncio.gather(*filing)
    last = max([last, *(t0 + t for t in report_times)])
    elapsed = last - t0
    messages = desk.emu.stats.messages_sent  # the notices, the sender's status line, replies and alerts
    # Telegram's window admits 30 in any second: the last batch can leave ceil(M/30) - 1 s after the first.
    minimum = float(max(0, math.ceil(messages / LIMITS.global_per_second) - 1))
    share = minimum / elapsed * 100 if minimum > 0 and elapsed > 0 else 100.0
    n429 = desk.emu.stats.rate_limited
    ok = share >= 90 and n429 == 0
    rows = [
        ("recipients", n, ""),
        ("messages sent (all chats)" if reporters else "messages sent (incl. the sender's)", messages, ""),
        ("commit (send_notice) ms", (t_committed - t0) * 1000, ""),
        ("elapsed s (to last delivery)", elapsed, ""),
        ("theoretical minimum s (ceil(msgs/30) - 1)", minimum, ""),
        ("share of ceiling %", share, common.verdict(share >= 90, "≥ 90 %")),
        ("429 answers", n429, common.verdict(n429 == 0, "0")),
    ]
    if reporters:
        ordered = sorted(report_times)
        rows[1:1] = [("officers filing a report meanwhile (7 updates each)", reporters, "")]
        rows += [("notice: last delivery s", notice_done, ""),
                 ("report filed, median s (from the broadcast's start)", ordered[len(ordered) // 2], ""),
                 ("report filed, slowest s", ordered[-1], "")]
    # Let the sender's status line get its last edit (bot/notice_progress.py has timers that
    # outlive Runtime.stop(): stopping now would log "database is not open").
    await asyncio.sleep(2.5)
    await desk.settle()
    title = ("broadcast while officers file reports (Telegram limits on)" if reporters
             else "broadcast (notice to all, Telegram limits on)")
    return common.Result("broadcast", common.table(title, rows), ok)


async def _file_report(desk, tg: int) -> float:  # type: ignore[no-untyped-def]
    """One officer's full first report, each step as soon as the bot answers; seconds from now to filed."""
    who = desk.emu.get_user(tg)
    assert who is not None
    t0 = time.time()
    await confirm(who, await report_until_summary(who, timeout=300), timeout=300)
    return time.time() - t0


if __name__ == "__main__":
    print(asyncio.run(run(60)).text)
