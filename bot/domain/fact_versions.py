"""Every version of an incident's facts (issue #24: corrections never erase what was first said).

A version is a full snapshot of the facts — category, times, place, casualties, description —
with who gave it, when and through which stage. What changed between two versions (old → new)
is derived from consecutive snapshots, never stored on its own, so it cannot disagree with them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any

from bot.domain.casualties import Casualties


class Via:
    """How a version came in (besides the stages' own names: first, written, full, followup, corrected)."""

    RECORD = "record"  # the duty room put it on record (代报/登记)
    WRONG = "wrong"  # a director's correction with the 误报 mark
    OFFICE = "office"  # the office corrected the facts it holds (its own typing, what it verified)
    UPGRADE = "upgrade"  # the facts as held when versioning began (incidents filed before it)


@dataclass(frozen=True)
class Facts:
    """The facts the commitment asks for (事: time, place, casualties; and what happened)."""

    category: str
    occurred_at: datetime
    learnt_at: datetime
    place: str
    latitude: float | None
    longitude: float | None
    casualties: Casualties
    description: str

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["occurred_at"] = self.occurred_at.isoformat()
        out["learnt_at"] = self.learnt_at.isoformat()
        out["casualties"] = [self.casualties.deaths, self.casualties.injured, self.casualties.missing]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["occurred_at"] = datetime.fromisoformat(data["occurred_at"])
        values["learnt_at"] = datetime.fromisoformat(data["learnt_at"])
        values["casualties"] = Casualties(*data["casualties"])
        return cls(**values)

    def corrected(self, **changes: Any) -> Facts:
        """These facts with `changes` applied (names of Facts fields; unknown names are an error)."""
        return replace(self, **changes)


# The fields a reader compares, in the order of a report (事 → 情): the location counts as one
# field (both coordinates), the casualties as one (the three figures).
FIELDS = ("category", "occurred_at", "learnt_at", "place", "location", "casualties", "description")


def _value(facts: Facts, name: str) -> object:
    if name == "location":
        return None if facts.latitude is None or facts.longitude is None else (facts.latitude, facts.longitude)
    return getattr(facts, name)


@dataclass(frozen=True)
class Change:
    field: str  # one of FIELDS
    old: object
    new: object


def diff(old: Facts, new: Facts) -> list[Change]:
    """What changed from `old` to `new`, field by field, in report order."""
    return [Change(name, _value(old, name), _value(new, name)) for name in FIELDS
            if _value(old, name) != _value(new, name)]


@dataclass(frozen=True)
class Version:
    no: int  # 1 = the facts first given
    at: datetime
    actor_id: int | None
    via: str  # a Stage value or a Via constant
    facts: Facts


@dataclass(frozen=True)
class Revision:
    """A version and what it changed against the one before (empty for the first)."""

    version: Version
    changes: tuple[Change, ...]


def revisions(versions: list[Version]) -> list[Revision]:
    """Versions in order, each with its changes against the previous one."""
    ordered = sorted(versions, key=lambda v: v.no)
    out: list[Revision] = []
    for before, current in zip([None, *ordered], ordered, strict=False):
        out.append(Revision(current, tuple(diff(before.facts, current.facts)) if before else ()))
    return out


def needs_version(latest: Facts | None, new: Facts) -> bool:
    """A new version is kept when the facts changed (or none was kept yet)."""
    return latest is None or latest != new
