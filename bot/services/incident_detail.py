"""The office's side of /incident N and /incidents: where the facts came from, the forward
clocks to the city (超时上报 and by how much), the findings, and the buttons each reader may press."""

from __future__ import annotations

from datetime import datetime

from bot import callbacks as cb
from bot.domain.accountability import ForwardClock
from bot.domain.incidents import Incident, Stage
from bot.domain.members import Action, Member, can
from bot.domain.record import unit_reported
from bot.fmt import esc
from bot.services import incident_text as txt
from bot.services.base import Services
from storage import incident_forwards, incident_marks, incident_versions, members


def clock_stage(s: Services, clock: ForwardClock) -> str:
    return s.texts(f"incident.stage.{clock.stage}")


def clock_line(s: Services, clock: ForwardClock, now: datetime, who: str) -> str:
    """One clock: forwarded in how long (and how far over), or not yet (and how far over by now)."""
    target = s.policy.forward_target
    over = clock.overrun(target, now)
    if clock.forwarded_at is not None:
        line = s.texts("incident.forward.done_line", stage=clock_stage(s, clock), name=esc(who),
                       elapsed=s.fmt.dur(clock.forwarded_at - clock.started_at))
    else:
        line = s.texts("incident.forward.open_line", stage=clock_stage(s, clock),
                       elapsed=s.fmt.dur(now - clock.started_at))
    if over is not None:
        line += s.texts("incident.forward.over", over=s.fmt.dur(over))
    return line


async def forward_block(s: Services, inc: Incident, now: datetime) -> str:
    clocks = await incident_forwards.of(s.db.read, inc.id)
    if not clocks:
        return ""
    lines = []
    for c in clocks:
        who = await members.by_id(s.db.read, c.forwarded_by) if c.forwarded_by else None
        lines.append(clock_line(s, c, now, who.name if who else ""))
    return s.texts("incident.forward.block", lines="\n".join(lines))


def list_flags(s: Services, inc: Incident, clocks: list[ForwardClock], now: datetime) -> str:
    """What /incidents adds to an incident's line: 未报, and each clock that ran out (超时上报)."""
    flags = []
    if inc.recorded and not unit_reported(inc.source):
        flags.append(s.texts("incident.views.flag_unreported"))
    for c in clocks:
        over = c.overrun(s.policy.forward_target, now)
        if over is not None:
            key = "incident.views.flag_forward_late" if c.forwarded_at else "incident.views.flag_forward_open"
            flags.append(s.texts(key, stage=clock_stage(s, c), over=s.fmt.dur(over)))
    return " ".join(flags)


async def list_flags_for(s: Services, found: list[Incident], now: datetime) -> dict[int, str]:
    clocks = await incident_forwards.of_incidents(s.db.read, [i.id for i in found])
    return {i.id: list_flags(s, i, clocks.get(i.id, []), now) for i in found}


async def source_block(s: Services, inc: Incident) -> str:
    """A recorded event: how and when the office learnt of it, and who put it on record."""
    if not inc.recorded:
        return ""
    who = await members.by_id(s.db.read, inc.recorded_by or 0)
    return s.texts("record.detail_line", source=txt.source_text(s, inc), time=s.fmt.dt(inc.received_at),
                   name=esc(who.name if who else "?"))


async def version_count(s: Services, inc: Incident) -> int:
    return (await incident_versions.counts(s.db.read, [inc.id])).get(inc.id, 0)


async def detail_keyboard(s: Services, member: Member, inc: Incident) -> dict[str, object] | None:
    """Under /incident N: the unit's next stages (its own people), what changed, the Word file,
    and a director's findings."""
    rows: list[list[dict[str, object]]] = []
    if inc.open and can(member, Action.FILE_STAGE, inc.unit_code):
        rows += txt.unit_keyboard(s, inc)["inline_keyboard"]  # type: ignore[arg-type]
    office: list[tuple[str, str]] = [
        (s.texts("incident.btn.versions", n=await version_count(s, inc)), cb.incident(cb.VERSIONS, inc.id))]
    if can(member, Action.DOWNLOAD_REPORT, inc.unit_code):
        office.append((s.texts("incident.btn.docs"), cb.incident(cb.DOCS, inc.id)))
    if inc.open and can(member, Action.CORRECT_FACTS, inc.unit_code):
        office.append((s.texts("incident.btn.fix"), cb.incident(cb.FIX, inc.id)))
    rows += cb.keyboard([office])["inline_keyboard"]  # type: ignore[arg-type]
    if can(member, Action.MARK_INCIDENT, inc.unit_code):
        director: list[tuple[str, str]] = []
        if inc.open:
            director += [(s.texts("incident.btn.mark_wrong"), cb.incident(cb.WRONG, inc.id)),
                         (s.texts("incident.btn.mark_concealed"), cb.incident(cb.CONCEAL, inc.id))]
        if await incident_marks.of(s.db.read, inc.id):
            director.append((s.texts("incident.btn.mark_note"), cb.incident(cb.NOTE, inc.id)))
        if director:
            rows += cb.keyboard([director])["inline_keyboard"]  # type: ignore[arg-type]
    return {"inline_keyboard": rows} if rows else None


def filed_stages(inc: Incident) -> list[Stage]:
    """The stages with a report on file, in the order they came."""
    return [r.stage for r in sorted(inc.stages, key=lambda r: r.filed_at or r.due_at) if r.filed_at is not None]
