"""Fixtures: an emulator on a free port and a real PTB Application polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import BotApiEmulator

TOKEN = "123456:TEST"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # PTB's own retry loop reads RetryAfter.retry_after, which warns about a v23 type change.
    mark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
    for item in items:
        if "tests/emulator/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(mark)


def build_app(emu: BotApiEmulator) -> Application:
    return (
        Application.builder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    arg = " ".join(context.args or []) or "-"
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("确认", callback_data="ok:1"), InlineKeyboardButton("取消", callback_data="no:1")]]
    )
    await update.effective_message.reply_text(f"<b>欢迎</b> arg={arg}", parse_mode="HTML", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer(f"pressed {query.data}", show_alert=query.data == "no:1")
    await query.edit_message_text(f"chosen {query.data}")


def add_demo_handlers(app: Application) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN, bot_username="dutydesk_bot") as e:
        yield e


RunningApp = Callable[..., Awaitable[Application]]


@pytest.fixture
async def running_app(emu: BotApiEmulator) -> AsyncIterator[RunningApp]:
    """Factory: start a polling PTB app (with the demo handlers unless told otherwise)."""
    apps: list[Application] = []

    async def factory(*, handlers: bool = True, app: Application | None = None) -> Application:
        app = app or build_app(emu)
        if handlers:
            add_demo_handlers(app)
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=2)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        assert app.updater is not None
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
