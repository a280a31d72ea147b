"""2. Throughput against the framework floor: N officers each file a full first report at once
(7 updates each, durable writes); then the same emulator harness drives a bare
python-telegram-bot echo bot with the same number of round trips."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import AIORateLimiter, Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

import bot.app as app_module
from bench import common
from bench.flows import UPDATES_PER_REPORT, confirm, report_until_summary
from bot.domain.members import Role
from bot.emulator import BotApiEmulator, SimUser
from bot.harness import TOKEN


async def run(sizes: Sequence[int] = (100, 1000), variant: bool = True) -> common.Result:
    rows = []
    ok = True
    for n in sizes:
        ours = await _ours(n)
        capped = await _ours(n, overall_cap=True) if variant else float("nan")
        echo = await _echo(n)
        ratio = ours / echo if echo else float("nan")
        ok = ok and ours >= 500 and ratio >= 0.5
        rows.append((n, n * UPDATES_PER_REPORT, ours, capped, echo, ratio, capped / echo if echo else float("nan")))
    text = common.grid("throughput: N officers file a full first report at once vs a bare PTB echo bot",
                       ("officers", "updates", "DutyDesk/s", "variant/s", "echo/s", "ratio", "variant ratio"),
                       rows)
    text += ("\nvariant = DutyDesk with PTB's AIORateLimiter overall 30/s cap on every request, replies included"
             " (what shipped before; bulk sends are paced by the outbox either way)")
    text += "\ngoal: ≥ 500 updates/s and ratio ≥ 0.5 — " + ("met" if ok else "NOT met")
    return common.Result("throughput", text, ok)


@contextlib.contextmanager
def _overall_cap() -> Iterator[None]:
    """Build the app with PTB's limiter holding every request, replies included, to 30/s overall."""
    saved = app_module.AIORateLimiter

    def capped(**kw: Any) -> AIORateLimiter:  # type: ignore[type-arg]
        return AIORateLimiter(**{**kw, "overall_max_rate": 30, "overall_time_period": 1})

    app_module.AIORateLimiter = capped  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        app_module.AIORateLimiter = saved  # type: ignore[misc]


async def _ours(n: int, overall_cap: bool = False) -> float:
    with common.tmpdir() as tmp:
        with _overall_cap() if overall_cap else contextlib.nullcontext():
            desk = await common.real_desk(tmp)
        try:
            people = [(800_000 + i, f"信息员{i}", common.OFFICER_UNIT, Role.OFFICER) for i in range(n)]
            people += [(799_001, "值班员甲", "office", Role.DUTY), (799_002, "主任乙", "office", Role.DIRECTOR)]
            await common.seed_members(desk, people)
            officers = [desk.emu.get_user(800_000 + i) for i in range(n)]

            async def one(who: SimUser | None) -> None:
                assert who is not None
                await confirm(who, await report_until_summary(who, timeout=600), timeout=600)

            t0 = time.perf_counter()
            await asyncio.gather(*(one(o) for o in officers))
            elapsed = time.perf_counter() - t0
            async with desk.db.tx() as conn:
                row = await (await conn.execute("SELECT count(*) FROM incidents")).fetchone()
            assert row is not None and row[0] == n, f"{row[0] if row else 0} incidents filed, expected {n}"
            return n * UPDATES_PER_REPORT / elapsed
        finally:
            await common.stop_desk(desk)


_KB = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok")]])


async def _echo_text(update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None and update.effective_message is not None
    await ctx.bot.send_message(update.effective_chat.id, f"echo: {update.effective_message.text or '…'}",
                               reply_markup=_KB)


async def _echo_press(update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
    q = update.callback_query
    assert q is not None and update.effective_chat is not None
    await q.answer()
    await ctx.bot.send_message(update.effective_chat.id, f"echo: {q.data}", reply_markup=_KB)


async def _echo(n: int) -> float:
    """A bare PTB Application (defaults: no rate limiter, no persistence) on a fresh emulator."""
    emu = BotApiEmulator(token=TOKEN, bot_username="echo_bot", record_transcript=False)
    await emu.start()
    app: Application[Any, Any, Any, Any, Any, Any] = (
        Application.builder().token(emu.token).base_url(emu.base_url).base_file_url(emu.base_file_url)
        .connection_pool_size(64).build()
    )
    app.add_handler(MessageHandler(filters.ALL, _echo_text))
    app.add_handler(CallbackQueryHandler(_echo_press))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=10)
    try:
        users = [emu.user(700_000 + i, f"用户{i}", started=True) for i in range(n)]

        async def one(u: SimUser) -> None:
            # Same shape as a report: texts and button presses, each waiting for the answer.
            await u.send_text("/start")
            msg = await u.wait_for("echo", timeout=600)
            for step in range(UPDATES_PER_REPORT - 1):
                if step % 2 == 0:
                    await u.press(msg, text="好")
                else:
                    await u.send_text(f"第{step}步")
                msg = await u.wait_for("echo", timeout=600)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(u) for u in users))
        elapsed = time.perf_counter() - t0
        return n * UPDATES_PER_REPORT / elapsed
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await emu.stop()


if __name__ == "__main__":
    print(asyncio.run(run((20,))).text)
