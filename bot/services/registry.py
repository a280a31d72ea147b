"""Feature modules whose deadline kinds the scheduler dispatches. Each has
`register(services, on)` that calls `on(kind, handler)` for its kinds."""

from __future__ import annotations

from bot.services import incident_deadlines

DEADLINE_MODULES = (incident_deadlines,)
