"""The PostgreSQL lease (bot/lease.py PgLease): two lease holders on a real server. The second takes
over once the first's session ends — terminated by the server (pg_terminate_backend), its process
killed -9, or its network cut (a proxy that stops forwarding: the server hears nothing, and ends the
silent session after `lease` seconds) — and a cut-off holder decides to stop before the takeover.

Skipped with the reason printed when no server answers (tests/postgres/conftest.py: DUTYDESK_TEST_PG,
"off"). Each test has its own schema (scratch_schema), so its own lock key and table, dropped after."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.domain.lease import LeaseTerms
from bot.harness import scratch_schema
from bot.i18n import TerminalTexts
from bot.lease import EXIT_LEASE_LOST, LeaseKeeper, PgLease
from storage import instances
from storage.peek import drop_schema
from storage.pg import PgConnection, PgDatabase
from tests.waiting import ended


@dataclass
class Server:
    dsn: str  # the test server, with this test's schema as search_path
    admin: asyncpg.Connection

    @property
    def rows(self) -> PgConnection:
        return PgConnection(self.admin)

    def through(self, port: int) -> str:
        """The same address through a proxy on this machine's `port`."""
        parts = urlsplit(self.dsn)
        netloc = (f"{parts.username}@" if parts.username else "") + f"127.0.0.1:{port}"
        return parts._replace(netloc=netloc).geturl()

    @property
    def upstream(self) -> tuple[str, int]:
        parts = urlsplit(self.dsn)
        return parts.hostname or "127.0.0.1", parts.port or 5432


@pytest.fixture
async def pg() -> AsyncIterator[Server]:
    target = scratch_schema("lease")
    await (await PgDatabase(target).open()).close()  # the schema, migrated: desk_instances is there
    admin = await asyncpg.connect(target)
    try:
        yield Server(target, admin)
    finally:
        await admin.close()
        await drop_schema(target)


class Exits:
    """os._exit stand-in: records the code and when (the keeper stops acting either way)."""

    def __init__(self) -> None:
        self.codes: list[tuple[int, float]] = []

    def __call__(self, code: int) -> None:
        self.codes.append((code, time.monotonic()))


def _keeper(dsn: str, name: str, terms: LeaseTerms, exits: Exits | None = None) -> LeaseKeeper:
    return LeaseKeeper(PgLease(dsn, name, terms), TerminalTexts("en"), terms, instance=name,
                       exit_process=exits or Exits(), retry=0.05)


async def _wait(test: object, seconds: float) -> None:
    async def loop() -> None:
        while not (test() if callable(test) else test):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), seconds)


async def _standing_by(server: Server, name: str) -> None:
    await _wait_async(lambda: _role(server.rows, name), "standby", 10)


async def _role(rows: PgConnection, name: str) -> str | None:
    return {i.instance: i.role for i in await instances.all_instances(rows)}.get(name)


async def _wait_async(probe: object, want: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if await probe() == want:  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not {want} within {seconds}s")


async def test_the_second_takes_over_when_the_first_session_is_terminated(pg: Server) -> None:
    terms = LeaseTerms(lease=15, heartbeat=2)
    exits = Exits()
    first, second = _keeper(pg.dsn, "host-a:1", terms, exits), _keeper(pg.dsn, "host-b:2", terms)
    await first.take()
    taking = asyncio.create_task(second.take())
    await _standing_by(pg, "host-b:2")
    assert not taking.done()
    assert await second.lease.holder() == "host-a:1"  # named by its session's application_name
    first_lease = first.lease
    assert isinstance(first_lease, PgLease)
    pid = first_lease.conn.get_server_pid()
    await pg.admin.execute("SELECT pg_terminate_backend($1)", pid)
    await asyncio.wait_for(taking, 5)  # at once: the server ended the session and its lock
    await _wait(lambda: exits.codes, 5)
    assert [code for code, _ in exits.codes] == [EXIT_LEASE_LOST]  # the first knows it lost the lease
    assert await _role(pg.rows, "host-b:2") == "active"
    await first.release()
    await second.release()


async def test_the_second_takes_over_when_the_holder_is_killed(pg: Server) -> None:
    terms = LeaseTerms(lease=15, heartbeat=2)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import asyncio, sys\n"
         "from bot.domain.lease import LeaseTerms\n"
         "from bot.lease import PgLease\n"
         "async def main():\n"
         f"    lease = PgLease({pg.dsn!r}, 'doomed:9', LeaseTerms(15, 2))\n"
         "    assert await lease.try_acquire()\n"
         "    print('held', flush=True)\n"
         "    await asyncio.to_thread(sys.stdin.read)\n"
         "asyncio.run(main())\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert await asyncio.to_thread(holder.stdout.readline) == b"held\n"
        second = _keeper(pg.dsn, "host-b:2", terms)
        taking = asyncio.create_task(second.take())
        await _standing_by(pg, "host-b:2")
        assert not taking.done() and await second.lease.holder() == "doomed:9"
        killed = time.monotonic()
        holder.send_signal(signal.SIGKILL)
        assert await ended(holder, 5)
        await asyncio.wait_for(taking, 5)
        print(f"takeover {time.monotonic() - killed:.2f} s after kill -9")
        await second.release()
    finally:
        if holder.poll() is None:
            holder.kill()


class Proxy:
    """TCP between the first holder and the server; `cut()` stops forwarding both ways without
    closing anything, as a partition does: neither side hears a FIN or a reset."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.cutoff = asyncio.Event()
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self.writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if self.cutoff.is_set():
                await asyncio.Event().wait()  # held for ever: nothing more goes through
            writer.write(data)
            await writer.drain()

    def cut(self) -> None:
        self.cutoff.set()

    async def close(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        if self.server is not None:
            self.server.close()


async def test_a_cut_off_holder_stops_before_the_standby_takes_over(pg: Server) -> None:
    terms = LeaseTerms(lease=7, heartbeat=1)  # stops 4 s after its last answered ping; the server frees at 7 s
    proxy = Proxy(pg.upstream)
    port = await proxy.start()
    exits = Exits()
    first = _keeper(pg.through(port), "host-a:1", terms, exits)
    second = _keeper(pg.dsn, "host-b:2", terms)
    try:
        await first.take()
        taking = asyncio.create_task(second.take())
        await _standing_by(pg, "host-b:2")
        first_lease = first.lease
        assert isinstance(first_lease, PgLease) and first_lease.state is not None
        proxy.cut()
        cut = time.monotonic()
        await asyncio.wait_for(taking, terms.lease + 5)
        second_lease = second.lease
        assert isinstance(second_lease, PgLease) and second_lease.state is not None
        took = second_lease.state.last_ok_sent  # when it sent the statement that took the lock
        assert [code for code, _ in exits.codes] == [EXIT_LEASE_LOST]
        stopped = exits.codes[0][1]
        print(f"cut at 0; first stopped at {stopped - cut:.2f} s; second took over at {took - cut:.2f} s")
        # The first stopped a margin before the server could have freed its lock: the standby's
        # previous try (retry 0.05 s before `took`) still found it held.
        assert stopped < took - terms.margin + 0.5
        assert stopped - cut <= terms.stop_after + 0.5
    finally:
        await proxy.close()
        with contextlib.suppress(Exception):
            await first.release()
        await second.release()


async def test_a_cut_off_holder_process_exits_75_before_the_takeover(pg: Server) -> None:
    """The same with os._exit for real: the watchdog thread ends the holder's process."""
    terms = LeaseTerms(lease=7, heartbeat=1)
    proxy = Proxy(pg.upstream)
    port = await proxy.start()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import asyncio, logging, sys\n"
         "from bot.domain.lease import LeaseTerms\n"
         "from bot.i18n import TerminalTexts\n"
         "from bot.lease import LeaseKeeper, PgLease\n"
         "logging.basicConfig(level=logging.INFO)\n"
         "async def main():\n"
         "    terms = LeaseTerms(7, 1)\n"
         f"    keeper = LeaseKeeper(PgLease({pg.through(port)!r}, 'doomed:9', terms), TerminalTexts('en'), terms,\n"
         "                         instance='doomed:9')\n"
         "    await keeper.take()\n"
         "    print('held', flush=True)\n"
         "    await asyncio.Event().wait()\n"
         "asyncio.run(main())\n"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = _keeper(pg.dsn, "host-b:2", terms)
    try:
        assert holder.stdout is not None and holder.stderr is not None
        assert await asyncio.to_thread(holder.stdout.readline) == b"held\n"
        taking = asyncio.create_task(second.take())
        await _standing_by(pg, "host-b:2")
        proxy.cut()
        cut = time.monotonic()
        exited = asyncio.ensure_future(asyncio.to_thread(holder.wait))
        code = await asyncio.wait_for(asyncio.shield(exited), terms.lease + 5)
        stopped = time.monotonic()
        assert code == EXIT_LEASE_LOST
        assert not taking.done()  # the server still holds the lock for the silent session
        await asyncio.wait_for(taking, terms.lease + 5)
        second_lease = second.lease
        assert isinstance(second_lease, PgLease) and second_lease.state is not None
        took = second_lease.state.last_ok_sent
        print(f"cut at 0; holder process exited {code} at {stopped - cut:.2f} s; "
              f"standby took over at {took - cut:.2f} s")
        assert stopped < took - 2
        err = (await asyncio.to_thread(holder.stderr.read)).decode()
        assert err.count("CRITICAL") == 1 and "exits now (exit code 75)" in err, err
    finally:
        await proxy.close()
        if holder.poll() is None:
            holder.kill()
        await second.release()
