"""Every version of the facts: kept in the transaction that changes them, read as old → new.

Every path that changes an incident's facts (first report, record, written/full/follow-up
reports, the unit's first report on a record, a corrected report, a director's 误报
correction) calls `keep_version` after the change, in the same transaction: the one place
where versions are written.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.fact_versions import Change, Facts, Revision, needs_version, revisions
from bot.domain.incidents import Incident
from bot.fmt import clip_timeline, esc
from bot.services import incident_text as txt
from bot.services.base import Services
from storage import incident_versions, incidents, members
from storage.uow import Tx


def facts_of(inc: Incident) -> Facts:
    return Facts(category=inc.category.value, occurred_at=inc.occurred_at, learnt_at=inc.learnt_at, place=inc.place,
                 latitude=inc.latitude, longitude=inc.longitude, casualties=inc.casualties,
                 description=inc.description)


async def keep_version(tx: Tx, incident_id: int, actor_id: int | None, via: str) -> int | None:
    """After a change: the incident's facts as they now stand become a new version if they differ
    from the last one kept. Its number, or None when nothing changed."""
    inc = await incidents.get(tx.conn, incident_id)
    assert inc is not None
    facts = facts_of(inc)
    latest = await incident_versions.latest(tx.conn, incident_id)
    if not needs_version(latest.facts if latest else None, facts):
        return None
    return await incident_versions.add(tx.conn, incident_id, facts, actor_id, via, tx.now)


def field_value(s: Services, field: str, value: object) -> str:
    """One fact as a reader sees it (escaped)."""
    if value is None or value == "":
        return s.texts("incident.open_mark")
    if field == "category":
        return s.texts(f"incident.cat.{value}")
    if field in ("occurred_at", "learnt_at") and isinstance(value, datetime):
        return s.fmt.dt(value)
    if field == "location" and isinstance(value, tuple):
        return s.texts("incident.place_gps", lat=value[0], lon=value[1]).strip("（）() ")
    if field == "casualties":
        return txt.casualties_text(s, value)  # type: ignore[arg-type]
    return esc(value)


def change_text(s: Services, change: Change) -> str:
    return s.texts("incident.versions.change", field=s.texts(f"incident.versions.field.{change.field}"),
                   old=field_value(s, change.field, change.old), new=field_value(s, change.field, change.new))


def via_text(s: Services, via: str) -> str:
    key = f"incident.versions.via.{via}"
    return s.texts(key) if s.texts.has(key) else esc(via)


async def history_text(s: Services, inc: Incident) -> str:
    """/incident N → 🕘 要素变更: every version, who gave it, when, through which stage, old → new."""
    found = revisions(await incident_versions.of(s.db.read, inc.id))
    names: dict[int, str] = {}
    for rev in found:
        actor = rev.version.actor_id
        if actor is not None and actor not in names:
            m = await members.by_id(s.db.read, actor)
            names[actor] = m.name if m else "?"
    lines = [_revision_block(s, rev, names) for rev in found]
    return clip_timeline(lambda shown: s.texts("incident.versions.title", number=inc.number, count=len(found),
                                               versions="\n".join(shown)),
                         lines, lambda n: s.texts("core.older_omitted", n=n))


def _revision_block(s: Services, rev: Revision, names: dict[int, str]) -> str:
    v = rev.version
    who = esc(names.get(v.actor_id, "?")) if v.actor_id is not None else s.texts("incident.versions.system")
    head = s.texts("incident.versions.head", no=v.no, time=s.fmt.dt(v.at), name=who, via=via_text(s, v.via))
    if not rev.changes:
        return head + "\n" + s.texts("incident.versions.first")
    return "\n".join([head, *(change_text(s, c) for c in rev.changes)])
