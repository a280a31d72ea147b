"""The first report being written, answer by answer; serialisable for the drafts table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from bot.domain.casualties import Casualties

MAX_DESCRIPTION = 1000
MAX_PLACE = 200
MAX_PHOTOS = 10


@dataclass
class ReportDraft:
    category: str | None = None
    occurred_at: str | None = None  # ISO UTC
    learnt_at: str | None = None
    place: str = ""
    latitude: float | None = None
    longitude: float | None = None
    deaths: int | None = None
    injured: int | None = None
    missing: int | None = None
    description: str = ""
    photos: list[str] = field(default_factory=list)
    editing: bool = False  # returning to the summary after one field is changed

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportDraft:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def casualties(self) -> Casualties:
        return Casualties(self.deaths, self.injured, self.missing)

    def set_casualties(self, c: Casualties) -> None:
        self.deaths, self.injured, self.missing = c.deaths, c.injured, c.missing

    @property
    def occurred(self) -> datetime | None:
        return datetime.fromisoformat(self.occurred_at) if self.occurred_at else None

    @property
    def learnt(self) -> datetime | None:
        if self.learnt_at:
            return datetime.fromisoformat(self.learnt_at)
        return self.occurred

    def complete(self) -> bool:
        has_place = bool(self.place) or self.latitude is not None
        return bool(self.category and self.occurred_at and has_place and self.description)
