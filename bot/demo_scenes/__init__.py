"""Scenes of `dutydesk demo`, one module per feature, played in this order.

Each scene module has `TITLE` (a catalog key) and `async def play(stage: Stage) -> None`.
"""

from __future__ import annotations

from bot.demo_scenes import (
    documents,
    escalation,
    handover,
    incident,
    info,
    leave,
    notice,
    record,
    roster,
    supervision,
)

SCENES = (incident, escalation, record, info, supervision, leave, notice, roster, handover, documents)
