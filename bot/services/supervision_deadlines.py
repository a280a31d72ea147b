"""What happens when a supervision deadline row comes due (called by reminders/scheduler).

Assignment rows: 签收 check, reminders before the deadline, the due check (overdue flag and
escalation), and chasing on a cadence until completed. The bulletin (通报) is a recurring
row (ref 0, stage = the crontab): each firing plans the next occurrence of the crontab
(bot/domain/cron.py), so it fires once per occurrence across restarts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from bot.domain import cron as crontab
from bot.domain import supervision as rules
from bot.domain.members import Role
from bot.domain.supervision import Assignment, AssignmentState, Task
from bot.fmt import esc
from bot.services import supervision_text as txt
from bot.services.base import Services
from bot.services.supervision import directors_of, leader_of, tell, tell_unit
from bot.services.supervision_views import bulletin_text
from reminders.kinds import On
from storage import deadlines, members
from storage import supervision as store
from storage.deadlines import Deadline
from storage.uow import Tx

log = logging.getLogger(__name__)
BULLETIN_REF = 0


async def _load(tx: Tx, d: Deadline) -> tuple[Task, Assignment] | None:
    a = await store.assignment(tx.conn, d.ref_id)
    task = await store.get(tx.conn, a.task_id) if a else None
    if a is None or task is None or not task.open:
        return None
    return task, a


async def accept_check(s: Services, tx: Tx, d: Deadline) -> None:
    """Not 签收 within `accept_within`: the director is told, once."""
    found = await _load(tx, d)
    if found is None or found[1].state is not AssignmentState.ASSIGNED:
        return
    task, a = found
    text = s.texts("task.not_accepted_director", number=txt.label(task), title=esc(task.title),
                   unit=esc(s.unit_name(a.unit_code)), elapsed=s.fmt.dur(tx.now - task.created_at))
    await tell(tx, await directors_of(tx.conn, task), text, task=task, tag="not_accepted",
               markup=txt.detail_keyboard(s, task))
    await store.add_event(tx.conn, task.id, a.id, tx.now, None, "not_accepted", unit=s.unit_name(a.unit_code))


async def assignment_deadline(s: Services, tx: Tx, d: Deadline) -> datetime | None:
    """What a reminder before the deadline warns of: the assignment's (current) deadline."""
    a = await store.assignment(tx.conn, d.ref_id)
    return a.due_at if a is not None else None


LEAD_SLACK = timedelta(minutes=1)


def time_left(planned: timedelta | None, left: timedelta) -> timedelta:
    """The planned lead ("1天") reads better than the exact remainder when a reminder fires a moment
    late; fired later than that (the bot was down), only the true remainder is true."""
    if planned is not None and timedelta(0) <= planned - left <= LEAD_SLACK:
        return planned
    return left


async def remind(s: Services, tx: Tx, d: Deadline) -> None:
    """Before the deadline (chase plan): the unit head and the responsible leader, with the time left."""
    found = await _load(tx, d)
    if found is None or not found[1].owes_work or found[1].due_at <= tx.now:
        return
    task, a = found
    left = s.fmt.dur(time_left(timedelta(seconds=int(d.stage)) if d.stage.isdigit() else None, a.due_at - tx.now))
    state = s.texts(f"task.state.{a.state}")
    unit_text = s.texts("task.remind_unit", number=txt.label(task), title=esc(task.title),
                        due=s.fmt.dt(a.due_at, year=True), left=left, state=state)
    count = await tell_unit(s, tx, task, a, unit_text, "remind")
    leader_text = s.texts("task.remind_leader", number=txt.label(task), title=esc(task.title),
                          unit=esc(s.unit_name(a.unit_code)), due=s.fmt.dt(a.due_at, year=True), left=left,
                          state=state)
    count += await tell(tx, [await leader_of(tx.conn, task)], leader_text, task=task, tag="remind",
                        markup=txt.detail_keyboard(s, task))
    await store.add_event(tx.conn, task.id, a.id, tx.now, None, "reminded", unit=s.unit_name(a.unit_code),
                          left=left, count=count)


async def due(s: Services, tx: Tx, d: Deadline) -> None:
    """At the deadline: an unfinished assignment is flagged overdue; director, leader and the unit's chief
    alerted; chasing starts."""
    found = await _load(tx, d)
    if found is None or not found[1].owes_work or found[1].due_at > tx.now:
        return
    task, a = found
    if not await store.flag_overdue(tx.conn, a.id, tx.now):
        return
    unit = esc(s.unit_name(a.unit_code))
    due_text = s.fmt.dt(a.due_at, year=True)
    await tell_unit(s, tx, task, a, s.texts("task.overdue_unit", number=txt.label(task), title=esc(task.title),
                                            due=due_text), "overdue")
    # The unit's chief (单位主要负责人) hears of the unit's overdue items with the office.
    chiefs = await members.with_roles(tx.conn, [Role.UNIT_CHIEF], a.unit_code)
    office = [*await directors_of(tx.conn, task), await leader_of(tx.conn, task), *chiefs]
    await tell(tx, office, s.texts("task.overdue_office", number=txt.label(task), title=esc(task.title), unit=unit,
                                   due=due_text, state=s.texts(f"task.state.{a.state}")),
               task=task, tag="overdue", markup=txt.detail_keyboard(s, task))
    await store.add_event(tx.conn, task.id, a.id, tx.now, None, "overdue", unit=s.unit_name(a.unit_code))
    await tx.add_deadline(rules.CHASE, a.id, tx.now + s.config.supervision.overdue_chase_every)


async def chase(s: Services, tx: Tx, d: Deadline) -> None:
    """While overdue and not completed: 催办 the unit on the configured cadence."""
    found = await _load(tx, d)
    if found is None or not found[1].owes_work or not found[1].is_overdue(tx.now):
        return
    task, a = found
    text = s.texts("task.chase_unit", number=txt.label(task), title=esc(task.title),
                   due=s.fmt.dt(a.due_at, year=True), delay=s.fmt.dur(tx.now - a.due_at))
    count = await tell_unit(s, tx, task, a, text, "chase")
    await store.add_event(tx.conn, task.id, a.id, tx.now, None, "chased", unit=s.unit_name(a.unit_code),
                          count=count)
    await tx.add_deadline(rules.CHASE, a.id, tx.now + s.config.supervision.overdue_chase_every)


# --- the bulletin -------------------------------------------------------------------


def next_bulletin_at(s: Services, after: datetime) -> datetime | None:
    """The cron rule's next occurrence strictly after `after` (None: no bulletin configured)."""
    cron = s.config.supervision.bulletin_cron
    if not cron:
        return None
    return crontab.parse(cron).after(after, s.config.tz).astimezone(after.tzinfo)


async def bulletin_chats(s: Services, tx: Tx) -> list[int]:
    """Directors, the configured group, and district-wide bound groups if asked for."""
    pol = s.config.supervision
    chats = [m.telegram_id for m in await members.with_roles(tx.conn, [Role.DIRECTOR])]
    if pol.bulletin_chat_id:
        chats.append(pol.bulletin_chat_id)
    if pol.bulletin_bound_groups:
        from storage import notices  # bound groups belong to the notices feature (/bindgroup)

        chats += [g.chat_id for g in await notices.groups(tx.conn) if g.unit_code is None]
    return list(dict.fromkeys(chats))


async def bulletin(s: Services, tx: Tx, d: Deadline) -> None:
    """The regular 通报, then the next occurrence; a row of an old crontab only re-plans."""
    cron = s.config.supervision.bulletin_cron
    if cron and d.stage == cron:
        text = await bulletin_text(s, tx.conn, tx.now)
        for chat_id in await bulletin_chats(s, tx):
            await tx.send_text(chat_id, text, ref_kind="supervision_bulletin", ref_id=BULLETIN_REF, tag="bulletin")
    await _plan_bulletin(s, tx, max(d.due_at, tx.now))


async def _plan_bulletin(s: Services, tx: Tx, after: datetime) -> None:
    cron = s.config.supervision.bulletin_cron
    nxt = next_bulletin_at(s, after)
    if nxt is None or await deadlines.is_pending(tx.conn, rules.BULLETIN, BULLETIN_REF, cron):
        return
    await tx.add_deadline(rules.BULLETIN, BULLETIN_REF, nxt, cron)


async def ensure_recurring(s: Services) -> None:
    """At start-up: one pending bulletin row for the configured crontab; rows of an old one dropped."""
    cron = s.config.supervision.bulletin_cron
    async with s.uow() as tx:
        stale = {stage for _kind, stage in await deadlines.pending_recurring(tx.conn, [rules.BULLETIN])} - {cron}
        for stage in stale:
            await deadlines.cancel(tx.conn, rules.BULLETIN, BULLETIN_REF, tx.now, stage)
        await _plan_bulletin(s, tx, tx.now)


HANDLERS = {
    rules.ACCEPT: accept_check,
    rules.REMIND: remind,
    rules.DUE: due,
    rules.CHASE: chase,
    rules.BULLETIN: bulletin,
}
# Reminders that count down to a moment (scheduler `warns_of`); the 签收 check and the chasing
# after the deadline say how long it has been, true however late they fire.
WARNS_OF = {rules.REMIND: assignment_deadline}


def register(s: Services, on: On) -> None:
    """Attach these to the scheduler: `register(services, scheduler.on)`."""
    for kind, fn in HANDLERS.items():
        warns = WARNS_OF.get(kind)
        on(kind, partial(fn, s), warns_of=partial(warns, s) if warns else None)


async def plant_now(s: Services, kind: str, assignment_id: int, due_at: datetime, stage: str = "") -> None:
    """An extra reminder or chase at `due_at` (the demo shows one without waiting days)."""
    async with s.uow() as tx:
        await tx.add_deadline(kind, assignment_id, due_at, stage)
