"""The SQLite lease (bot/lease.py FileLease): an flock beside the database file. Two holders in one
test (flock is per open file description: two opens, or another process); the second waits and takes
over once the first lets go, by a normal stop or by dying (kill -9)."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain.lease import LeaseTerms
from bot.i18n import TerminalTexts
from bot.lease import FileLease, LeaseKeeper
from storage import instances
from storage.db import Database
from tests.waiting import ended

TERMS = LeaseTerms(lease=15, heartbeat=2)


def _keeper(db_path: Path, name: str) -> LeaseKeeper:
    lease = FileLease(db_path.with_name(db_path.name + ".lease"), name)
    return LeaseKeeper(lease, TerminalTexts("zh"), TERMS, instance=name, retry=0.05)


async def _rows(db_path: Path) -> dict[str, str]:
    async with Database(db_path) as db:
        return {i.instance: i.role for i in await instances.all_instances(db.read)}


async def _until_standby_row(db_path: Path, name: str) -> None:
    for _ in range(500):
        if (await _rows(db_path)).get(name) == "standby":
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no standby row for {name}")


async def _until(test: object, seconds: float = 10) -> None:
    async def wait() -> None:
        while not (test() if callable(test) else test):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), seconds)


async def test_the_second_waits_and_takes_over_once_the_first_stops(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db_path = tmp_path / "desk.sqlite3"
    await (await Database(db_path).open()).close()
    first, second = _keeper(db_path, "host-a:1"), _keeper(db_path, "host-b:2")
    await first.take()
    caplog.set_level(logging.INFO)
    taking = asyncio.create_task(second.take())
    await _until(lambda: "待命" in caplog.text)
    await _until_standby_row(db_path, "host-b:2")
    waiting = [r.getMessage() for r in caplog.records if "待命" in r.getMessage()]
    assert len(waiting) == 1 and "host-a:1" in waiting[0] and "host-b:2" in waiting[0], waiting
    assert await _rows(db_path) == {"host-a:1": "active", "host-b:2": "standby"}
    assert not taking.done()
    await first.release()
    await asyncio.wait_for(taking, 5)
    assert await _rows(db_path) == {"host-b:2": "active"}  # the first removed its row on a normal stop
    assert sum("待命" in r.getMessage() for r in caplog.records) == 1  # one line, not one per try
    await second.release()


async def test_the_second_takes_over_when_the_holder_is_killed(tmp_path: Path) -> None:
    db_path = tmp_path / "desk.sqlite3"
    await (await Database(db_path).open()).close()
    lease_file = db_path.with_name(db_path.name + ".lease")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import asyncio, sys\n"
         "from bot.lease import FileLease\n"
         f"lease = FileLease(__import__('pathlib').Path({str(lease_file)!r}), 'other-host:77')\n"
         "assert asyncio.run(lease.try_acquire())\n"
         "print('held', flush=True)\n"
         "sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert await asyncio.to_thread(holder.stdout.readline) == b"held\n"
        second = _keeper(db_path, "host-b:2")
        taking = asyncio.create_task(second.take())
        await _until_standby_row(db_path, "host-b:2")
        assert not taking.done()  # the other process holds it
        assert await second.lease.holder() == "other-host:77"
        holder.send_signal(signal.SIGKILL)
        assert await ended(holder, 5)
        await asyncio.wait_for(taking, 5)
        assert await second.lease.holder() == "host-b:2"
        await second.release()
    finally:
        if holder.poll() is None:
            holder.kill()
