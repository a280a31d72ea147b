"""Every aiosqlite connection runs on a thread of its own. One opened and never closed keeps its thread;
one whose open was cancelled half-way hands its connection to the event loop later, and once that loop
has closed the thread prints a traceback to stderr. That is what a standby printed under load (`dutydesk
run` opens the desk and closes it at once, as a check, before waiting for the lease). Whether a desk is
closed, its open fails, or its open is cancelled at any point, no thread may be left behind."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from storage import instances
from storage.db import Database


def _left_behind(before: set[threading.Thread]) -> list[threading.Thread]:
    """The threads started since `before` that do not end (each joined, not slept for). Those are then
    stopped, so that a regression fails here instead of keeping the test process from exiting."""
    new = [t for t in threading.enumerate() if t not in before]
    for thread in new:
        thread.join(5)
    alive = [t for t in new if t.is_alive()]
    for conn in gc.get_objects():
        if isinstance(conn, aiosqlite.Connection) and conn._thread in alive:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # no loop runs here: stop() gives no future, as wanted
                conn.stop()
    return alive


def _in_a_loop_of_its_own(make: Callable[[], Awaitable[object]]) -> list[BaseException]:
    """Run `make()` in a fresh event loop that then closes, as `asyncio.run` in the CLI does; return
    what any thread raised meanwhile or after."""
    raised: list[BaseException] = []
    hook = threading.excepthook
    threading.excepthook = lambda args: raised.append(args.exc_value or RuntimeError(args))
    before = set(threading.enumerate())
    try:
        asyncio.run(make())  # type: ignore[arg-type]
        assert _left_behind(before) == []
    finally:
        threading.excepthook = hook
    return raised


def test_open_then_close_at_once_leaves_no_thread(tmp_path: Path) -> None:
    async def check() -> None:
        await (await Database(tmp_path / "desk.sqlite3").open()).close()

    for _ in range(5):
        assert _in_a_loop_of_its_own(check) == []


async def _cancel_after(steps: int, open_: Callable[[], Awaitable[Any]]) -> None:
    """Start `open_()`, let the loop turn `steps` times, cancel it; close what had opened by then."""
    opening = asyncio.ensure_future(open_())
    for _ in range(steps):
        await asyncio.sleep(0)
    opening.cancel()
    try:
        opened = await opening
    except asyncio.CancelledError:
        return
    await opened.close()  # it had opened before the cancel came


@pytest.mark.parametrize("steps", range(0, 60, 3))
def test_an_open_cancelled_at_any_point_leaves_no_thread(tmp_path: Path, steps: int) -> None:
    assert _in_a_loop_of_its_own(lambda: _cancel_after(steps, Database(tmp_path / "desk.sqlite3").open)) == []


def test_a_failed_open_leaves_no_thread(tmp_path: Path) -> None:
    (tmp_path / "desk.sqlite3").write_bytes(b"not a database" * 100)

    async def failing() -> None:
        with pytest.raises(Exception, match="not a database"):
            await Database(tmp_path / "desk.sqlite3").open()

    assert _in_a_loop_of_its_own(failing) == []


@pytest.mark.parametrize("steps", range(0, 12, 2))
def test_the_lease_rows_connection_cancelled_while_opening_leaves_no_thread(tmp_path: Path, steps: int) -> None:
    path = tmp_path / "desk.sqlite3"
    assert _in_a_loop_of_its_own(lambda: _cancel_after(steps, lambda: instances.open_sqlite(path))) == []
