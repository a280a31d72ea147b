"""Feature modules whose deadline kinds the scheduler dispatches. Each has
`register(services, on)` that calls `on(kind, handler)` for its kinds."""

from __future__ import annotations

from bot.services import (
    calendar_deadlines,
    document_deadlines,
    escalation,
    incident_deadlines,
    incident_forward,
    info_deadlines,
    leave_deadlines,
    notice_deadlines,
    reporting_bulletin,
    role_review,
    roster_deadlines,
    supervision_deadlines,
)

DEADLINE_MODULES = (incident_deadlines, incident_forward, info_deadlines, supervision_deadlines, leave_deadlines,
                    notice_deadlines, roster_deadlines, calendar_deadlines, document_deadlines, reporting_bulletin,
                    escalation)

# Modules with recurring deadline rows: `async def ensure_recurring(services) -> None` plants
# each one's next occurrence if missing; called at start-up before the scheduler starts.
RECURRING_MODULES = (info_deadlines, supervision_deadlines, roster_deadlines, calendar_deadlines, role_review,
                     reporting_bulletin)
