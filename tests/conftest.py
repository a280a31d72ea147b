"""Shared fixtures: a Desk (emulator + real bot + fake clock) and registered people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.emulator import SimUser
from bot.harness import Desk
from bot.pace import WallPace


@pytest.fixture
async def desk(request: pytest.FixtureRequest) -> AsyncIterator[Desk]:
    # The outbox skips its paced waits (bot/pace.py), but in a slow test: those run at Telegram's real pace.
    pace = WallPace() if request.node.get_closest_marker("slow") else None
    async with Desk(pace=pace) as d:
        yield d


@dataclass
class Cast:
    officer: SimUser  # 建设路街道 信息员
    head: SimUser  # 建设路街道 办公室主任
    other_officer: SimUser  # 棉纺路街道 信息员
    duty: SimUser
    director: SimUser
    leader: SimUser
    admin: SimUser


@pytest.fixture
async def cast(desk: Desk) -> Cast:
    return Cast(
        officer=await desk.register("officer", "李信息", "jianshelu", "officer"),
        head=await desk.register("head", "王主任", "jianshelu", "unit_head"),
        other_officer=await desk.register("other", "赵信息", "mianfanglu", "officer"),
        duty=await desk.register("duty", "陈值班", "office", "duty"),
        director=await desk.register("director", "刘主任", "office", "director"),
        leader=await desk.register("leader", "孙区长", "office", "leader"),
        admin=await desk.register("admin", "周管理", "office", "admin"),
    )
