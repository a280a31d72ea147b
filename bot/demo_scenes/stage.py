"""What a demo scene is given: the running desk, the cast, and a narrator that prints
the conversation as it happens (who said what, in Chinese)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.emulator import SimUser
from bot.harness import Desk


@dataclass
class Stage:
    desk: Desk
    people: dict[str, SimUser]
    out: Callable[[str], None] = print
    facts: dict[str, Any] = field(default_factory=dict)
    _cursor: int = 0

    def flush(self) -> None:
        """Print the transcript lines that happened since the last flush."""
        entries = self.desk.emu.transcript[self._cursor:]
        self._cursor += len(entries)
        if entries:
            self.out(self.desk.emu.format_transcript(entries=entries))

    def narrate(self, text: str) -> None:
        self.flush()
        self.out(f"\n—— {text} ——")

    def person(self, key: str) -> SimUser:
        return self.people[key]
