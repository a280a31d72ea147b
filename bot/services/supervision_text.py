"""How supervision items read in messages: the task card, state lines, keyboards. Pure rendering.

Callback data `sv:<action>:<id>` (≤ 64 bytes); the id is an assignment's, except for
`xok`/`xno` (an extension request's) and `d` (a task's). Never trusted: handlers
re-check role and unit against the database through bot/services/supervision.py.
"""

from __future__ import annotations

from datetime import datetime

from bot import callbacks as cb
from bot.domain.members import Member
from bot.domain.supervision import Assignment, AssignmentState, Task
from bot.fmt import esc
from bot.services.base import Services

PREFIX = cb.SUPERVISION
ACCEPT, PROGRESS, DONE, EXTEND = "acc", "prog", "done", "ext"  # the unit's buttons
APPROVE, RETURN, EXT_OK, EXT_NO = "ok", "ret", "xok", "xno"  # the director's buttons
DETAIL = "d"
ACTIONS = (ACCEPT, PROGRESS, DONE, EXTEND, APPROVE, RETURN, EXT_OK, EXT_NO, DETAIL)
DIALOG_ACTIONS = (PROGRESS, DONE, EXTEND, RETURN)
BUTTON_ACTIONS = (ACCEPT, APPROVE, EXT_OK, EXT_NO, DETAIL)


def data(action: str, ident: int) -> str:
    return f"{PREFIX}:{action}:{ident}"


def parse(raw: str | None, actions: tuple[str, ...] = ACTIONS) -> tuple[str, int] | None:
    return cb.parse_id(raw, PREFIX, actions)


def pattern(actions: tuple[str, ...]) -> str:
    return cb.pattern(PREFIX, actions)


def label(task: Task) -> str:
    return f"#{task.id}"


def unit_keyboard(s: Services, task: Task, a: Assignment) -> dict[str, object] | None:
    """What the unit can do next: 签收 first, then progress, completion and extension."""
    t = s.texts
    if a.state is AssignmentState.ASSIGNED:
        return cb.keyboard([[(t("task.btn.accept"), data(ACCEPT, a.id))]])
    if a.state is AssignmentState.ACCEPTED:
        return cb.keyboard([
            [(t("task.btn.progress"), data(PROGRESS, a.id)), (t("task.btn.done"), data(DONE, a.id))],
            [(t("task.btn.extend"), data(EXTEND, a.id)), (t("task.btn.detail"), data(DETAIL, task.id))],
        ])
    return cb.keyboard([[(t("task.btn.detail"), data(DETAIL, task.id))]])


def review_keyboard(s: Services, task: Task, a: Assignment) -> dict[str, object]:
    t = s.texts
    return cb.keyboard([[(t("task.btn.approve"), data(APPROVE, a.id)), (t("task.btn.return"), data(RETURN, a.id))],
                        [(t("task.btn.detail"), data(DETAIL, task.id))]])


def extension_keyboard(s: Services, ext_id: int) -> dict[str, object]:
    t = s.texts
    return cb.keyboard([[(t("task.btn.ext_ok"), data(EXT_OK, ext_id)), (t("task.btn.ext_no"), data(EXT_NO, ext_id))]])


def detail_keyboard(s: Services, task: Task) -> dict[str, object]:
    return cb.keyboard([[(s.texts("task.btn.detail"), data(DETAIL, task.id))]])


def units_text(s: Services, codes: list[str]) -> str:
    return s.texts("core.list_sep").join(esc(s.unit_name(c)) for c in codes)


def card(s: Services, task: Task, leader: Member | None, *, due: datetime | None = None) -> str:
    """Title, source, requirement, units, responsible leader, deadline."""
    return draft_card(s, number=label(task), title=task.title, source=task.source.value,
                      requirement=task.requirement, units=[a.unit_code for a in task.assignments],
                      leader=leader.name if leader else None, due=due or task.due_at)


def draft_card(s: Services, *, number: str, title: str, source: str, requirement: str, units: list[str],
               leader: str | None, due: datetime | None) -> str:
    return s.texts(
        "task.card", number=number, title=esc(title), source=s.texts(f"task.source.{source}"),
        requirement=esc(requirement) or s.texts("core.none"), units=units_text(s, units),
        leader=esc(leader) if leader else s.texts("task.no_leader"), due=s.fmt.dt(due, year=True),
    )


def state_text(s: Services, a: Assignment, now: datetime) -> str:
    """One unit's state: 待签收 / 办理中 / 待审核 / 已办结(按期|逾期), with the overdue time."""
    t = s.texts
    if a.state is AssignmentState.DONE:
        return t("task.state.done_late" if a.finished_late else "task.state.done_on_time")
    base = t(f"task.state.{a.state}")
    if a.is_overdue(now):
        return t("task.state.overdue", state=base, delay=s.fmt.dur(now - a.due_at))
    return t("task.state.left", state=base, left=s.fmt.dur(a.due_at - now)) if a.owes_work else base


def chase_plan_text(s: Services, task: Task) -> str:
    if not task.chase_plan:
        return s.texts("core.none")
    return s.texts("core.list_sep").join(s.fmt.dur(p) for p in task.chase_plan)
