"""What happens when an incident's deadline row comes due (called by reminders/scheduler)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from bot import callbacks as cb
from bot.domain import incidents as rules
from bot.domain.incidents import Stage
from bot.fmt import esc
from bot.services import channel_messages
from bot.services import incident_breaches as breaches
from bot.services import incident_text as txt
from bot.services.base import Services
from bot.services.incidents import broadcast
from bot.services.routing import escalation_audience, unit_reporters
from reminders.kinds import On
from storage import incidents
from storage.deadlines import Deadline
from storage.uow import Tx


async def remind_stage(s: Services, tx: Tx, d: Deadline) -> None:
    """Before a stage's deadline: the unit's reporting members, with the time left."""
    inc = await incidents.get(tx.conn, d.ref_id)
    if inc is None or not inc.open:
        return
    rec = inc.stage(Stage(d.stage))
    if rec is None or rec.filed_at is not None:
        return
    people = await unit_reporters(tx.conn, inc.unit_code)
    text = s.texts("incident.remind.before", number=inc.number, category=s.texts(f"incident.cat.{inc.category}"),
                   stage=s.texts(f"incident.stage.{rec.stage}"), due=s.fmt.dt(rec.due_at),
                   left=s.fmt.dur(rec.due_at - tx.now))
    await broadcast(s, tx, inc, text, people, tag="remind", markup=txt.unit_keyboard(s, inc))
    await incidents.add_event(tx.conn, inc.id, tx.now, None, "reminded", stage=rec.stage.value, count=len(people))


async def stage_due(s: Services, tx: Tx, d: Deadline) -> None:
    """At the deadline: an unfiled stage is 迟报; the unit and the office are told, once."""
    inc = await incidents.get(tx.conn, d.ref_id)
    if inc is None or not inc.open:
        return
    rec = inc.stage(Stage(d.stage))
    if rec is None or rec.filed_at is not None or rec.late_flagged_at is not None:
        return
    await incidents.flag_late(tx.conn, inc.id, rec.stage.value, tx.now)
    await breaches.overdue(tx, inc, rec.stage)
    stage_name = s.texts(f"incident.stage.{rec.stage}")
    reporters = await unit_reporters(tx.conn, inc.unit_code)
    unit_text = s.texts("incident.remind.overdue_unit", number=inc.number, stage=stage_name, due=s.fmt.dt(rec.due_at))
    await broadcast(s, tx, inc, unit_text, reporters, tag="overdue", markup=txt.unit_keyboard(s, inc))
    reporter_ids = {m.id for m in reporters}
    office = [m for m in await escalation_audience(tx.conn, inc, at=tx.now) if m.id not in reporter_ids]
    office_text = s.texts("incident.remind.overdue_office", unit=esc(s.unit_name(inc.unit_code)), number=inc.number,
                          category=s.texts(f"incident.cat.{inc.category}"), stage=stage_name, due=s.fmt.dt(rec.due_at))
    await broadcast(s, tx, inc, office_text, office, tag="escalation",
                    markup=cb.keyboard([[(s.texts("incident.btn.detail"), cb.incident(cb.DETAIL, inc.id))]]))
    await incidents.add_event(tx.conn, inc.id, tx.now, None, "late", stage=rec.stage.value)
    await channel_messages.mirror(s, tx, "breach", ref_kind="incident", ref_id=inc.id, tag=f"late:{rec.stage.value}",
                                  title=s.texts("channels.robot.breach_title", number=inc.number), summary=office_text)


async def followup_reminder(s: Services, tx: Tx, d: Deadline) -> None:
    """While open, ask for a follow-up every `followup_every`; the next one is planned now."""
    inc = await incidents.get(tx.conn, d.ref_id)
    if inc is None or not inc.open:
        return
    people = await unit_reporters(tx.conn, inc.unit_code)
    text = s.texts("incident.remind.followup", number=inc.number, category=s.texts(f"incident.cat.{inc.category}"))
    await broadcast(s, tx, inc, text, people, tag="followup_remind", markup=txt.unit_keyboard(s, inc))
    await tx.add_deadline(rules.FOLLOWUP, inc.id, tx.now + s.policy.followup_every)


async def stage_deadline(s: Services, tx: Tx, d: Deadline) -> datetime | None:
    """What a stage reminder warns of: that stage's deadline."""
    inc = await incidents.get(tx.conn, d.ref_id)
    rec = inc.stage(Stage(d.stage)) if inc is not None else None
    return rec.due_at if rec is not None else None


HANDLERS = {
    rules.REMIND: remind_stage,
    rules.DUE: stage_due,
    rules.FOLLOWUP: followup_reminder,
}
# Reminders that count down to a moment (scheduler `warns_of`). The forward reminder and the
# follow-up request are not among them: they say how long it has been, true however late they fire,
# and nothing else prompts the duty room to forward or the unit to follow up.
WARNS_OF = {rules.REMIND: stage_deadline}


def register(s: Services, on: On) -> None:
    """Attach these to the scheduler: `register(services, scheduler.on)`."""
    for kind, fn in HANDLERS.items():
        warns = WARNS_OF.get(kind)
        on(kind, partial(fn, s), warns_of=partial(warns, s) if warns else None)
