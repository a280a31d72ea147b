"""Waiting for a child process without polling it: its exit is awaited in a thread."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

_EXITS: dict[int, asyncio.Future[int]] = {}


def exit_of(proc: subprocess.Popen[Any]) -> asyncio.Future[int]:
    """A future that is done, with the exit code, once `proc` has ended (one waiting thread per process)."""
    fut = _EXITS.get(proc.pid)
    if fut is None or fut.get_loop() is not asyncio.get_running_loop():
        fut = _EXITS[proc.pid] = asyncio.ensure_future(asyncio.to_thread(proc.wait))
    return fut


async def ended(proc: subprocess.Popen[Any], timeout: float) -> bool:
    """Whether `proc` ends within `timeout` seconds."""
    done, _ = await asyncio.wait({exit_of(proc)}, timeout=timeout)
    return bool(done)
