"""Use cases of emergency reporting: file each stage, close, and tell the right people."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot import callbacks as cb
from bot.domain import incidents as rules
from bot.domain.accountability import first_report_delay
from bot.domain.casualties import Casualties
from bot.domain.incidents import FULL_FIELDS, Incident, Stage
from bot.domain.members import Action, Member, Role, can, may_see_incident
from bot.domain.report_draft import ReportDraft
from bot.fmt import esc
from bot.services import channel_messages, escalation
from bot.services import incident_breaches as breaches
from bot.services import incident_text as txt
from bot.services.base import Services
from bot.services.edits import still_told
from bot.services.errors import NotAllowed, NotYourUnit, ServiceError, Stale
from bot.services.incident_versions import keep_version
from bot.services.routing import Shift, alert_audience, escalation_audience, unit_reporters
from storage import deadlines, drafts, incidents, members, outbox, upstream_pushes
from storage.conn import Conn
from storage.uow import Tx

REF = "incident"
ALERT_TAG = "alert"
OFFICE_BUTTON_ROLES = (Role.DUTY, Role.DIRECTOR, Role.LEADER)
DRAFT_KIND = "report"  # the /report dialogue's row in the drafts table
FILED = "filed_incident"  # what that row holds once the report is filed


async def load_for(s: Services, conn: Conn, member: Member, incident_id: int,
                   action: Action) -> Incident:
    """The incident, if `member` may do `action` on it; otherwise a refusal."""
    inc = await incidents.get(conn, incident_id)
    if inc is None:
        raise Stale()
    if not can(member, action):
        raise NotAllowed()
    if not can(member, action, inc.unit_code):
        raise NotYourUnit()
    return inc


async def _reporter_name(tx: Tx, inc: Incident) -> str:
    reporter = await members.by_id(tx.conn, inc.reporter_id)
    return reporter.name if reporter else "?"


async def render_alert_status(s: Services, tx: Tx, inc: Incident) -> list[str]:
    lines: list[str] = []
    if inc.acked_by is not None:
        who = await members.by_id(tx.conn, inc.acked_by)
        lines.append(s.texts("incident.alert.acked", name=esc(who.name if who else "?"), time=s.fmt.dt(inc.acked_at)))
    if inc.forwarded_by is not None and inc.forwarded_at is not None:
        who = await members.by_id(tx.conn, inc.forwarded_by)
        lines.append(s.texts(
            "incident.alert.forwarded", name=esc(who.name if who else "?"), time=s.fmt.dt(inc.forwarded_at),
            elapsed=s.fmt.dur(inc.forwarded_at - inc.created_at),
        ))
    return lines


def entitled(inc: Incident, people: Iterable[Member | None]) -> list[Member]:
    """Of `people`, those who may learn this incident's facts now (`may_see_incident`): every message
    about an incident, new or an edit of an earlier one, goes only to them."""
    return [m for m in people if m is not None and may_see_incident(m, inc.unit_code)]


async def broadcast(s: Services, tx: Tx, inc: Incident, text: str, audience: list[Member], *,
                    tag: str = "stage", markup: dict[str, object] | None = None) -> int:
    told = entitled(inc, audience)
    if told:
        await tx.send_text_all([m.telegram_id for m in told], text, markup=markup, ref_kind=REF, ref_id=inc.id,
                               tag=tag)
    return len(told)


def is_office(member: Member) -> bool:
    """Whose are the office's buttons (已收到, 已上报市委, 要求补充): not the reporting unit's head."""
    return can(member, Action.ACK_ALERT)


async def office_broadcast(s: Services, tx: Tx, inc: Incident, text: str, audience: list[Member], *, tag: str,
                           office_markup: dict[str, object] | None,
                           other_markup: dict[str, object] | None = None) -> int:
    """`text` to everyone in `audience` who may see the incident; the office's buttons only to the office."""
    office = [m for m in audience if is_office(m)]
    others = [m for m in audience if not is_office(m)]
    return (await broadcast(s, tx, inc, text, office, tag=tag, markup=office_markup)
            + await broadcast(s, tx, inc, text, others, tag=tag, markup=other_markup))


async def send_alert(s: Services, tx: Tx, inc: Incident, reporter: str, audience: list[Member]) -> list[Member]:
    """The alert of a new incident: the office's copy with its buttons, the unit head's with 详情.
    Returns who was alerted (those of `audience` who may see the incident)."""
    told = entitled(inc, audience)
    text = txt.alert_text(s, inc, reporter, tx.now, [])
    await office_broadcast(s, tx, inc, text, told, tag=ALERT_TAG, office_markup=txt.alert_keyboard(s, inc),
                           other_markup=txt.alert_keyboard(s, inc, office=False))
    if inc.latitude is not None and inc.longitude is not None:
        await tx.send_all([m.telegram_id for m in told], outbox.SEND_LOCATION,
                          {"latitude": inc.latitude, "longitude": inc.longitude}, ref_kind=REF, ref_id=inc.id)
    return told


async def file_first_report(s: Services, member: Member, draft: ReportDraft, *, at: datetime) -> Incident:
    """Store the first report, plan its deadlines and alert the office, in one transaction. `at`: when
    the person sent it (the first report is on time if that is within its hour)."""
    if not can(member, Action.REPORT_INCIDENT):
        raise NotAllowed()
    occurred, learnt = draft.occurred, draft.learnt
    if not draft.complete() or occurred is None or learnt is None or draft.category is None:
        raise ServiceError("incident.draft_lost")
    async with s.uow() as tx:
        now = tx.now
        year = now.astimezone(s.config.tz).year
        inc_id, _number = await incidents.create(
            tx.conn, year=year, unit_code=member.unit_code, reporter_id=member.id, category=draft.category,
            occurred_at=occurred, learnt_at=learnt, place=draft.place, latitude=draft.latitude,
            longitude=draft.longitude, casualties=draft.casualties, description=draft.description, now=now,
        )
        # The filing path is what an alert waits for: each step below is one statement.
        sent = min(at, now)
        await incidents.add_stages(tx.conn, inc_id, [
            (stage, due, sent if stage is Stage.FIRST else None, member.id if stage is Stage.FIRST else None)
            for stage, due in rules.deadlines_for(learnt, s.policy).items()
        ])
        await incidents.add_casualty_record(tx.conn, inc_id, draft.casualties, Stage.FIRST, now)
        if draft.photos:
            await incidents.add_photos(tx.conn, inc_id, Stage.FIRST, draft.photos)
        plan = rules.plan_deadlines(learnt, now, s.policy)
        await tx.add_deadlines([(p.kind, inc_id, p.due_at, p.stage) for p in plan])
        await breaches.start_clock(s, tx, inc_id, Stage.FIRST.value, now)
        await keep_version(tx, inc_id, member.id, Stage.FIRST.value)
        inc = await incidents.get(tx.conn, inc_id)
        assert inc is not None
        # A first report after its deadline says so in the alert itself, and is on record against the unit.
        await breaches.filed(tx, inc, Stage.FIRST, first_report_delay(learnt, sent, s.policy.first_report))
        # The alert's audience and its escalation's first step read who is on shift once (routing.Shift).
        shift = Shift(tx.conn, tx.now)
        audience = await send_alert(s, tx, inc, member.name, await alert_audience(
            tx.conn, inc, s.policy, exclude=[member.id], at=tx.now, shift=shift))
        chats = [m.telegram_id for m in audience]
        for photo in draft.photos[:3]:
            await tx.send_all(chats, outbox.SEND_PHOTO, {"photo": photo, "caption": inc.number},
                              ref_kind=REF, ref_id=inc_id)
        await incidents.add_events(tx.conn, inc_id, now, [(member.id, "reported", {"name": member.name}),
                                                          (None, "alerted", {"count": len(audience)})])
        # Beyond Telegram, in this transaction: the robot groups, and the escalation until 已收到.
        await channel_messages.mirror_alert(s, tx, inc)
        await escalation.start(s, tx, inc, audience, shift=shift)
        await queue_upstream(s, tx, inc_id, "reported")
        # In the same transaction: the draft becomes "filed as #id", so a 确认上报 pressed again
        # after a crash (the conversation state not yet saved) cannot file it a second time.
        await drafts.save(tx.conn, member.telegram_id, DRAFT_KIND, {FILED: inc_id}, now)
    return inc


async def filed_as(s: Services, raw_draft: dict[str, object]) -> Incident | None:
    """The incident a /report draft row (as loaded) was already filed as, if it was."""
    inc_id = raw_draft.get(FILED)
    return await incidents.get(s.db.read, int(inc_id)) if isinstance(inc_id, int) else None


async def queue_upstream(s: Services, tx: Tx, incident_id: int, event: str) -> None:
    if s.config.upstream.webhook_url:
        await upstream_pushes.queue(tx.conn, incident_id, event, tx.now)
        tx.wrote_outbox = True  # the upstream pusher wakes with the outbox


async def refresh_alerts(s: Services, tx: Tx, inc: Incident) -> None:
    """Edit every delivered alert so everyone sees who acknowledged and forwarded; not those held by
    people who may no longer see the incident (deactivated, moved, another role since the alert)."""
    reporter = await _reporter_name(tx, inc)
    text = txt.alert_text(s, inc, reporter, tx.now, await render_alert_status(s, tx, inc))
    keyboards = {True: txt.alert_keyboard(s, inc), False: txt.alert_keyboard(s, inc, office=False)}
    office = {m.telegram_id for m in await members.with_roles(tx.conn, OFFICE_BUTTON_ROLES) if is_office(m)}
    alerts = await outbox.sent_messages(tx.conn, REF, inc.id, ALERT_TAG)
    for row in await still_told(tx.conn, alerts, lambda m: may_see_incident(m, inc.unit_code)):
        await tx.send(row.chat_id, outbox.EDIT_TEXT,
                      {"edit_of": row.id, "text": text, "parse_mode": "HTML",
                       "reply_markup": keyboards[row.chat_id in office]},
                      ref_kind=REF, ref_id=inc.id, tag="alert_edit")


def late_suffix(s: Services, due_at: datetime, filed_at: datetime) -> str:
    if filed_at <= due_at:
        return ""
    return s.texts("incident.alert.late_suffix", delay=s.fmt.dur(filed_at - due_at))


async def tell_office(s: Services, tx: Tx, inc: Incident, member: Member, stage: Stage, late: str, body: str) -> None:
    """A stage the office received: to the alert audience, and a forward clock of its own (the
    office keeps the city informed: 已上报市委 under it, for the office only)."""
    clock_id = await breaches.start_clock(s, tx, inc.id, stage.value, tx.now)
    text = s.texts("incident.alert.stage_filed", unit=esc(s.unit_name(inc.unit_code)), number=inc.number,
                   stage=s.texts(f"incident.stage.{stage}"), late=late, body=body)
    forward = cb.keyboard([[(s.texts("incident.btn.forward"), f"{cb.FORWARD_CLOCK}:{cb.FORWARD_OK}:{clock_id}")]])
    await office_broadcast(s, tx, inc, text, await alert_audience(tx.conn, inc, s.policy, exclude=[member.id],
                                                                  at=tx.now), tag="stage", office_markup=forward)
    await queue_upstream(s, tx, inc.id, stage.value)


async def stage_filed(s: Services, tx: Tx, inc: Incident, member: Member, stage: Stage, body: str,
                      at: datetime) -> str:
    """Mark a deadline stage filed as sent `at`, stop its reminders, tell the alert audience. Returns the
    late note. On time by `at` though the 迟报 already went out (the answer waited in Telegram's queue
    past the deadline effect): the 迟报 is withdrawn, in the record and to whoever was told of it."""
    rec = inc.stage(stage)
    sent = min(at, tx.now)
    if rec is None or not await incidents.file_stage(tx.conn, inc.id, stage, member.id, sent):
        raise ServiceError("incident.stages.already_filed", number=inc.number, stage=s.texts(f"incident.stage.{stage}"))
    await deadlines.cancel(tx.conn, rules.REMIND, inc.id, tx.now, stage.value)
    await deadlines.cancel(tx.conn, rules.DUE, inc.id, tx.now, stage.value)
    late = late_suffix(s, rec.due_at, sent)
    await breaches.filed(tx, inc, stage, sent - rec.due_at if late else None)
    await incidents.add_event(tx.conn, inc.id, sent, member.id, stage.value, name=member.name,
                              delay=int((sent - rec.due_at).total_seconds()) if late else 0)
    await keep_version(tx, inc.id, member.id, stage.value)
    await tell_office(s, tx, inc, member, stage, late, body)
    if not late and rec.late_flagged_at is not None:
        await _withdraw_late(s, tx, inc, stage, sent, rec.due_at)
    return late


async def _withdraw_late(s: Services, tx: Tx, inc: Incident, stage: Stage, sent: datetime, due: datetime) -> None:
    """The stage was sent in time after all: its record reads on time (filed by `sent`), the 迟报
    finding goes, an event says the 迟报 is withdrawn (the 迟报 event and the flag's time stay: the
    record keeps every version), and the unit and the office hear it."""
    await breaches.withdrawn(tx, inc, stage)
    await incidents.add_event(tx.conn, inc.id, tx.now, None, "late_withdrawn", stage=stage.value)
    text = s.texts("incident.remind.late_withdrawn", number=inc.number, stage=s.texts(f"incident.stage.{stage}"),
                   sent=s.fmt.dt(sent), due=s.fmt.dt(due))
    told = await unit_reporters(tx.conn, inc.unit_code)
    told += [m for m in await escalation_audience(tx.conn, inc, at=tx.now) if m.id not in {t.id for t in told}]
    await broadcast(s, tx, inc, text, told, tag="late_withdrawn")


async def file_written(s: Services, member: Member, incident_id: int, corrections: dict[str, object], *,
                       at: datetime, stage: Stage = Stage.WRITTEN) -> str:
    """The written report (or, after a 误报 mark, the corrected one): the facts confirmed or corrected.
    `at`: when the person sent it."""
    async with s.uow() as tx:
        inc = await load_for(s, tx.conn, member, incident_id, Action.FILE_STAGE)
        if not inc.open:
            raise ServiceError("incident.stages.already_closed", number=inc.number)
        facts = {k: v for k, v in corrections.items() if k != "casualties"}
        await incidents.update_facts(tx.conn, inc.id, **facts)
        if isinstance(corrections.get("casualties"), Casualties):
            await incidents.set_casualties(tx.conn, inc.id, corrections["casualties"], stage, tx.now)  # type: ignore[arg-type]
        fresh = await incidents.get(tx.conn, inc.id)
        assert fresh is not None
        return await stage_filed(s, tx, fresh, member, stage, txt.incident_facts(s, fresh), at)


async def file_full(s: Services, member: Member, incident_id: int, answers: dict[str, str | None], *,
                    at: datetime) -> tuple[str, list[str]]:
    async with s.uow() as tx:
        inc = await load_for(s, tx.conn, member, incident_id, Action.FILE_STAGE)
        if not inc.open:
            raise ServiceError("incident.stages.already_closed", number=inc.number)
        await incidents.update_facts(tx.conn, inc.id, **{k: answers.get(k) for k in FULL_FIELDS})
        unknown = s.texts("incident.unknown_mark")
        body = s.texts("incident.views.full_block", **{k: esc(answers.get(k) or unknown) for k in FULL_FIELDS})
        late = await stage_filed(s, tx, inc, member, Stage.FULL, body, at)
        open_fields: list[str] = [s.texts(f"incident.field.{k}") for k in FULL_FIELDS if not answers.get(k)]
        return late, open_fields


async def file_followup(s: Services, member: Member, incident_id: int, text: str,
                        casualties: Casualties | None) -> Incident:
    async with s.uow() as tx:
        inc = await load_for(s, tx.conn, member, incident_id, Action.FILE_STAGE)
        if not inc.open:
            raise ServiceError("incident.stages.already_closed", number=inc.number)
        await incidents.add_event(tx.conn, inc.id, tx.now, member.id, "followup", name=member.name, text=text)
        body: str = esc(text)
        if casualties is not None and casualties.any_known:
            merged = rules.merge_followup(inc.casualties, casualties)
            await incidents.set_casualties(tx.conn, inc.id, merged, Stage.FOLLOWUP, tx.now)
            await incidents.add_event(tx.conn, inc.id, tx.now, member.id, "casualties",
                                      casualties=txt.casualties_text(s, merged))
            body += "\n" + txt.casualties_text(s, merged)
            # Routing reads the new figures: a first death or missing person makes it major, for the leaders too.
            fresh = await incidents.get(tx.conn, inc.id)
            assert fresh is not None
            inc = fresh
        await deadlines.cancel(tx.conn, rules.FOLLOWUP, inc.id, tx.now)
        await tx.add_deadline(rules.FOLLOWUP, inc.id, rules.next_followup_at(inc.learnt_at, tx.now, s.policy))
        await keep_version(tx, inc.id, member.id, Stage.FOLLOWUP.value)
        await tell_office(s, tx, inc, member, Stage.FOLLOWUP, "", body)
        return inc


async def close_incident(s: Services, member: Member, incident_id: int, outcome: str) -> list[Stage]:
    """Close with the outcome; stages never filed become 漏报. Returns those stages."""
    async with s.uow() as tx:
        inc = await load_for(s, tx.conn, member, incident_id, Action.CLOSE_INCIDENT)
        if not await incidents.close(tx.conn, inc.id, member.id, outcome, tx.now):
            raise ServiceError("incident.stages.already_closed", number=inc.number)
        missed = rules.missed_on_close(inc)
        for stage in missed:
            await incidents.mark_missed(tx.conn, inc.id, stage)
            await incidents.add_event(tx.conn, inc.id, tx.now, None, "missed", stage=stage.value)
        await breaches.closed(tx, inc, missed)
        # A closed incident is chased no more, the office's pending forward checks included (a
        # 超时上报 already recorded stays on record).
        for kind in (rules.REMIND, rules.DUE, rules.FORWARD_REMIND, rules.FORWARD_DUE, rules.FOLLOWUP):
            await deadlines.cancel(tx.conn, kind, inc.id, tx.now)
        await incidents.add_event(tx.conn, inc.id, tx.now, member.id, "closed", name=member.name, outcome=outcome)
        missed_text = missed_line(s, missed)
        text = s.texts("incident.alert.closed", unit=esc(s.unit_name(inc.unit_code)), number=inc.number,
                       name=esc(member.name), outcome=esc(outcome), missed=missed_text)
        await broadcast(s, tx, inc, text, await alert_audience(tx.conn, inc, s.policy, exclude=[member.id], at=tx.now))
        await queue_upstream(s, tx, inc.id, "closed")
        return missed


def missed_line(s: Services, missed: list[Stage]) -> str:
    if not missed:
        return ""
    names = s.texts("core.list_sep").join(s.texts(f"incident.stage.{m}") for m in missed)
    return s.texts("incident.alert.missed_line", stages=names)
