"""Reading supervision items: /tasks (filtered list), /task N (full history), the bulletin (通报)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import supervision as rules
from bot.domain.members import Action, Member, can
from bot.domain.supervision import AssignmentState, Task
from bot.fmt import clip, clip_timeline, esc
from bot.i18n import LANGUAGES, Texts
from bot.services import supervision_text as txt
from bot.services.base import Services
from bot.services.errors import NotYourUnit, Stale
from bot.services.supervision import leader_of, may_view
from storage import supervision as store
from storage.conn import Conn

STATE_WORDS = ("assigned", "accepted", "submitted", "done")


@dataclass(frozen=True)
class TaskFilter:
    unit_code: str | None = None
    state: str | None = None
    overdue: bool = False
    include_done: bool = False


def parse_filter(s: Services, args: list[str]) -> TaskFilter | None:
    """`/tasks jianshelu 逾期`: a unit (code or name), a state word, 逾期/overdue, 全部/all. None if not understood."""
    unit = state = None
    overdue = include_done = False
    words = {w: key for lang in LANGUAGES for key in (*STATE_WORDS, "overdue", "all")
             for w in Texts(lang)(f"task.filter.{key}").split("|")}
    for raw in args[:4]:
        a = raw.strip().lower()
        found = next((u.code for u in s.config.units if a in (u.code, u.name.lower(), u.name_en.lower())), None)
        if found:
            unit = found
        elif words.get(a) == "overdue":
            overdue = True
        elif words.get(a) == "all":
            include_done = True
        elif words.get(a) in STATE_WORDS:
            state = words[a]
            include_done = include_done or state == "done"
        else:
            return None
    return TaskFilter(unit, state, overdue, include_done)


async def list_text(s: Services, member: Member, f: TaskFilter) -> str:
    """District-wide for directors and leaders; a unit's own otherwise."""
    own_only = not can(member, Action.VIEW_ALL_TASKS)
    unit = member.unit_code if own_only else f.unit_code
    now = s.now()
    lines = []
    for task in await store.list_tasks(s.db.read, unit_code=unit, include_done=f.include_done):
        shown = [a for a in task.assignments if unit is None or a.unit_code == unit]
        if f.state:
            shown = [a for a in shown if a.state.value == f.state]
        if f.overdue:
            shown = [a for a in shown if a.is_overdue(now)]
        if not shown:
            continue
        states = "\n".join(s.texts("task.list_unit", unit=esc(s.unit_name(a.unit_code)),
                                   state=txt.state_text(s, a, now), due=s.fmt.dt(a.due_at)) for a in shown)
        lines.append(s.texts("task.list_item", number=txt.label(task), title=esc(task.title),
                             source=s.texts(f"task.source.{task.source}"), units=states))
    if not lines:
        return s.texts("task.list_none")
    return clip("\n".join([s.texts("task.list_title", count=len(lines)), *lines, s.texts("task.list_hint")]))


def _event_text(s: Services, kind: str, d: dict[str, Any]) -> str:
    kw = {k: esc(v) if isinstance(v, str) else v for k, v in d.items()}
    if "units" in d:
        kw["units"] = s.texts("core.list_sep").join(esc(u) for u in d["units"])
    kw["late"] = s.texts("task.event_late") if d.get("late") else ""
    kw["files"] = s.texts("task.event_files", n=d["files"]) if d.get("files") else ""
    key = f"task.event.{kind}"
    return s.texts(key, **kw) if s.texts.has(key) else esc(kind)


async def detail(s: Services, member: Member, task_id: int) -> tuple[Task, str]:
    """The card, each unit's state and deadline, the extension history and the timeline."""
    conn = s.db.read
    task = await store.get(conn, task_id)
    if task is None:
        raise Stale()
    if not may_view(member, task):
        raise NotYourUnit()
    now = s.now()
    units = "\n".join(s.texts("task.detail_unit", unit=esc(s.unit_name(a.unit_code)),
                              state=txt.state_text(s, a, now), due=s.fmt.dt(a.due_at, year=True))
                      for a in task.assignments)
    ext_lines = []
    by_id = {a.id: a for a in task.assignments}
    for x in await store.extensions_of_task(conn, task.id):
        a = by_id.get(x.assignment_id)
        ext_lines.append(s.texts("task.detail_ext", unit=esc(s.unit_name(a.unit_code)) if a else "?",
                                 old_due=s.fmt.dt(x.old_due_at, year=True), due=s.fmt.dt(x.new_due_at, year=True),
                                 reason=esc(x.reason), status=s.texts(f"task.ext_status.{x.status}")))
    timeline = [s.texts("task.timeline_line", time=s.fmt.dt(e.at), text=_event_text(s, e.kind, e.detail))
                for e in await store.events(conn, task.id)]
    card, files = txt.card(s, task, await leader_of(conn, task)), await store.attachment_count(conn, task.id)
    return task, clip_timeline(lambda shown: s.texts(
        "task.detail", card=card,
        status=s.texts("task.status_done" if not task.open else "task.status_open"),
        plan=txt.chase_plan_text(s, task), units=units,
        extensions=s.texts("task.detail_exts", lines="\n".join(ext_lines)) if ext_lines else "",
        files=files, timeline="\n".join(shown),
    ), timeline, lambda n: s.texts("core.older_omitted", n=n))


def detail_markup(s: Services, member: Member, task: Task) -> dict[str, object] | None:
    """The viewer's own next step, if any: the unit's buttons, or the director's review."""
    if can(member, Action.REVIEW_TASK):
        waiting = [a for a in task.assignments if a.state is AssignmentState.SUBMITTED]
        if waiting:
            return txt.review_keyboard(s, task, waiting[0])
        return None
    a = task.assignment_for(member.unit_code)
    if a is not None and a.state is not AssignmentState.DONE and (
        can(member, Action.ACCEPT_TASK, a.unit_code) or can(member, Action.REPORT_TASK, a.unit_code)
    ):
        return txt.unit_keyboard(s, task, a)
    return None


# --- the bulletin (通报) -------------------------------------------------------------


async def bulletin_text(s: Services, conn: Conn, now: datetime) -> str:
    """Per unit: open, completed on time, completed late (this year), overdue now — the overdue named."""
    tasks = await store.list_tasks(conn, include_done=True)
    local = now.astimezone(s.config.tz)
    year_start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    tallies = rules.tally(tasks, now, since=year_start)
    if not tallies:
        return s.texts("task.bulletin_empty", date=s.fmt.dt(now, year=True))
    rows = [s.texts("task.bulletin_unit", unit=esc(s.unit_name(t.unit_code)), open=t.open, on_time=t.on_time,
                    late=t.late, overdue=t.overdue_now) for t in tallies]
    named = []
    for t in tallies:
        for task, a in t.overdue or []:
            named.append(s.texts("task.bulletin_overdue", unit=esc(s.unit_name(a.unit_code)), number=txt.label(task),
                                 title=esc(task.title), due=s.fmt.dt(a.due_at, year=True),
                                 delay=s.fmt.dur(now - a.due_at)))
    total = sum(t.overdue_now for t in tallies)
    return clip(s.texts(
        "task.bulletin", date=s.fmt.dt(now, year=True), year=local.year, rows="\n".join(rows),
        overdue=s.texts("task.bulletin_overdue_title", count=total) + "\n" + "\n".join(named) if named
        else s.texts("task.bulletin_none_overdue"),
    ))

