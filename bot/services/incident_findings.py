"""A director's findings on an incident: 误报 (with the corrected facts; the unit then owes a
corrected written report), 瞒报 (never automatic), and notes on any finding (约谈, 通报批评)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.domain import incidents as rules
from bot.domain.accountability import Mark, MarkKind, mark_refusal
from bot.domain.casualties import Casualties
from bot.domain.fact_versions import Via, diff
from bot.domain.incidents import Incident, Stage
from bot.domain.members import Action, Member
from bot.domain.record import unit_reported, unreported_gap
from bot.fmt import esc
from bot.services import incident_text as txt
from bot.services.base import Services
from bot.services.errors import ServiceError, Stale
from bot.services.incident_versions import change_text, facts_of, keep_version
from bot.services.incidents import broadcast, load_for
from bot.services.routing import unit_reporters
from storage import incident_marks, incidents, members
from storage.conn import Conn

MAX_REASON = 500


async def _check(s: Services, conn: Conn, member: Member, incident_id: int,
                 kind: MarkKind) -> Incident:
    inc = await load_for(s, conn, member, incident_id, Action.MARK_INCIDENT)
    refusal = mark_refusal(kind, inc.open, await incident_marks.of(conn, inc.id))
    if refusal is not None:
        raise ServiceError(f"incident.marks.refused_{refusal.value}", number=inc.number,
                           kind=s.texts(f"incident.marks.kind.{kind.value}"))
    return inc


async def check_can_mark(s: Services, member: Member, incident_id: int, kind: MarkKind) -> Incident:
    """Before asking for the reason: may this member make this finding on this incident now?"""
    return await _check(s, s.db.read, member, incident_id, kind)  # the filing checks again, in its transaction


async def mark_wrong(s: Services, member: Member, incident_id: int, reason: str,
                     corrections: dict[str, Any], *, at: datetime) -> str:
    """误报, submitted `at`: the facts reported were untrue. The corrected facts become a version, the
    finding and its reason are kept as of `at` (the 通报 counts it in the period it was made), and the
    unit owes a corrected written report, due counting from when it is told (now)."""
    if not corrections:
        raise ServiceError("incident.marks.no_correction")
    async with s.uow() as tx:
        inc = await _check(s, tx.conn, member, incident_id, MarkKind.WRONG)
        before = facts_of(inc)
        facts = {k: v for k, v in corrections.items() if k != "casualties"}
        await incidents.update_facts(tx.conn, inc.id, **facts)
        if isinstance(corrections.get("casualties"), Casualties):
            await incidents.set_casualties(tx.conn, inc.id, corrections["casualties"], Stage.CORRECTED, tx.now)
        if await keep_version(tx, inc.id, member.id, Via.WRONG) is None:
            raise ServiceError("incident.marks.no_correction")
        made = min(at, tx.now)
        await incident_marks.add(tx.conn, inc.id, inc.unit_code, MarkKind.WRONG, made, reason=reason,
                                 by_id=member.id)
        due = tx.now + s.config.incident.corrected_report
        await incidents.add_stage(tx.conn, inc.id, Stage.CORRECTED, due)
        await tx.add_deadlines([(p.kind, inc.id, p.due_at, p.stage)
                                for p in rules.plan_stage_checks(Stage.CORRECTED, due, tx.now, s.policy)])
        await incidents.add_event(tx.conn, inc.id, made, member.id, "marked_wrong", name=member.name, reason=reason)
        fresh = await incidents.get(tx.conn, inc.id)
        assert fresh is not None
        changes = "\n".join(change_text(s, c) for c in diff(before, facts_of(fresh)))
        text = s.texts("incident.marks.wrong_unit", number=inc.number, name=esc(member.name), reason=esc(reason),
                       changes=changes, due=s.fmt.dt(due))
        await broadcast(s, tx, fresh, text, await unit_reporters(tx.conn, inc.unit_code), tag="marked",
                        markup=txt.unit_keyboard(s, fresh))
        return s.texts("incident.marks.wrong_done", number=inc.number, unit=esc(s.unit_name(inc.unit_code)),
                       due=s.fmt.dt(due))


async def mark_concealed(s: Services, member: Member, incident_id: int, reason: str, *, at: datetime) -> str:
    """瞒报, its reason sent `at`: a director's finding, kept as of then; the unit is told it is on record."""
    async with s.uow() as tx:
        inc = await _check(s, tx.conn, member, incident_id, MarkKind.CONCEALED)
        made = min(at, tx.now)
        await incident_marks.add(tx.conn, inc.id, inc.unit_code, MarkKind.CONCEALED, made, reason=reason,
                                 by_id=member.id)
        await incidents.add_event(tx.conn, inc.id, made, member.id, "marked_concealed", name=member.name,
                                  reason=reason)
        text = s.texts("incident.marks.concealed_unit", number=inc.number, name=esc(member.name), reason=esc(reason))
        await broadcast(s, tx, inc, text, await unit_reporters(tx.conn, inc.unit_code), tag="marked")
        return s.texts("incident.marks.concealed_done", number=inc.number, unit=esc(s.unit_name(inc.unit_code)))


async def check_can_note(s: Services, member: Member, mark_id: int) -> tuple[Incident, Mark]:
    """The finding a note is for, if this member may write one (closed incidents too: talks and
    criticism come after the event)."""
    mark = await incident_marks.get(s.db.read, mark_id)
    if mark is None:
        raise Stale()
    inc = await load_for(s, s.db.read, member, mark.incident_id, Action.MARK_INCIDENT)
    return inc, mark


async def add_note(s: Services, member: Member, mark_id: int, text: str, *, at: datetime) -> str:
    """A note (约谈, 通报批评) on a finding, kept as of `at` (when it was sent)."""
    async with s.uow() as tx:
        mark = await incident_marks.get(tx.conn, mark_id)
        if mark is None:
            raise Stale()
        inc = await load_for(s, tx.conn, member, mark.incident_id, Action.MARK_INCIDENT)
        made = min(at, tx.now)
        await incident_marks.add_note(tx.conn, mark.id, text, member.id, made)
        await incidents.add_event(tx.conn, inc.id, made, member.id, "mark_note", name=member.name,
                                  finding=mark.kind.value, text=text)
        return s.texts("incident.marks.note_done", number=inc.number,
                       kind=s.texts(f"incident.marks.kind.{mark.kind.value}"))


# --- reading ---------------------------------------------------------------------------


def mark_label(s: Services, mark: Mark) -> str:
    """「迟报·书面报告 20分钟」: what a finding is, on which stage, by how much."""
    parts = [s.texts(f"incident.marks.kind.{mark.kind.value}")]
    if mark.stage:
        parts.append(s.texts(f"incident.stage.{mark.stage}"))
    label = "·".join(parts)
    if mark.minutes is not None and mark.kind is not MarkKind.UNREPORTED:
        label += " " + s.fmt.dur(timedelta(minutes=mark.minutes))
    return label


async def marks_block(s: Services, inc: Incident, now: datetime) -> str:
    """The findings on an incident for /incident N ("" when there are none)."""
    found = await incident_marks.of(s.db.read, inc.id)
    lines: list[str] = []
    if inc.recorded and not unit_reported(inc.source):
        first = inc.stage(Stage.FIRST)
        filed = first.filed_at if first else None
        gap = unreported_gap(inc.occurred_at, inc.received_at, inc.learnt_at if filed else None, filed)
        lines.append(s.texts("incident.marks.unreported_line", unit=esc(s.unit_name(inc.unit_code)),
                             time=s.fmt.dt(inc.received_at), source=txt.source_text(s, inc),
                             before=s.fmt.dur(gap.before_office),
                             after=s.texts("incident.marks.reported_after", time=s.fmt.dt(filed),
                                           gap=s.fmt.dur(gap.after_office or timedelta(0)))
                             if filed else s.texts("incident.marks.not_yet_reported")))
    for mark in found:
        if mark.kind is MarkKind.UNREPORTED:
            continue
        line = mark_label(s, mark)
        if mark.kind is MarkKind.FORWARD_LATE and mark.minutes is None:
            line += s.texts("incident.marks.not_forwarded")
        if mark.by_id is not None:
            who = await members.by_id(s.db.read, mark.by_id)
            line += s.texts("incident.marks.by", name=esc(who.name if who else "?"), time=s.fmt.dt(mark.at))
        if mark.reason:
            line += s.texts("incident.marks.reason", reason=esc(mark.reason))
        lines.append("· " + line)
        lines += [s.texts("incident.marks.note_line", text=esc(n.text), time=s.fmt.dt(n.at)) for n in mark.notes]
    if not lines:
        return ""
    return s.texts("incident.marks.block", lines="\n".join(lines))

