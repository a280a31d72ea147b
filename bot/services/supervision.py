"""Use cases of supervision (督查督办): assign, accept, report progress, complete, review,
return, extend. Each commits the state change, the messages and the deadlines it causes
in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.domain import supervision as rules
from bot.domain.members import Action, Member, Role, can
from bot.domain.supervision import Assignment, AssignmentState, Source, Task
from bot.fmt import esc
from bot.services import supervision_text as txt
from bot.services.base import Services
from bot.services.errors import NotAllowed, NotYourUnit, ServiceError, Stale
from storage import deadlines, drafts, members, outbox
from storage import supervision as store
from storage.conn import Conn
from storage.supervision import Attachment
from storage.uow import Tx

REF = "supervision"
DRAFT_KIND = "task"  # the /task dialogue's row in the drafts table
DRAFT_REPORT = "task_report"  # the progress / completion dialogue's row
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class Reply:
    """What the person who acted is told (a toast for a button, or a message)."""

    text: str
    markup: dict[str, object] | None = None
    first: bool = True


@dataclass
class TaskDraft:
    """The answers of the /task dialogue so far (kept in the drafts table between steps)."""

    title: str = ""
    source: str = ""
    requirement: str = ""
    units: list[str] = field(default_factory=list)
    leader_id: int | None = None
    due_at: str = ""  # ISO, UTC
    chase_plan: list[int] | None = None  # seconds; None = the configured default

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> TaskDraft:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)  # type: ignore[arg-type]

    @property
    def due(self) -> datetime | None:
        return datetime.fromisoformat(self.due_at) if self.due_at else None

    def plan(self, s: Services) -> tuple[timedelta, ...]:
        if self.chase_plan is None:
            return tuple(sorted(s.config.supervision.chase_before, reverse=True))
        return tuple(timedelta(seconds=x) for x in self.chase_plan)


def due_time(s: Services) -> time:
    hh, mm = s.config.supervision.due_time.split(":")
    return time(int(hh), int(mm))


def parse_due(s: Services, text: str) -> datetime:
    """A typed deadline, or ServiceError("task.due_bad" / "task.due_past" / "task.due_far")."""
    try:
        return rules.parse_due(text[:40], s.now(), s.config.tz, due_time(s))
    except rules.DueInputError as err:
        raise ServiceError(f"task.{err.code}") from None


# --- who is told ----------------------------------------------------------------------


async def unit_contacts(conn: Conn, unit_code: str) -> list[Member]:
    """The unit head(s); the unit's officers only when it has no head registered."""
    heads = await members.with_roles(conn, [Role.UNIT_HEAD], unit_code)
    return heads or await members.with_roles(conn, [Role.OFFICER], unit_code)


async def leader_of(conn: Conn, task: Task) -> Member | None:
    if task.leader_id is None:
        return None
    m = await members.by_id(conn, task.leader_id)
    return m if m and m.active else None


async def directors_of(conn: Conn, task: Task) -> list[Member]:
    """The director who assigned it; every director if that one is gone."""
    m = await members.by_id(conn, task.created_by)
    if m and m.active and m.has(Role.DIRECTOR):
        return [m]
    return await members.with_roles(conn, [Role.DIRECTOR])


async def tell(tx: Tx, people: Sequence[Member | None], text: str, *, task: Task, tag: str,
               markup: dict[str, object] | None = None, exclude: int | None = None) -> int:
    seen: set[int] = set()
    for m in people:
        if m is None or m.id == exclude or m.id in seen:
            continue
        seen.add(m.id)
        await tx.send_text(m.telegram_id, text, markup=markup, ref_kind=REF, ref_id=task.id, tag=tag)
    return len(seen)


async def tell_unit(s: Services, tx: Tx, task: Task, a: Assignment, text: str, tag: str) -> int:
    """The unit head(s) with the unit's buttons; with no head registered, its officers with 详情 only
    (only a head may 签收 or report completion, so those buttons would only refuse them)."""
    heads = await members.with_roles(tx.conn, [Role.UNIT_HEAD], a.unit_code)
    if heads:
        return await tell(tx, list(heads), text, task=task, tag=tag, markup=txt.unit_keyboard(s, task, a))
    officers = await members.with_roles(tx.conn, [Role.OFFICER], a.unit_code)
    return await tell(tx, list(officers), text, task=task, tag=tag, markup=txt.detail_keyboard(s, task))


async def forward_files(tx: Tx, people: Sequence[Member | None], files: list[Attachment], caption: str,
                        task: Task, exclude: int | None = None) -> None:
    seen: set[int] = set()
    for m in people:
        if m is None or m.id == exclude or m.id in seen:
            continue
        seen.add(m.id)
        for f in files:
            method = outbox.SEND_PHOTO if f.kind == "photo" else outbox.SEND_DOCUMENT
            await tx.send(m.telegram_id, method, {f.kind: f.file_id, "caption": caption}, ref_kind=REF, ref_id=task.id)


# --- loading with permission checks -----------------------------------------------------


async def load(conn: Conn, member: Member, assignment_id: int,
               action: Action) -> tuple[Task, Assignment]:
    """The assignment and its task, if `member` may do `action` on it; otherwise a refusal."""
    a = await store.assignment(conn, assignment_id)
    task = await store.get(conn, a.task_id) if a else None
    if a is None or task is None:
        raise Stale()
    if not can(member, action):
        raise NotAllowed()
    if not can(member, action, a.unit_code):
        raise NotYourUnit()
    return task, a


def may_view(member: Member, task: Task) -> bool:
    if can(member, Action.VIEW_ALL_TASKS):
        return True
    return can(member, Action.VIEW_OWN_TASKS) and task.assignment_for(member.unit_code) is not None


async def replan(s: Services, tx: Tx, task: Task, a: Assignment) -> None:
    """Drop the assignment's pending reminders and plan them again from its (current) deadline."""
    for kind in rules.ASSIGNMENT_KINDS:
        await deadlines.cancel(tx.conn, kind, a.id, tx.now)
    fresh = await store.assignment(tx.conn, a.id)
    assert fresh is not None
    plan = rules.plan_reminders(fresh.due_at, tx.now, task.chase_plan, fresh.overdue_at is not None,
                                s.config.supervision.overdue_chase_every)
    for p in plan:
        await tx.add_deadline(p.kind, a.id, p.due_at, p.stage)


def _unit(s: Services, a: Assignment) -> str:
    return esc(s.unit_name(a.unit_code))


# --- use cases --------------------------------------------------------------------------


async def assign(s: Services, member: Member, draft: TaskDraft) -> Task:
    """Create the item, one assignment per unit, their deadlines, and send it to each unit."""
    if not can(member, Action.ASSIGN_TASK):
        raise NotAllowed()
    due = draft.due
    units = [u for u in dict.fromkeys(draft.units) if s.config.unit(u) is not None]
    if not draft.title or not draft.source or not units or due is None:
        raise ServiceError("task.draft_lost")
    async with s.uow() as tx:
        if due <= tx.now:
            raise ServiceError("task.due_past")
        leader = await members.by_id(tx.conn, draft.leader_id) if draft.leader_id else None
        if draft.leader_id and (leader is None or not leader.active or not leader.has(Role.LEADER)):
            raise ServiceError("task.leader_gone")
        task_id = await store.create(
            tx.conn, title=draft.title, source=Source(draft.source), requirement=draft.requirement,
            leader_id=leader.id if leader else None, created_by=member.id, now=tx.now, due_at=due,
            chase_plan=draft.plan(s), units=units,
        )
        task = await store.get(tx.conn, task_id)
        assert task is not None
        await store.add_event(tx.conn, task.id, None, tx.now, member.id, "assigned", name=member.name,
                              units=[s.unit_name(u) for u in units], due=s.fmt.dt(due, year=True))
        card = txt.card(s, task, leader)
        headless = []
        for a in task.assignments:
            await tx.add_deadline(rules.ACCEPT, a.id, rules.accept_check_at(tx.now, s.config.supervision.accept_within))
            await replan(s, tx, task, a)
            text = s.texts("task.assigned_unit", card=card, director=esc(member.name),
                           within=s.fmt.dur(s.config.supervision.accept_within))
            if not await members.with_roles(tx.conn, [Role.UNIT_HEAD], a.unit_code):
                headless.append(a.unit_code)
            await tell_unit(s, tx, task, a, text, "assigned")
        await tell(tx, [leader], s.texts("task.assigned_leader", card=card, director=esc(member.name)),
                   task=task, tag="assigned", markup=txt.detail_keyboard(s, task))
        if headless:
            await tell(tx, [member], s.texts("task.no_head", number=txt.label(task), units=txt.units_text(s, headless)),
                       task=task, tag="no_head")
        await drafts.mark_done(tx.conn, member.telegram_id, DRAFT_KIND, task.id, tx.now)  # 确认交办 again: not twice
        return task


async def accept(s: Services, member: Member, assignment_id: int, *, at: datetime) -> Reply:
    """签收, pressed `at` (late or not by then): the unit head takes the item on; the director is told."""
    async with s.uow() as tx:
        task, a = await load(tx.conn, member, assignment_id, Action.ACCEPT_TASK)
        pressed = min(max(at, task.created_at), tx.now)
        if not await store.move(tx.conn, a.id, (AssignmentState.ASSIGNED,), AssignmentState.ACCEPTED,
                                accepted_at=pressed, accepted_by=member.id):
            return Reply(s.texts("task.already_accepted", number=txt.label(task)), first=False)
        await deadlines.cancel(tx.conn, rules.ACCEPT, a.id, tx.now)
        late = pressed - task.created_at > s.config.supervision.accept_within
        await store.add_event(tx.conn, task.id, a.id, pressed, member.id, "accepted", name=member.name,
                              unit=s.unit_name(a.unit_code), late=late)
        await tell(tx, await directors_of(tx.conn, task),
                   s.texts("task.accepted_director", number=txt.label(task), title=esc(task.title),
                           unit=_unit(s, a), name=esc(member.name)),
                   task=task, tag="accepted", exclude=member.id)
        fresh = await store.assignment(tx.conn, a.id)
        assert fresh is not None
        return Reply(s.texts("task.accepted", number=txt.label(task), title=esc(task.title),
                             due=s.fmt.dt(fresh.due_at, year=True)),
                     txt.unit_keyboard(s, task, fresh))


def _must_be_working(s: Services, task: Task, a: Assignment) -> None:
    if a.state is AssignmentState.ASSIGNED:
        raise ServiceError("task.accept_first", number=txt.label(task))
    if a.state is AssignmentState.SUBMITTED:
        raise ServiceError("task.already_submitted", number=txt.label(task))
    if a.state is AssignmentState.DONE:
        raise ServiceError("task.already_done", number=txt.label(task))


async def check_can(s: Services, member: Member, assignment_id: int, action: Action) -> tuple[Task, Assignment]:
    """Before a dialogue starts: may `member` do `action` on this assignment now?"""
    task, a = await load(s.db.read, member, assignment_id, action)
    if action is Action.REVIEW_TASK:
        if a.state is not AssignmentState.SUBMITTED:
            raise ServiceError("task.not_submitted", number=txt.label(task))
    else:
        _must_be_working(s, task, a)
    return task, a


async def report_progress(s: Services, member: Member, assignment_id: int, text: str,
                          files: list[Attachment], *, at: datetime) -> Reply:
    """The unit reports progress (any number of times), sent `at`; the director and leader see it."""
    async with s.uow() as tx:
        task, a = await load(tx.conn, member, assignment_id, Action.REPORT_TASK)
        _must_be_working(s, task, a)
        event_id = await store.add_event(tx.conn, task.id, a.id, min(at, tx.now), member.id, "progress",
                                         name=member.name,
                                         unit=s.unit_name(a.unit_code), text=text, files=len(files))
        await store.add_attachments(tx.conn, event_id, files[:MAX_ATTACHMENTS])
        await drafts.mark_done(tx.conn, member.telegram_id, DRAFT_REPORT, event_id, tx.now)  # 提交 again: not twice
        audience = [*await directors_of(tx.conn, task), await leader_of(tx.conn, task)]
        msg = s.texts("task.progress_office", number=txt.label(task), title=esc(task.title), unit=_unit(s, a),
                      name=esc(member.name), text=esc(text), files=len(files))
        await tell(tx, audience, msg, task=task, tag="progress", markup=txt.detail_keyboard(s, task),
                   exclude=member.id)
        await forward_files(tx, audience, files[:MAX_ATTACHMENTS], txt.label(task), task, exclude=member.id)
        return Reply(s.texts("task.progress_done", number=txt.label(task), files=len(files)),
                     txt.unit_keyboard(s, task, a))


async def submit_completion(s: Services, member: Member, assignment_id: int, summary: str,
                            files: list[Attachment], *, at: datetime) -> Reply:
    """办结: the unit head reports completion with a summary, sent `at` (in time or late by then); the
    director accepts or returns it. In time though the overdue flag was raised (the report waited in
    Telegram's queue past the deadline effect): the flag is withdrawn, and whoever was told hears it."""
    async with s.uow() as tx:
        task, a = await load(tx.conn, member, assignment_id, Action.SUBMIT_TASK)
        _must_be_working(s, task, a)
        sent = min(at, tx.now)
        late = sent > a.due_at
        if not await store.move(tx.conn, a.id, (AssignmentState.ACCEPTED,), AssignmentState.SUBMITTED,
                                submitted_at=sent, submitted_by=member.id, summary=summary,
                                **({"late": 1} if late else {})):
            raise Stale()
        for kind in rules.ASSIGNMENT_KINDS:
            await deadlines.cancel(tx.conn, kind, a.id, tx.now)
        event_id = await store.add_event(tx.conn, task.id, a.id, sent, member.id, "submitted", name=member.name,
                                         unit=s.unit_name(a.unit_code), text=summary, files=len(files), late=late)
        if not late and a.overdue_at is not None:
            await _withdraw_overdue(s, tx, task, a, sent)
        await store.add_attachments(tx.conn, event_id, files[:MAX_ATTACHMENTS])
        await drafts.mark_done(tx.conn, member.telegram_id, DRAFT_REPORT, event_id, tx.now)  # 提交 again: not twice
        fresh = await store.assignment(tx.conn, a.id)
        assert fresh is not None
        late_note = s.texts("task.late_note", delay=s.fmt.dur(sent - a.due_at)) if late else ""
        msg = s.texts("task.submitted_director", number=txt.label(task), title=esc(task.title), unit=_unit(s, a),
                      name=esc(member.name), summary=esc(summary), files=len(files), late=late_note)
        directors = await directors_of(tx.conn, task)
        await tell(tx, directors, msg, task=task, tag="submitted", markup=txt.review_keyboard(s, task, fresh))
        await forward_files(tx, directors, files[:MAX_ATTACHMENTS], txt.label(task), task)
        leader = await leader_of(tx.conn, task)
        await tell(tx, [leader], msg, task=task, tag="submitted", markup=txt.detail_keyboard(s, task))
        return Reply(s.texts("task.submitted", number=txt.label(task)))


async def _withdraw_overdue(s: Services, tx: Tx, task: Task, a: Assignment, sent: datetime) -> None:
    """The completion was sent before the deadline the overdue flag was raised for: the flag goes
    (the assignment stays late only if it was late before this deadline); the 逾期 event stays."""
    await store.withdraw_overdue(tx.conn, a.id)
    await store.add_event(tx.conn, task.id, a.id, tx.now, None, "overdue_withdrawn", unit=s.unit_name(a.unit_code))
    text = s.texts("task.overdue_withdrawn", number=txt.label(task), title=esc(task.title), unit=_unit(s, a),
                   sent=s.fmt.dt(sent, year=True), due=s.fmt.dt(a.due_at, year=True))
    office = [*await directors_of(tx.conn, task), await leader_of(tx.conn, task)]
    await tell(tx, [*await unit_contacts(tx.conn, a.unit_code), *office], text, task=task, tag="overdue_withdrawn")


async def approve_completion(s: Services, member: Member, assignment_id: int) -> Reply:
    """The director accepts the completion: 已办结; when every unit is done, the item is."""
    async with s.uow() as tx:
        task, a = await load(tx.conn, member, assignment_id, Action.REVIEW_TASK)
        if not await store.move(tx.conn, a.id, (AssignmentState.SUBMITTED,), AssignmentState.DONE,
                                done_at=tx.now, done_by=member.id):
            return Reply(s.texts("task.not_submitted", number=txt.label(task)), first=False)
        late = a.came_late
        await store.add_event(tx.conn, task.id, a.id, tx.now, member.id, "approved", name=member.name,
                              unit=s.unit_name(a.unit_code), late=late)
        fresh_task = await store.get(tx.conn, task.id)
        assert fresh_task is not None
        result = s.texts("task.result_late" if late else "task.result_on_time")
        msg = s.texts("task.approved_unit", number=txt.label(task), title=esc(task.title), unit=_unit(s, a),
                      result=result)
        leader = await leader_of(tx.conn, task)
        await tell(tx, [*await unit_contacts(tx.conn, a.unit_code), leader], msg, task=task, tag="approved",
                   exclude=member.id)
        closed = ""
        if fresh_task.all_done and await store.close_task(tx.conn, task.id, tx.now):
            await store.add_event(tx.conn, task.id, None, tx.now, None, "closed")
            closed = s.texts("task.all_done", number=txt.label(task), title=esc(task.title))
            await tell(tx, [*await directors_of(tx.conn, task), leader], closed, task=task, tag="closed",
                       exclude=member.id)
        return Reply(s.texts("task.approved", number=txt.label(task), unit=_unit(s, a), result=result)
                     + (("\n" + closed) if closed else ""))


async def return_completion(s: Services, member: Member, assignment_id: int, reason: str,
                            new_due: datetime | None) -> Reply:
    """退回 with a reason: open again, with its deadline or a new one."""
    async with s.uow() as tx:
        task, a = await load(tx.conn, member, assignment_id, Action.REVIEW_TASK)
        if new_due is not None and new_due <= tx.now:
            raise ServiceError("task.due_past")
        due = new_due or a.due_at
        if not await store.returned(tx.conn, a.id, due, keep_overdue=new_due is None):
            raise ServiceError("task.not_submitted", number=txt.label(task))
        await store.add_event(tx.conn, task.id, a.id, tx.now, member.id, "returned", name=member.name,
                              unit=s.unit_name(a.unit_code), reason=reason,
                              old_due=s.fmt.dt(a.due_at, year=True), due=s.fmt.dt(due, year=True))
        await replan(s, tx, task, a)
        fresh = await store.assignment(tx.conn, a.id)
        assert fresh is not None
        msg = s.texts("task.returned_unit", number=txt.label(task), title=esc(task.title), name=esc(member.name),
                      reason=esc(reason), due=s.fmt.dt(due, year=True))
        await tell(tx, await unit_contacts(tx.conn, a.unit_code), msg, task=task, tag="returned",
                   markup=txt.unit_keyboard(s, task, fresh))
        await tell(tx, [await leader_of(tx.conn, task)], msg, task=task, tag="returned", exclude=member.id)
        return Reply(s.texts("task.returned", number=txt.label(task), unit=_unit(s, a), due=s.fmt.dt(due, year=True)))


async def request_extension(s: Services, member: Member, assignment_id: int, new_due: datetime,
                            reason: str) -> Reply:
    """The unit asks for a later deadline, with a reason; the director decides."""
    async with s.uow() as tx:
        task, a = await load(tx.conn, member, assignment_id, Action.SUBMIT_TASK)
        _must_be_working(s, task, a)
        if new_due <= a.due_at or new_due <= tx.now:
            raise ServiceError("task.ext_not_later", due=s.fmt.dt(a.due_at, year=True))
        if await store.pending_extension(tx.conn, a.id) is not None:
            raise ServiceError("task.ext_pending", number=txt.label(task))
        ext_id = await store.add_extension(tx.conn, a.id, member.id, tx.now, a.due_at, new_due, reason)
        await store.add_event(tx.conn, task.id, a.id, tx.now, member.id, "ext_asked", name=member.name,
                              unit=s.unit_name(a.unit_code), reason=reason,
                              old_due=s.fmt.dt(a.due_at, year=True), due=s.fmt.dt(new_due, year=True))
        msg = s.texts("task.ext_director", number=txt.label(task), title=esc(task.title), unit=_unit(s, a),
                      name=esc(member.name), old_due=s.fmt.dt(a.due_at, year=True),
                      due=s.fmt.dt(new_due, year=True), reason=esc(reason))
        await tell(tx, await directors_of(tx.conn, task), msg, task=task, tag="extension",
                   markup=txt.extension_keyboard(s, ext_id))
        return Reply(s.texts("task.ext_asked", number=txt.label(task), due=s.fmt.dt(new_due, year=True)))


async def decide_extension(s: Services, member: Member, extension_id: int, approve: bool) -> Reply:
    """The director approves (the deadline moves, reminders are planned again) or refuses."""
    async with s.uow() as tx:
        ext = await store.extension(tx.conn, extension_id)
        if ext is None:
            raise Stale()
        task, a = await load(tx.conn, member, ext.assignment_id, Action.REVIEW_TASK)
        if not await store.decide_extension(tx.conn, ext.id, approve, member.id, tx.now):
            return Reply(s.texts("task.ext_decided_already"), first=False)
        old, new = s.fmt.dt(ext.old_due_at, year=True), s.fmt.dt(ext.new_due_at, year=True)
        if approve and a.state is not AssignmentState.DONE:
            await store.set_due(tx.conn, a.id, ext.new_due_at)
            if a.owes_work:
                await replan(s, tx, task, a)
        await store.add_event(tx.conn, task.id, a.id, tx.now, member.id, "ext_approved" if approve else "ext_refused",
                              name=member.name, unit=s.unit_name(a.unit_code), old_due=old, due=new)
        fresh = await store.assignment(tx.conn, a.id)
        assert fresh is not None
        key = "task.ext_approved_unit" if approve else "task.ext_refused_unit"
        msg = s.texts(key, number=txt.label(task), title=esc(task.title), name=esc(member.name), old_due=old, due=new,
                      current=s.fmt.dt(fresh.due_at, year=True))
        await tell(tx, await unit_contacts(tx.conn, a.unit_code), msg, task=task, tag="extension",
                   markup=txt.unit_keyboard(s, task, fresh))
        await tell(tx, [await leader_of(tx.conn, task)], msg, task=task, tag="extension", exclude=member.id)
        return Reply(s.texts("task.ext_approved" if approve else "task.ext_refused", number=txt.label(task),
                             unit=_unit(s, a), due=s.fmt.dt(fresh.due_at, year=True)))


async def open_assignments_for(s: Services, member: Member) -> list[tuple[Task, Assignment]]:
    """The member's unit's assignments still being worked on (for /progress)."""
    out = []
    for task in await store.list_tasks(s.db.read, unit_code=member.unit_code):
        a = task.assignment_for(member.unit_code)
        if a is not None and a.state in (AssignmentState.ASSIGNED, AssignmentState.ACCEPTED):
            out.append((task, a))
    return out


async def move_deadline(s: Services, assignment_id: int, due_at: datetime) -> None:
    """Set an assignment's deadline and plan its reminders again, no questions asked.

    Not a use case anyone can reach from Telegram (they go through an extension or a
    return): `dutydesk demo` uses it to fold days into seconds.
    """
    async with s.uow() as tx:
        a = await store.assignment(tx.conn, assignment_id)
        task = await store.get(tx.conn, a.task_id) if a else None
        if a is None or task is None:
            raise Stale()
        await store.set_due(tx.conn, a.id, due_at)
        await replan(s, tx, task, a)
