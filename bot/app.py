"""One place builds the application: database, services, scheduler, outbox, handlers.

`Runtime` owns the lifecycle in the order that matters: the database opens before
PTB loads persisted conversations; the scheduler and outbox start after the
Application, and at start-up every deadline that came due while down fires once —
after the updates Telegram queued meanwhile were handled (at most `CATCH_UP_WAIT`
later, so an unreachable Bot API cannot hold the deadlines back for ever): an answer
sent before its deadline counts as on time, and no 迟报 goes out for it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes

from bot.clock import Clock, FakeClock, SystemClock
from bot.config import Config
from bot.context import Deps, DeskApplication, DeskContext
from bot.delivery import OutboxSender
from bot.desk_bot import DeskBot, UpdateBacklog
from bot.i18n import Texts
from bot.notice_progress import install_progress
from bot.pace import Pace, WallPace
from bot.pacing import Limits, Pacing, retry_seconds
from bot.secrets import database_password
from bot.sender_order import SenderOrder
from bot.services.base import Services
from bot.telegram_http import bot_requests
from bot.upstream import UpstreamPusher
from reminders.scheduler import DeadlineScheduler
from storage import members, meta, updates
from storage.engine import AnyDatabase, database
from storage.outbox import OutboxRow
from storage.persistence import SqlitePersistence
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# How long deadlines that came due while down wait for the updates queued meanwhile (bot/desk_bot.py).
CATCH_UP_WAIT = timedelta(minutes=1)


def build_application(
    config: Config, token: str, db: AnyDatabase, clock: Clock | None = None, pace: Pace | None = None,
) -> DeskApplication:
    """Wire everything; the caller opens `db` first and drives the lifecycle (see Runtime)."""
    clock = clock or SystemClock()
    uow = UnitOfWork(db, clock.now)
    services = Services(config=config, db=db, uow=uow, clock=clock, texts=Texts(config.general.language))
    scheduler = DeadlineScheduler(db, uow, clock.now)
    context_types = ContextTypes(context=DeskContext)
    # As many connections as updates in flight ([telegram] concurrent_updates): none waits for another's.
    request, get_updates_request = bot_requests(max(8, config.telegram.concurrent_updates), config.telegram.proxy)
    # Telegram's seconds: real ones in production; the harness's timeline skips the waits (bot/pace.py).
    pace = pace or WallPace()
    desk_bot = DeskBot(
        token, base_url=config.telegram.base_url, base_file_url=config.telegram.base_file_url,
        request=request, get_updates_request=get_updates_request,
        # The one pacing budget of every call: replies, edits, callback answers, uploads, outbox rows.
        rate_limiter=Pacing(telegram_limits(config), clock=pace.monotonic, sleep=pace.sleep),
    )
    backlog = UpdateBacklog()
    desk_bot.poll_after(backlog, clock.now)
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
    sender = OutboxSender(db, app.bot, clock.now, max_retries=config.telegram.max_retries, pace=pace)
    upstream = UpstreamPusher(services) if config.upstream.webhook_url else None
    # Group robots and SMS (issue 25): their own outbox and sender, woken by the same commits.
    from bot.channels.failover import Failover
    from bot.channels.sender import ChannelSender, read_secrets

    channel_sender = ChannelSender(services, read_secrets(config)) if config.robots or config.sms.url else None
    failover = Failover(services, channel_sender)
    sender.on_failed = failover.on_failed
    sender.on_sent = failover.on_sent
    progress = install_progress(sender, services, app.bot)  # after: it chains the hook set just above
    app.deps = Deps(services=services, scheduler=scheduler, sender=sender, upstream=upstream, progress=progress,
                    channels=channel_sender, failover=failover)

    def on_outbox(rows: Sequence[OutboxRow]) -> None:
        sender.wake(rows)
        failover.on_commit()
        if channel_sender is not None:
            channel_sender.wake()
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


def telegram_limits(config: Config) -> Limits:
    t = config.telegram
    return Limits(t.global_per_second, t.per_chat_per_second, t.group_per_minute)


class Runtime:
    """Start and stop DutyDesk around a PTB Application (polling or webhook)."""

    def __init__(
        self, config: Config, token: str, *, clock: Clock | None = None, db_path: str | None = None,
        pace: Pace | None = None,
    ) -> None:
        self.config = config
        self.token = token
        self.clock = clock or SystemClock()
        self.pace = pace  # the outbox's seconds (bot/pace.py); None: real ones
        self.db = database(db_path or config.database_target, password=database_password())
        self.app: DeskApplication | None = None
        self._waiting: set[asyncio.Task[None]] = set()  # for the start-up backlog (cancelled at stop)
        self._releasing: asyncio.Task[None] | None = None  # deadlines firing after it (awaited at stop)

    @property
    def deps(self) -> Deps:
        assert self.app is not None
        return self.app.deps

    async def start(
        self, *, polling: bool = True, webhook: dict[str, Any] | None = None, poll_interval: float = 0.0,
        before_listen: Callable[[], Awaitable[None]] | None = None,
    ) -> DeskApplication:
        await self.db.open()
        async with self.db.tx() as conn:
            await members.sync_units(conn, self.config.units)
        app = build_application(self.config, self.token, self.db, self.clock, self.pace)
        app.deps.handled = await updates.handled(self.db.read)
        self.app = app
        await self._reach_telegram(app)
        async with self.db.tx() as conn:  # for `dutydesk invite`, which never calls Telegram itself
            await meta.put(conn, meta.BOT_USERNAME, app.bot.username)
        await app.initialize()
        await app.start()
        deps = app.deps
        from bot.services.registry import RECURRING_MODULES

        for module in RECURRING_MODULES:
            await module.ensure_recurring(deps.services)
        updating = webhook is not None or polling
        await deps.scheduler.start(None if isinstance(self.clock, FakeClock) else app.job_queue, hold=updating)
        if isinstance(self.clock, FakeClock):
            self.clock.subscribe(self._on_clock)
        if deps.sender:
            deps.sender.start()
            deps.sender.wake()
        if deps.upstream:
            deps.upstream.start()
        if deps.channels is not None:
            deps.channels.start()
        assert app.updater is not None
        caught_up = asyncio.Event()
        if webhook is not None:
            if before_listen is not None:  # a standby's 503 server gives the port up (bot/lease.py)
                await before_listen()
            await app.updater.start_webhook(**webhook)
            self._waiting.add(asyncio.create_task(self._webhook_caught_up(app, caught_up)))
        elif polling:
            app.bot.catch_up(caught_up)
            await app.updater.start_polling(
                poll_interval=poll_interval, timeout=10, drop_pending_updates=False,
                allowed_updates=Update.ALL_TYPES,
            )
        if updating:
            self._waiting.add(asyncio.create_task(self._release_deadlines(caught_up)))
        return app

    async def _reach_telegram(self, app: DeskApplication) -> None:
        """getMe until it answers: an unreachable network is waited out with backoff (a line each
        try naming the server, never the token); only a rejected token (InvalidToken) ends it."""
        delay = 1.0
        while True:
            try:
                await app.bot.initialize()  # getMe; app.initialize() then finds the bot initialized
                return
            except InvalidToken:
                raise
            except RetryAfter as exc:
                error, pause = str(exc), retry_seconds(exc)
            except NetworkError as exc:  # TimedOut, refused, DNS, 5xx
                error, pause = str(exc), delay
                delay = min(delay * 2, self.MAX_BACKOFF)
            log.warning(app.deps.services.texts("cli.unreachable", url=self.config.telegram.base_url,
                                                error=error, seconds=f"{pause:g}"))
            await asyncio.sleep(pause)

    MAX_BACKOFF = 60.0

    async def _release_deadlines(self, caught_up: asyncio.Event) -> None:
        """Deadlines that came due while down fire once the updates queued meanwhile were handled."""
        try:
            await asyncio.wait_for(caught_up.wait(), CATCH_UP_WAIT.total_seconds())
        except TimeoutError:
            log.warning("the updates queued while down were not all fetched within %s (is the Bot API "
                        "reachable?): deadlines fire now", CATCH_UP_WAIT)
        if self.app is not None:  # not cancelled from here on: a stop waits for the firing to end
            self._releasing = asyncio.create_task(self.app.deps.scheduler.release())

    async def _webhook_caught_up(self, app: DeskApplication, caught_up: asyncio.Event) -> None:
        """Webhook: Telegram pushes what it queued while down; caught up once it holds nothing more
        (getWebhookInfo) and all of it was handled."""
        while True:
            try:
                if (await app.bot.get_webhook_info()).pending_update_count == 0:
                    break
            except TelegramError as exc:
                log.debug("getWebhookInfo: %s", exc)
            await asyncio.sleep(0.5)
        await app.update_queue.join()
        app.bot.live()
        caught_up.set()

    async def _on_clock(self, now: Any) -> None:
        if self.app is not None:
            await self.app.deps.scheduler.run_due(now)
            deps = self.app.deps
            for helper in (deps.channels, deps.failover):  # the channel sender's pace, the failover's wait
                if helper is not None:
                    await helper.tick()

    async def stop(self) -> None:
        app = self.app
        if app is None:
            return
        if isinstance(self.clock, FakeClock):
            self.clock.unsubscribe(self._on_clock)
        deps = app.deps
        for task in self._waiting:
            task.cancel()
        self._waiting.clear()
        if self._releasing is not None:
            await asyncio.gather(self._releasing, return_exceptions=True)
            self._releasing = None
        deps.scheduler.stop()
        if deps.sender:
            await deps.sender.stop()
        if deps.progress:  # its edits read the database: done before it closes
            await deps.progress.aclose()
        if deps.upstream:
            await deps.upstream.stop()
        if app.updater and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await self.db.close()
        self.app = None

    async def run_forever(
        self, on_started: Callable[[DeskApplication], None] | None = None,
        wait_turn: Callable[[], Awaitable[None]] | None = None, **kw: Any,
    ) -> None:
        """Start, run until SIGINT/SIGTERM, stop. A signal during start-up (e.g. while waiting
        for an unreachable Telegram, or as a standby in `wait_turn` for the lease: bot/lease.py)
        stops at once too."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except NotImplementedError:  # pragma: no cover
                pass
        async def begin() -> DeskApplication:
            if wait_turn is not None:
                await wait_turn()
            return await self.start(**kw)

        starting = asyncio.ensure_future(begin())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                starting.cancel()
            app = await starting
        except BaseException as exc:
            # e.g. the token was rejected: close the database too, or its thread keeps the process alive.
            stopping.cancel()
            if self.app is not None:
                await self.stop()
            await self.db.close()
            if isinstance(exc, asyncio.CancelledError) and stop.is_set():
                return  # stopped by a signal while starting
            raise
        if on_started is not None:
            on_started(app)
        # Everything start-up made (modules, PTB, the config) lives as long as the process: keep it
        # out of the collector's full passes, which otherwise walk it all (measured: ~65 ms → ~8 ms,
        # a pause any alert in flight would wait out).
        gc.collect()
        gc.freeze()
        try:
            await stopping
        finally:
            await self.stop()


