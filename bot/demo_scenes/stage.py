"""What a demo scene is given: the running desk, the cast, and a narrator that prints
the conversation as it happens (who said what, in Chinese)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.demo_scenes.story import Story
from bot.emulator import SimUser
from bot.harness import Desk


@dataclass
class Stage:
    desk: Desk
    people: dict[str, SimUser]
    out: Callable[[str], None] = print
    facts: dict[str, Any] = field(default_factory=dict)
    _cursor: int = 0
    _story: Story | None = None

    def flush(self) -> None:
        """Print, as a story, what happened since the last flush."""
        if self._story is None:
            self._story = Story(self.desk.emu, self.desk.services.texts)
        entries = self.desk.emu.transcript[self._cursor:]
        self._cursor += len(entries)
        if text := self._story.render(entries):
            self.out(text)

    def narrate(self, text: str) -> None:
        self.flush()
        self.out(f"\n—— {text} ——")

    def person(self, key: str) -> SimUser:
        return self.people[key]
