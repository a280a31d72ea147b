"""One place builds the application: database, services, scheduler, outbox, handlers.

`Runtime` owns the lifecycle in the order that matters: the database opens before
PTB loads persisted conversations; the scheduler and outbox start after the
Application, and at start-up every deadline that came due while down fires once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, CallbackContext, ContextTypes
from telegram.request import BaseRequest, HTTPXRequest

from bot.clock import Clock, FakeClock, SystemClock
from bot.config import Config
from bot.delivery import OutboxSender
from bot.desk_bot import DeskBot, UpdateBacklog
from bot.domain.members import Member
from bot.i18n import Texts
from bot.sender_order import SenderOrder
from bot.services.base import Services
from bot.services.registration import commands_for
from bot.transport import LeanRequest
from bot.upstream import UpstreamPusher
from reminders.scheduler import DeadlineScheduler
from storage import members, updates
from storage.db import Database
from storage.outbox import OutboxRow
from storage.persistence import SqlitePersistence
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Deps:
    services: Services
    scheduler: DeadlineScheduler
    sender: OutboxSender | None = None
    upstream: UpstreamPusher | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    handled: updates.Handled = updates.Handled()  # handled before start-up (handlers.skip_redelivered)


class DeskApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application with our dependencies attached (see DeskContext)."""

    deps: Deps


class DeskContext(CallbackContext[DeskBot, dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Handlers reach services as typed properties, never through bot_data strings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Drafts read ahead for this update (handlers.common.load_drafts); one context per update.
        self.drafts_read: dict[tuple[int, str], dict[str, Any]] = {}
        # The person's dialogue step when the update reached the dialogue map (handlers/dialogs.py).
        self.dialog_state: object = None

    @property
    def deps(self) -> Deps:
        return self.application.deps  # type: ignore[attr-defined, no-any-return]

    @property
    def services(self) -> Services:
        return self.deps.services

    @property
    def t(self) -> Texts:
        return self.deps.services.texts


def build_application(config: Config, token: str, db: Database, clock: Clock | None = None) -> DeskApplication:
    """Wire everything; the caller opens `db` first and drives the lifecycle (see Runtime)."""
    clock = clock or SystemClock()
    uow = UnitOfWork(db, clock.now)
    services = Services(config=config, db=db, uow=uow, clock=clock, texts=Texts(config.general.language))
    scheduler = DeadlineScheduler(db, uow, clock.now)
    context_types = ContextTypes(context=DeskContext)
    # Generous read timeout: retrying a slow-but-delivered send would duplicate it.
    # As many connections as updates in flight ([telegram] concurrent_updates): none waits for another's.
    read, write, connect, pool, connections = 30.0, 30.0, 10.0, 30.0, 64
    timeouts = {"read_timeout": read, "write_timeout": write, "connect_timeout": connect, "pool_timeout": pool}
    request: BaseRequest
    if config.telegram.transport == "httpx":
        request, get_updates_request = HTTPXRequest(connections, **timeouts), HTTPXRequest(1, **timeouts)
    else:
        request, get_updates_request = LeanRequest(connections, **timeouts), LeanRequest(1, **timeouts)
    desk_bot = DeskBot(
        token, base_url=config.telegram.base_url, base_file_url=config.telegram.base_file_url,
        request=request, get_updates_request=get_updates_request,
        # Telegram's ~30 messages/s is for bulk sends: the outbox paces those itself (delivery.GlobalPacer).
        # Direct replies are one per user action, so no overall cap here; group limits and 429 retries stay.
        rate_limiter=AIORateLimiter(overall_max_rate=0, max_retries=3),
    )
    backlog = UpdateBacklog()
    desk_bot.poll_after(backlog)
    builder = (
        ApplicationBuilder()
        .application_class(DeskApplication)
        .bot(desk_bot)
        .update_queue(backlog)
        .context_types(context_types)
        .persistence(SqlitePersistence(db))
        # Different people side by side, each person in order (bot/sender_order.py); 1: one at a time.
        .concurrent_updates(SenderOrder(slots) if (slots := config.telegram.concurrent_updates) > 1 else False)
    )
    app: DeskApplication = builder.build()  # type: ignore[assignment]
    sender = OutboxSender(db, app.bot, clock.now, max_retries=config.telegram.max_retries)
    upstream = UpstreamPusher(services) if config.upstream.webhook_url else None
    app.deps = Deps(services=services, scheduler=scheduler, sender=sender, upstream=upstream)

    def on_outbox(rows: Sequence[OutboxRow]) -> None:
        sender.wake(rows)
        if upstream is not None:
            upstream.wake()

    uow.on_outbox = on_outbox
    uow.on_deadline = scheduler.consider
    from bot.services.registry import DEADLINE_MODULES
    from handlers import register_all

    for module in DEADLINE_MODULES:
        module.register(services, scheduler.on)
    register_all(app)
    return app


async def set_member_commands(app: DeskApplication, member: Member) -> None:
    """Per-member command menu; a server that refuses setMyCommands must not stop the bot."""
    t = app.deps.services.texts
    cmds = [BotCommand(c, t.help_line(c).split("—", 1)[-1].strip()[:256]) for c in commands_for(member)]
    try:
        await app.bot.set_my_commands(cmds, scope=BotCommandScopeChat(member.telegram_id))
    except TelegramError as exc:
        log.warning("setMyCommands refused for a member: %s", exc)


class Runtime:
    """Start and stop DutyDesk around a PTB Application (polling or webhook)."""

    def __init__(self, config: Config, token: str, *, clock: Clock | None = None, db_path: str | None = None) -> None:
        self.config = config
        self.token = token
        self.clock = clock or SystemClock()
        self.db = Database(db_path or config.database_path)
        self.app: DeskApplication | None = None

    @property
    def deps(self) -> Deps:
        assert self.app is not None
        return self.app.deps

    async def start(
        self, *, polling: bool = True, webhook: dict[str, Any] | None = None, poll_interval: float = 0.0,
    ) -> DeskApplication:
        await self.db.open()
        async with self.db.tx() as conn:
            await members.sync_units(conn, self.config.units)
        app = build_application(self.config, self.token, self.db, self.clock)
        app.deps.handled = await updates.handled(self.db.read)
        self.app = app
        await app.initialize()
        await app.start()
        deps = app.deps
        from bot.services.registry import RECURRING_MODULES

        for module in RECURRING_MODULES:
            await module.ensure_recurring(deps.services)
        await deps.scheduler.start(None if isinstance(self.clock, FakeClock) else app.job_queue)
        if isinstance(self.clock, FakeClock):
            self.clock.subscribe(self._on_clock)
        if deps.sender:
            deps.sender.start()
            deps.sender.wake()
        if deps.upstream:
            deps.upstream.start()
        assert app.updater is not None
        if webhook is not None:
            await app.updater.start_webhook(**webhook)
        elif polling:
            await app.updater.start_polling(
                poll_interval=poll_interval, timeout=10, drop_pending_updates=False,
                allowed_updates=Update.ALL_TYPES,
            )
        return app

    async def _on_clock(self, now: Any) -> None:
        if self.app is not None:
            await self.app.deps.scheduler.run_due(now)

    async def stop(self) -> None:
        app = self.app
        if app is None:
            return
        if isinstance(self.clock, FakeClock):
            self.clock.unsubscribe(self._on_clock)
        deps = app.deps
        deps.scheduler.stop()
        if deps.sender:
            await deps.sender.stop()
        for helper in list(deps.extra.values()):  # features' background helpers, before the DB closes
            if (aclose := getattr(helper, "aclose", None)) is not None:
                await aclose()
        if deps.upstream:
            await deps.upstream.stop()
        if app.updater and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await self.db.close()
        self.app = None

    async def run_forever(self, **kw: Any) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except NotImplementedError:  # pragma: no cover
                pass
        try:
            await self.start(**kw)
        except BaseException:
            # e.g. the token was rejected: close the database too, or its thread keeps the process alive.
            if self.app is not None:
                await self.stop()
            await self.db.close()
            raise
        # Everything start-up made (modules, PTB, the config) lives as long as the process: keep it
        # out of the collector's full passes, which otherwise walk it all (measured: ~65 ms → ~8 ms,
        # a pause any alert in flight would wait out).
        gc.collect()
        gc.freeze()
        try:
            await stop.wait()
        finally:
            await self.stop()


