"""bot/loop.py: `dutydesk run` on uvloop where installed, on asyncio's loop where not."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot import loop


async def _which() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_runs_on_uvloop_when_installed() -> None:
    pytest.importorskip("uvloop")
    assert loop.name() == "uvloop"
    assert loop.run(_which()).startswith("uvloop")


def test_falls_back_to_asyncio_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed: import raises ImportError
    assert loop.name() == "asyncio"
    assert loop.run(_which()).startswith("asyncio")
