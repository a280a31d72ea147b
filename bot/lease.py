"""Active / standby for `dutydesk run` (issue 28): exactly one instance acts; the others wait.

`LeaseKeeper.take()` returns once this process holds the lease; until then it waits (one log line
naming the active instance, a try every second, its standby row every few seconds; in webhook mode
a tiny server answers 503 on the webhook's port so that Telegram retries). `release()` gives it up.

Two leases:
- PostgreSQL (`PgLease`): a session-level advisory lock on a dedicated asyncpg connection whose
  session the server ends by itself after `lease` seconds of silence (idle_session_timeout; TCP
  keepalives and tcp_user_timeout no shorter), and at once when the process dies. The active pings
  every `heartbeat` seconds; a watchdog THREAD (it works while the event loop is stuck) ends the
  process with EXIT_LEASE_LOST once no ping was answered for `lease - margin` seconds
  (bot/domain/lease.py), i.e. before the server can hand the lock to a standby, or at once when
  the server ends the session. Fail-stop: one critical line and os._exit, nothing else runs.
- SQLite (`FileLease`): an fcntl.flock on `<database>.lease`, which the kernel drops with the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from bot.config import Config
from bot.domain.lease import STANDBY_ROW_SECONDS, LeaseState, LeaseTerms, lock_key
from bot.i18n import TerminalTexts
from storage import instances
from storage import lease as pg_lease
from storage.address import schema_of
from storage.conn import Conn

log = logging.getLogger(__name__)

EXIT_LEASE_LOST = 75  # EX_TEMPFAIL: a supervisor restarts it, as a standby
LOCK_NAME = "dutydesk.active"
RETRY_SECONDS = 1.0  # a standby tries the lease this often
FORGET_AFTER = timedelta(days=1)  # rows silent this long are removed when an instance takes over
MIN_SERVER_VERSION = (14,)  # idle_session_timeout, which frees the lock of a silent holder, came in 14


class LeaseUnsupported(Exception):
    """The database cannot hold this lease (a PostgreSQL before 14): no retry will help."""

    def __init__(self, version: str) -> None:
        super().__init__(version)
        self.version = version


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease(Protocol):
    async def try_acquire(self) -> bool: ...

    async def holder(self) -> str | None: ...

    async def ping(self) -> None: ...

    async def release(self) -> None: ...

    def rows(self) -> Conn | None: ...


class FileLease:
    """flock on a file beside the SQLite database: per open file description, dropped by the kernel
    when the process ends however it ends. The holder writes its name into the file."""

    def __init__(self, path: Path, instance: str) -> None:
        self.path = path
        self.instance = instance
        self._fd: int | None = None
        self._db_path = path.with_name(path.name.removesuffix(".lease"))
        self._conn: aiosqlite.Connection | None = None

    async def try_acquire(self) -> bool:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, self.instance.encode("utf-8"), 0)
        return True

    async def holder(self) -> str | None:
        try:
            return self.path.read_text("utf-8").strip() or None
        except OSError:
            return None

    async def ping(self) -> None:
        """Nothing to renew: the kernel holds the lock as long as the process lives."""

    async def release(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    async def open_rows(self) -> Conn | None:
        """Its own autocommit connection to the database, for the instance rows (None: not there yet)."""
        if self._conn is None:
            if not self._db_path.exists():
                return None
            self._conn = await instances.open_sqlite(self._db_path)
        return self._conn

    def rows(self) -> Conn | None:
        return self._conn


class PgLease:
    """A session-level advisory lock on a dedicated asyncpg connection (see the module's docstring)."""

    def __init__(self, dsn: str, instance: str, terms: LeaseTerms, *, password: str | None = None,
                 monotonic: Callable[[], float] = time.monotonic, key: int | None = None) -> None:
        self.dsn = dsn
        self.instance = instance
        self.terms = terms
        self.password = password
        self.monotonic = monotonic
        # Advisory locks are per database: desks in different schemas of one database need their own key.
        self.key = lock_key(f"{LOCK_NAME}:{schema_of(dsn) or ''}") if key is None else key
        self.conn: Any = None
        self._rows: Conn | None = None
        self.state: LeaseState | None = None
        self.on_lost: Callable[[], None] | None = None  # the server ended the session while holding

    def server_settings(self) -> dict[str, str]:
        lease = self.terms.lease
        return {
            "application_name": f"dutydesk {self.instance}"[:63],
            # A dead peer is noticed by TCP no earlier than the idle timeout would end it.
            "tcp_keepalives_idle": str(max(1, int(lease))),
            "tcp_keepalives_interval": str(max(1, int(self.terms.heartbeat))),
            "tcp_keepalives_count": "3",
            "tcp_user_timeout": str(int(lease * 1000)),
        }

    async def _connect(self) -> Any:
        if self.conn is None or self.conn.is_closed():
            import asyncpg

            from storage.pg import PgConnection

            conn = await asyncpg.connect(self.dsn, password=self.password, timeout=self.terms.lease,
                                         server_settings=self.server_settings())
            version = conn.get_server_version()
            if tuple(version)[:1] < MIN_SERVER_VERSION:
                await conn.close()  # sent in the start-up packet, the setting would be refused vaguely
                raise LeaseUnsupported(f"{version.major}.{version.minor}")
            await pg_lease.end_when_silent(conn, self.terms.lease)
            self.conn = conn
            self.conn.add_termination_listener(self._terminated)
            self._rows = PgConnection(self.conn)
        return self.conn

    def _terminated(self, _conn: Any) -> None:
        if self.state is not None and self.on_lost is not None:
            self.on_lost()

    async def try_acquire(self) -> bool:
        conn = await self._connect()
        sent = self.monotonic()
        if not await pg_lease.try_lock(conn, self.key):
            return False
        self.state = LeaseState(self.terms, sent)
        return True

    async def holder(self) -> str | None:
        name = await pg_lease.holder(await self._connect(), self.key)
        return name.removeprefix("dutydesk ") if name else None

    async def ping(self) -> None:
        assert self.state is not None and self.conn is not None
        sent = self.monotonic()
        await pg_lease.ping(self.conn, timeout=self.terms.heartbeat)
        self.state.ping_ok(sent)

    async def release(self) -> None:
        conn, self.conn = self.conn, None
        held, self.state = self.state, None
        if conn is None:
            return
        conn.remove_termination_listener(self._terminated)
        try:
            if held is not None and not conn.is_closed():
                await asyncio.wait_for(pg_lease.unlock(conn, self.key), self.terms.heartbeat)
            await asyncio.wait_for(conn.close(), self.terms.heartbeat)
        except Exception as exc:  # noqa: BLE001 - the server drops the lock with the session anyway
            log.debug("lease release: %s", exc)
            conn.terminate()

    def rows(self) -> Conn | None:
        return self._rows if self.conn is not None and not self.conn.is_closed() else None


class LeaseKeeper:
    """Takes the lease for `dutydesk run`, keeps it, and stops the process once it may have lost it."""

    def __init__(
        self, lease: FileLease | PgLease, texts: TerminalTexts, terms: LeaseTerms, *, instance: str,
        standby_web: tuple[str, int] | None = None, now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic, exit_process: Callable[[int], Any] = os._exit,
        retry: float = RETRY_SECONDS,
    ) -> None:
        self.lease = lease
        self.t = texts
        self.terms = terms
        self.instance = instance
        self.standby_web = standby_web
        self.now = now
        self.monotonic = monotonic
        self.exit_process = exit_process
        self.retry = retry
        self.started_at = now()
        self.active_since: datetime | None = None
        self.stopped_at: float | None = None  # when it decided to stop (tests read it; the process is gone)
        self._heartbeat: asyncio.Task[None] | None = None
        self._watchdog: threading.Thread | None = None
        self._quiet = threading.Event()
        self._web: Any = None
        if isinstance(lease, PgLease):
            lease.on_lost = lambda: self.fail_stop("cli.lease_cut")

    # --- waiting ---------------------------------------------------------------------------

    async def take(self) -> None:
        """Until this process holds the lease (cancel it to give up waiting)."""
        waiting = False
        next_row = 0.0
        failing = False
        try:
            while True:
                try:
                    if await self.lease.try_acquire():
                        break
                    failing = False
                    if not waiting:
                        waiting = True
                        active = await self.lease.holder()
                        log.warning(self.t("cli.standby_waiting", instance=self.instance,
                                           active=active or self.t("cli.standby_someone"),
                                           seconds=f"{self.terms.lease:g}"))
                        await self._open_web()
                    if self.monotonic() >= next_row:
                        next_row = self.monotonic() + STANDBY_ROW_SECONDS
                        await self._put_row(instances.STANDBY)
                except LeaseUnsupported:
                    raise
                except Exception as exc:  # noqa: BLE001 - the server unreachable, refusing, restarting: try again
                    if not failing:
                        log.warning(self.t("cli.lease_unreachable", error=str(exc) or type(exc).__name__,
                                           seconds=f"{self.retry:g}"))
                    failing = True
                await asyncio.sleep(self.retry)
        except BaseException:
            await self.close_web()
            raise
        self.active_since = self.now()
        log.info(self.t("cli.lease_taken", instance=self.instance))
        await self._took_over()
        self._heartbeat = asyncio.create_task(self._beat(), name="lease-heartbeat")
        if isinstance(self.lease, PgLease):
            self._watchdog = threading.Thread(target=self._watch, name="lease-watchdog", daemon=True)
            self._watchdog.start()

    async def _open_web(self) -> None:
        if self.standby_web is None:
            return
        from bot.standby_web import open_busy

        listen, port = self.standby_web
        try:
            self._web = await open_busy(listen, port)
        except OSError as exc:  # e.g. the active instance listens there, on this very machine
            log.warning(self.t("cli.standby_listen_failed", listen=listen, port=port,
                               reason=exc.strerror or str(exc)))

    async def close_web(self) -> None:
        """Just before PTB's webhook binds the same port (Runtime.start's `before_listen`): until
        then Telegram hears 503 and retries, also while this instance starts up."""
        if self._web is not None:
            runner, self._web = self._web, None
            await runner.cleanup()

    # --- holding -----------------------------------------------------------------------------

    async def _beat(self) -> None:
        """Ping the lease every heartbeat and say so in the instance's row; the watchdog stops the process."""
        failed = False
        while self.stopped_at is None:
            try:
                await self.lease.ping()
                failed = False
            except Exception as exc:  # noqa: BLE001 - the watchdog decides; one line per failing stretch
                if not failed:
                    log.error(self.t("cli.lease_ping_failed", error=str(exc) or type(exc).__name__))
                failed = True
            else:
                await self._put_row(instances.ACTIVE)
            await asyncio.sleep(self.terms.heartbeat)

    def _watch(self) -> None:
        assert isinstance(self.lease, PgLease)
        while not self._quiet.is_set():
            state = self.lease.state
            if state is None:
                return
            remaining = state.stop_at() - self.monotonic()
            if remaining <= 0:
                self.fail_stop("cli.lease_lost")
                return
            self._quiet.wait(remaining)

    def fail_stop(self, key: str) -> None:
        """The lease may be someone else's by now: not one more message from this process."""
        if self.stopped_at is not None or self._quiet.is_set():
            return
        self.stopped_at = self.monotonic()
        log.critical(self.t(key, seconds=f"{self.terms.stop_after:g}", code=EXIT_LEASE_LOST))
        for handler in logging.getLogger().handlers:
            with contextlib.suppress(Exception):
                handler.flush()
        self.exit_process(EXIT_LEASE_LOST)

    async def release(self) -> None:
        """Stop heartbeating, remove this instance's row and give the lease up (a normal stop)."""
        self._quiet.set()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        await self.close_web()
        rows = self.lease.rows()
        if rows is not None and self.stopped_at is None:
            with contextlib.suppress(Exception):
                await instances.drop(rows, self.instance)
        await self.lease.release()

    # --- rows ----------------------------------------------------------------------------------

    def _row(self, role: str) -> instances.Instance:
        host, _, pid = self.instance.rpartition(":")
        return instances.Instance(self.instance, host or self.instance, int(pid) if pid.isdigit() else os.getpid(),
                                  role, self.started_at, self.active_since if role == instances.ACTIVE else None,
                                  self.now())

    async def _rows(self) -> Conn | None:
        if isinstance(self.lease, FileLease):
            return await self.lease.open_rows()
        return self.lease.rows()

    async def _put_row(self, role: str) -> None:
        """Best effort: the row is for `dutydesk status`; the lease does not depend on it."""
        try:
            if (rows := await self._rows()) is not None:
                await instances.put(rows, self._row(role))
        except Exception as exc:  # noqa: BLE001 - e.g. the table not there yet (an older database)
            log.debug("instance row: %s", exc)

    async def _took_over(self) -> None:
        await self._put_row(instances.ACTIVE)
        try:
            if (rows := await self._rows()) is not None:
                await instances.took_over(rows, self.instance, self.now() - FORGET_AFTER)
        except Exception as exc:  # noqa: BLE001
            log.debug("instance rows: %s", exc)


def keeper_for(config: Config, texts: TerminalTexts, *, webhook: dict[str, Any] | None = None,
               instance: str | None = None) -> LeaseKeeper:
    """The lease `dutydesk run` takes for this config: PostgreSQL's lock, or the file beside SQLite's."""
    terms = LeaseTerms(lease=float(config.ha.lease_seconds), heartbeat=float(config.ha.heartbeat_seconds))
    name = instance or instance_name()
    dsn = config.database_url
    lease: FileLease | PgLease
    if dsn is not None:
        from bot.secrets import database_password

        lease = PgLease(dsn, name, terms, password=database_password())
    else:
        path = config.database_path
        lease = FileLease(path.with_name(path.name + ".lease"), name)
    web = (str(webhook["listen"]), int(webhook["port"])) if webhook else None
    return LeaseKeeper(lease, texts, terms, instance=name, standby_web=web)
