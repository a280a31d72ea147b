"""Opt-in Telegram flood limits and deterministic fault injection."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field

FAULT_KINDS = ("429", "500", "502", "drop", "slow")


def is_sending_method(method: str) -> bool:
    """Methods that put content into a chat - the ones Telegram flood-limits."""
    return method.startswith(("send", "edit", "copy", "forward")) and method != "sendChatAction"


def is_rate_limited_method(method: str) -> bool:
    # Telegram's documented per-chat limits are about *new* messages.
    return method.startswith(("send", "copy", "forward")) and method != "sendChatAction"


@dataclass(frozen=True)
class RateLimits:
    """Telegram's broadcast limits (https://core.telegram.org/bots/faq#broadcasting-to-users)."""

    global_per_second: int = 30
    per_chat_per_second: int = 1
    group_per_minute: int = 20


class RateLimiter:
    """Sliding-window counters; a request is recorded only when it is allowed."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._global: deque[float] = deque()
        self._chat: dict[int, deque[float]] = {}
        self._group: dict[int, deque[float]] = {}

    @staticmethod
    def _retry_after(window: deque[float], limit: int, span: float, now: float) -> int | None:
        while window and window[0] <= now - span:
            window.popleft()
        if len(window) < limit:
            return None
        # The oldest entry leaves the window at window[0] + span.
        return max(1, math.ceil(window[0] + span - now))

    def check(self, chat_id: int, now: float) -> int | None:
        """Return ``retry_after`` seconds if the send must be refused, else record it."""
        lim = self.limits
        gw = self._global
        cw = self._chat.setdefault(chat_id, deque())
        waits = [
            self._retry_after(gw, lim.global_per_second, 1.0, now),
            self._retry_after(cw, lim.per_chat_per_second, 1.0, now),
        ]
        grp = None
        if chat_id < 0:
            grp = self._group.setdefault(chat_id, deque())
            waits.append(self._retry_after(grp, lim.group_per_minute, 60.0, now))
        worst = max((w for w in waits if w is not None), default=None)
        if worst is not None:
            return worst
        gw.append(now)
        cw.append(now)
        if grp is not None:
            grp.append(now)
        return None


@dataclass
class Faults:
    """Random, seeded fault injection.

    ``methods=None`` targets every sending method (send*/edit*/copy*/forward*, not
    sendChatAction).  Pass an explicit collection to target others, e.g. ``{"getUpdates"}``.
    Kinds: ``"429"`` (RetryAfter), ``"500"``/``"502"`` (not delivered), ``"drop"`` (connection
    closed without an answer, not delivered), ``"slow"`` (answered after ``slow_seconds``,
    delivered).  The same seed and the same request sequence give the same faults.
    """

    rate: float = 0.1
    kinds: tuple[str, ...] = FAULT_KINDS
    retry_after: int = 1
    slow_seconds: float = 2.0
    seed: int | None = 1
    methods: frozenset[str] | set[str] | tuple[str, ...] | None = None
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; valid: {FAULT_KINDS}")
        if not self.kinds:
            raise ValueError("Faults.kinds must not be empty")
        if self.methods is not None:
            self.methods = frozenset(self.methods)
        self._rng = random.Random(self.seed)

    def applies_to(self, method: str) -> bool:
        if self.methods is None:
            return is_sending_method(method)
        return method in self.methods

    def draw(self, method: str) -> str | None:
        if not self.applies_to(method):
            return None
        if self._rng.random() >= self.rate:
            return None
        return self._rng.choice(self.kinds)


@dataclass
class ForcedFault:
    """A queued one-shot fault (``emu.fail_next``), for deterministic tests."""

    kind: str
    methods: frozenset[str] | None
    remaining: int

    def applies_to(self, method: str) -> bool:
        return is_sending_method(method) if self.methods is None else method in self.methods
