"""The duty room puts an event on record (代报/登记), and the unit's own first report on it.

A phone report from the unit is its first report, at the time of the call, taken by the duty
officer. Any other source: the unit is told at once that the office knows of the event and
which stages it owes (first report included), counted from when it learnt of it or, while it
has not said, from the office's own time of learning; the event is on record as 未报.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import incidents as rules
from bot.domain.accountability import MarkKind, first_report_delay, whole_minutes
from bot.domain.casualties import Casualties
from bot.domain.fact_versions import Via, diff
from bot.domain.incidents import DEADLINE_STAGES, Incident, Stage
from bot.domain.members import Action, Member, can
from bot.domain.record import (
    Source,
    deadline_base,
    first_report_at,
    office_time,
    parse_source,
    record_time_problem,
    unreported_gap,
)
from bot.domain.report_draft import ReportDraft
from bot.fmt import esc
from bot.services import channel_messages, escalation
from bot.services import incident_breaches as breaches
from bot.services import incident_text as txt
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError
from bot.services.incident_versions import change_text, facts_of, keep_version
from bot.services.incidents import (
    DRAFT_KIND,
    FILED,
    broadcast,
    load_for,
    queue_upstream,
    send_alert,
    stage_filed,
)
from bot.services.routing import Shift, alert_audience, unit_reporters
from storage import deadlines, drafts, incident_marks, incidents
from storage.uow import Tx


def check_unit(s: Services, code: str | None) -> str:
    """The unit a record is for, if it is one of the configured units."""
    if not code or s.config.unit(code) is None:
        raise ServiceError("record.unit_unknown", unit=esc(code or ""))
    return code


async def file_record(s: Services, member: Member, draft: ReportDraft) -> Incident:
    """Put the event on record for its unit, plan what the unit owes, tell the unit and the office."""
    if not can(member, Action.RECORD_INCIDENT):
        raise NotAllowed()
    unit = check_unit(s, draft.unit_code)
    source = parse_source(draft.source or "")
    occurred, office_at = draft.occurred, draft.office_at_time
    if source is None or office_at is None or occurred is None or draft.category is None or not draft.complete():
        raise ServiceError("record.draft_lost")
    unit_learnt = draft.learnt_explicit
    problem = record_time_problem(source, occurred, unit_learnt, office_at)
    if problem is not None:
        raise ServiceError(f"record.time_{problem.value}", office=s.fmt.dt(office_at), occurred=s.fmt.dt(occurred))
    office_at = office_time(occurred, unit_learnt if source == Source.PHONE else None, office_at)
    learnt = deadline_base(source, occurred, unit_learnt, office_at)
    first_at = first_report_at(source, office_at)
    async with s.uow() as tx:
        now = tx.now
        inc_id, _number = await incidents.create(
            tx.conn, year=now.astimezone(s.config.tz).year, unit_code=unit, reporter_id=member.id,
            category=draft.category, occurred_at=occurred, learnt_at=learnt, place=draft.place,
            latitude=draft.latitude, longitude=draft.longitude, casualties=draft.casualties,
            description=draft.description, now=now, source=source.value, recorded_by=member.id,
            office_learnt_at=office_at, caller_name=draft.caller_name, caller_phone=draft.caller_phone,
        )
        await incidents.add_stages(tx.conn, inc_id, [
            (stage, at, first_at if stage is Stage.FIRST else None,
             member.id if stage is Stage.FIRST and first_at is not None else None)
            for stage, at in rules.deadlines_for(learnt, s.policy).items()
        ])
        await incidents.add_casualty_record(tx.conn, inc_id, draft.casualties, Stage.FIRST, now)
        owed = (Stage.WRITTEN, Stage.FULL) if first_at is not None else DEADLINE_STAGES
        await tx.add_deadlines([(p.kind, inc_id, p.due_at, p.stage)
                                for p in rules.plan_deadlines(learnt, now, s.policy, owed)])
        # The office's clock runs from when it received the facts (the call, or the other source).
        await breaches.start_clock(s, tx, inc_id, Stage.FIRST.value if first_at else Via.RECORD, office_at)
        await keep_version(tx, inc_id, member.id, Via.RECORD)
        inc = await incidents.get(tx.conn, inc_id)
        assert inc is not None
        if first_at is not None:
            await breaches.filed(tx, inc, Stage.FIRST, first_report_delay(learnt, first_at, s.policy.first_report))
        else:
            gap = unreported_gap(occurred, office_at, unit_learnt, None)
            await incident_marks.add(tx.conn, inc_id, unit, MarkKind.UNREPORTED, now, stage=Stage.FIRST.value,
                                     minutes=whole_minutes(gap.before_office))
        reporters = await unit_reporters(tx.conn, unit)
        # The unit's people get the unit's notice with its buttons instead of the office's alert.
        exclude = [member.id, *(m.id for m in reporters)]
        shift = Shift(tx.conn, now)  # read once for the audience and the escalation's first step
        audience = await alert_audience(tx.conn, inc, s.policy, exclude=exclude, at=now, shift=shift)
        await send_alert(s, tx, inc, member.name, audience)
        await tell_unit(s, tx, inc, reporters)
        await channel_messages.mirror_alert(s, tx, inc)
        await escalation.start(s, tx, inc, [member, *audience], shift=shift)
        await incidents.add_events(tx.conn, inc_id, now, [
            (member.id, "recorded", {"name": member.name, "source": source.value}),
            (None, "alerted", {"count": len(audience) + len(reporters)})])
        await queue_upstream(s, tx, inc_id, "reported")
        await drafts.save(tx.conn, member.telegram_id, DRAFT_KIND, {FILED: inc_id}, now)
    return inc


def owed_lines(s: Services, inc: Incident) -> str:
    return "\n".join(
        s.texts("incident.deadline_line", stage=s.texts(f"incident.stage.{r.stage}"), due=s.fmt.dt(r.due_at))
        for r in inc.stages if r.filed_at is None)


async def tell_unit(s: Services, tx: Tx, inc: Incident, reporters: list[Member]) -> None:
    """The unit's officers and head: the office has the event on record; what they owe now."""
    key = "record.unit_phone" if inc.source == Source.PHONE else "record.unit_unreported"
    text = s.texts(key, number=inc.number, source=txt.source_text(s, inc), time=s.fmt.dt(inc.received_at),
                   facts=txt.incident_facts(s, inc), deadlines=owed_lines(s, inc), learnt=s.fmt.dt(inc.learnt_at))
    await broadcast(s, tx, inc, text, reporters, tag="record_unit", markup=txt.unit_keyboard(s, inc))


async def file_unit_first(s: Services, member: Member, incident_id: int, corrections: dict[str, Any], *,
                          at: datetime) -> str:
    """The unit's first report on an event the office put on record: its facts (corrected where
    it knows better) and when it learnt of the event — the deadlines count again from then.
    `at`: when the person sent it. Returns the late note."""
    async with s.uow() as tx:
        inc = await load_for(s, tx.conn, member, incident_id, Action.FILE_STAGE)
        if not inc.open:
            raise ServiceError("incident.stages.already_closed", number=inc.number)
        first = inc.stage(Stage.FIRST)
        if first is None or first.filed_at is not None:
            raise ServiceError("incident.stages.already_filed", number=inc.number,
                               stage=s.texts("incident.stage.first"))
        facts = {k: v for k, v in corrections.items() if k != "casualties"}
        occurred = facts.get("occurred_at", inc.occurred_at)
        learnt = facts.get("learnt_at")
        if isinstance(learnt, datetime) and isinstance(occurred, datetime) and learnt < occurred:
            raise ServiceError("incident.learnt_before_occurred", occurred=s.fmt.dt(occurred))
        await incidents.update_facts(tx.conn, inc.id, **facts)
        if isinstance(corrections.get("casualties"), Casualties):
            await incidents.set_casualties(tx.conn, inc.id, corrections["casualties"], Stage.FIRST, tx.now)
        if isinstance(learnt, datetime) and learnt != inc.learnt_at:
            await recount_deadlines(s, tx, inc, learnt)
        fresh = await incidents.get(tx.conn, inc.id)
        assert fresh is not None
        return await stage_filed(s, tx, fresh, member, Stage.FIRST, txt.incident_facts(s, fresh), at)


async def correct_facts(s: Services, member: Member, incident_id: int, corrections: dict[str, Any]) -> str:
    """The duty room corrects the facts it holds (its own typing, or what it verified): a new
    version through the office, not a finding against the unit; the unit's people are told what changed."""
    async with s.uow() as tx:
        inc = await load_for(s, tx.conn, member, incident_id, Action.CORRECT_FACTS)
        if not inc.open:
            raise ServiceError("record.closed", number=inc.number)
        before = facts_of(inc)
        await incidents.update_facts(tx.conn, inc.id, **{k: v for k, v in corrections.items() if k != "casualties"})
        if isinstance(corrections.get("casualties"), Casualties):
            await incidents.set_casualties(tx.conn, inc.id, corrections["casualties"], Stage.CORRECTED, tx.now)
        if await keep_version(tx, inc.id, member.id, Via.OFFICE) is None:
            raise ServiceError("record.no_correction")
        fresh = await incidents.get(tx.conn, inc.id)
        assert fresh is not None
        changes = "\n".join(change_text(s, c) for c in diff(before, facts_of(fresh)))
        await incidents.add_event(tx.conn, inc.id, tx.now, member.id, "office_corrected", name=member.name)
        text = s.texts("record.corrected_unit", number=inc.number, name=esc(member.name), changes=changes)
        await broadcast(s, tx, fresh, text, await unit_reporters(tx.conn, inc.unit_code), tag="office_corrected")
        return s.texts("record.corrected_done", number=inc.number, changes=changes)


async def recount_deadlines(s: Services, tx: Tx, inc: Incident, learnt: datetime) -> None:
    """The unit said when it learnt of the event: each stage it still owes is due counted from then."""
    for stage, due in rules.deadlines_for(learnt, s.policy).items():
        rec = inc.stage(stage)
        if rec is None or rec.filed_at is not None:
            continue
        await incidents.set_due(tx.conn, inc.id, stage, due)
        await deadlines.cancel(tx.conn, rules.REMIND, inc.id, tx.now, stage.value)
        await deadlines.cancel(tx.conn, rules.DUE, inc.id, tx.now, stage.value)
        if stage is not Stage.FIRST:  # the first report is being filed now
            await tx.add_deadlines([(p.kind, inc.id, p.due_at, p.stage)
                                    for p in rules.plan_stage_checks(stage, due, tx.now, s.policy)])
