"""The first report being written, answer by answer; serialisable for the drafts table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from bot.domain.casualties import Casualties
from bot.domain.record import deadline_base

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
    # Set only when the duty room puts an event on record for a unit (/record, 代报/登记):
    unit_code: str | None = None
    source: str | None = None  # bot.domain.record.Source
    caller_name: str = ""
    caller_phone: str = ""
    office_at: str | None = None  # ISO UTC: when the office learnt of it (the call)

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
    def recording(self) -> bool:
        """Written by the duty room for a unit (/record), not by the unit itself (/report)."""
        return self.source is not None

    @property
    def office_at_time(self) -> datetime | None:
        return datetime.fromisoformat(self.office_at) if self.office_at else None

    @property
    def learnt_explicit(self) -> datetime | None:
        """The unit's time of learning as given (None: not said)."""
        return datetime.fromisoformat(self.learnt_at) if self.learnt_at else None

    @property
    def learnt(self) -> datetime | None:
        """Where the unit's deadlines count from (on a record: see record.deadline_base)."""
        occurred, office = self.occurred, self.office_at_time
        if self.recording and occurred is not None and office is not None:
            return deadline_base(self.source or "", occurred, self.learnt_explicit, office)
        return self.learnt_explicit or occurred

    def complete(self) -> bool:
        has_place = bool(self.place) or self.latitude is not None
        return bool(self.category and self.occurred_at and has_place and self.description)
