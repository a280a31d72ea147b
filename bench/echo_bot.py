"""A bare python-telegram-bot echo bot: the framework floor for bench/throughput.py.

    python -m bench.echo_bot --base-url URL --token TOKEN [--base-file-url URL] [--transport desk]

PTB defaults (no rate limiter, no persistence, httpx), the connection pool DutyDesk uses, long polling
with no pause between polls; every text and every press is answered with one message carrying a
button, so a simulated person can go on pressing. SIGTERM/SIGINT stop it cleanly."""

from __future__ import annotations

import argparse
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import loop

_KB = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok")]])


async def echo_text(update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None and update.effective_message is not None
    await ctx.bot.send_message(update.effective_chat.id, f"echo: {update.effective_message.text or '…'}",
                               reply_markup=_KB)


async def echo_press(update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
    q = update.callback_query
    assert q is not None and update.effective_chat is not None
    await q.answer()
    await ctx.bot.send_message(update.effective_chat.id, f"echo: {q.data}", reply_markup=_KB)


def build(token: str, base_url: str, base_file_url: str | None = None,
          transport: str = "httpx") -> Application[Any, Any, Any, Any, Any, Any]:
    builder = Application.builder().token(token).base_url(base_url)
    if transport == "desk":  # DutyDesk's transport (bot/telegram_http.py): the same floor, like for like
        from bot.telegram_http import bot_requests

        request, get_updates_request = bot_requests(64)
        builder = builder.request(request).get_updates_request(get_updates_request)
    else:
        builder = builder.connection_pool_size(64)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    app = builder.build()
    app.add_handler(MessageHandler(filters.ALL, echo_text))
    app.add_handler(CallbackQueryHandler(echo_press))
    return app


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.echo_bot", description=__doc__.splitlines()[0])
    p.add_argument("--base-url", required=True, help="Bot API base URL, e.g. the emulator's")
    p.add_argument("--base-file-url")
    p.add_argument("--token", required=True)
    p.add_argument("--transport", choices=("httpx", "desk"), default="httpx")
    args = p.parse_args(argv)
    if args.transport == "desk":
        loop.install()  # like for like: DutyDesk's transport on DutyDesk's event loop (bot/loop.py)
    build(args.token, args.base_url, args.base_file_url, args.transport).run_polling(poll_interval=0.0, timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
