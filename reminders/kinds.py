"""What the feature modules hand the deadline scheduler (no Telegram here: services import it).

`register(services, on)` in each module listed in bot/services/registry.py calls
`on(kind, handler)` for each of its deadline kinds; a reminder also names what it warns of.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from storage.deadlines import Deadline
from storage.uow import Tx

DeadlineHandler = Callable[[Tx, Deadline], Awaitable[None]]
# The moment a reminder row warns of, read from the current state when it fires (a stage's
# deadline, a meeting's start); None when there is none, and the handler decides.
WarnsOf = Callable[[Tx, Deadline], Awaitable[datetime | None]]


class On(Protocol):
    """`DeadlineScheduler.on`: `outdated` runs instead of `handler` when the reminder is dropped (a
    recurring row still plants its next occurrence)."""

    def __call__(self, kind: str, handler: DeadlineHandler, *, warns_of: WarnsOf | None = None,
                 outdated: DeadlineHandler | None = None) -> None: ...
