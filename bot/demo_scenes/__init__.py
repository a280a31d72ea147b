"""Scenes of `dutydesk demo`, one module per feature, played in this order.

Each scene module has `TITLE` (a catalog key) and `async def play(stage: Stage) -> None`.
"""

from __future__ import annotations

from bot.demo_scenes import incident, info
from bot.demo_scenes import supervision
from bot.demo_scenes import leave
from bot.demo_scenes import notice
from bot.demo_scenes import roster

SCENES = (incident, info, supervision, leave, notice, roster)
