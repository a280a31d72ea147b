"""When the active instance must stop acting: the fail-stop rule of the PostgreSQL lease (issue 28).

The active instance holds a session-level advisory lock. The server gives it up by itself once the
session has been idle for `lease` seconds (idle_session_timeout; TCP keepalives and tcp_user_timeout
are set no shorter), counted from the end of the last statement it received. The active instance
pings every `heartbeat` seconds and remembers when it SENT its last ping that was answered: the
server received that ping no earlier, so it cannot release the lock before `sent + lease`. Stopping
at `sent + lease - margin` therefore always comes first, whatever became of the later pings (lost,
delayed, received but unanswered). `margin` covers the stopping itself and the two clocks' drift.

Plain numbers (seconds of a monotonic clock) in and out; bot/lease.py applies the rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MIN_MARGIN = 3.0  # seconds between the moment the active stops and the earliest release
MIN_HEARTBEAT = 0.5
MAX_LEASE = 3600.0


@dataclass(frozen=True)
class LeaseTerms:
    lease: float  # seconds the server keeps the lock of a silent session
    heartbeat: float  # seconds between two pings of the active instance
    margin: float = MIN_MARGIN

    @property
    def stop_after(self) -> float:
        """Seconds without an answered ping after which the active stops (counted from its sending)."""
        return self.lease - self.margin


def terms_problem(lease: float, heartbeat: float) -> str | None:
    """Why these seconds cannot work (None: they can): the active must be able to miss a ping and
    still answer before it has to stop."""
    if heartbeat < MIN_HEARTBEAT:
        return f"heartbeat must be at least {MIN_HEARTBEAT:g} s"
    if not lease <= MAX_LEASE:
        return f"lease must be at most {MAX_LEASE:g} s"
    least = MIN_MARGIN + 2 * heartbeat
    if lease < least:
        return (f"lease must be at least {least:g} s for a heartbeat of {heartbeat:g} s "
                f"({MIN_MARGIN:g} s margin + two heartbeats), so that one lost ping does not stop the active instance")
    return None


class LeaseState:
    """What the active instance knows about its lease: when it sent the last statement the server
    answered. `acquired(sent)` with the send time of the statement that took the lock."""

    def __init__(self, terms: LeaseTerms, acquired_sent: float) -> None:
        self.terms = terms
        self.last_ok_sent = acquired_sent

    def ping_ok(self, sent: float) -> None:
        """A ping sent at `sent` was answered (answers may arrive out of order: the latest send counts)."""
        self.last_ok_sent = max(self.last_ok_sent, sent)

    def stop_at(self) -> float:
        """The moment it must have stopped by, unless an answer to a later ping comes first."""
        return self.last_ok_sent + self.terms.stop_after

    def must_stop(self, now: float) -> bool:
        return now >= self.stop_at()


def earliest_release(terms: LeaseTerms, last_received: float) -> float:
    """The earliest moment the server may release the lock, given when it last received a statement."""
    return last_received + terms.lease


STANDBY_ROW_SECONDS = 5.0  # a standby writes its row this often (bot/lease.py)


def standby_silent(age: float, lease: float) -> bool:
    """A standby whose row is `age` seconds old has stopped: it writes one every STANDBY_ROW_SECONDS, and
    one killed (-9, a power cut) cannot remove its own. Two missed rows, and never sooner than the lease."""
    return age > max(lease, 2 * STANDBY_ROW_SECONDS)


def lock_key(name: str) -> int:
    """A fixed signed 64-bit advisory-lock key derived from `name` (same name, same key, every process)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
