"""Supervision items (督查督办): every matter has a result, every item is carried out.

A task (督办事项) names a requirement, a responsible leader and a deadline; each
responsible unit owes an assignment of its own: 签收 (accept), progress, 办结
(completion), which the director accepts or returns. Reminders come before the
deadline on the task's chase plan; an overdue assignment is chased until done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import parse


class Source(StrEnum):
    INSTRUCTION = "instruction"  # 领导批示
    MEETING = "meeting"  # 会议议定事项
    ASSIGNED = "assigned"  # 交办件
    PROPOSAL = "proposal"  # 人大建议·政协提案
    OTHER = "other"  # 其他


class AssignmentState(StrEnum):
    ASSIGNED = "assigned"  # 待签收
    ACCEPTED = "accepted"  # 办理中 (also after 退回)
    SUBMITTED = "submitted"  # 办结待审核
    DONE = "done"  # 已办结


OPEN_STATES = frozenset({AssignmentState.ASSIGNED, AssignmentState.ACCEPTED})
"""States in which the unit still owes work: reminders, overdue flags and chasing apply."""


def was_late(late: bool, submitted_at: datetime | None, due_at: datetime) -> bool:
    """Submitted after its deadline, or past an earlier one before a return (退回) or an
    extension moved it (`late`, kept in the row)."""
    return late or (submitted_at is not None and submitted_at > due_at)


@dataclass(frozen=True)
class Assignment:
    id: int
    task_id: int
    unit_code: str
    state: AssignmentState
    due_at: datetime
    accepted_at: datetime | None = None
    submitted_at: datetime | None = None
    summary: str | None = None
    done_at: datetime | None = None
    overdue_at: datetime | None = None
    returned_count: int = 0
    late: bool = False  # was ever past a deadline it owed work on (a later new deadline keeps it)

    @property
    def owes_work(self) -> bool:
        return self.state in OPEN_STATES

    def is_overdue(self, now: datetime) -> bool:
        """Not finished and past its deadline (a completion awaiting review is not the unit's delay)."""
        return self.owes_work and now > self.due_at

    @property
    def came_late(self) -> bool:
        return was_late(self.late, self.submitted_at, self.due_at)

    @property
    def finished_late(self) -> bool | None:
        """For a completed assignment: was it late (`came_late`)?"""
        if self.state is not AssignmentState.DONE or self.submitted_at is None:
            return None
        return self.came_late


@dataclass(frozen=True)
class Task:
    id: int
    title: str
    source: Source
    requirement: str
    leader_id: int | None
    created_by: int
    created_at: datetime
    due_at: datetime
    chase_plan: tuple[timedelta, ...]
    status: str = "open"
    done_at: datetime | None = None
    assignments: tuple[Assignment, ...] = ()

    @property
    def open(self) -> bool:
        return self.status == "open"

    def assignment_for(self, unit_code: str) -> Assignment | None:
        return next((a for a in self.assignments if a.unit_code == unit_code), None)

    @property
    def all_done(self) -> bool:
        return bool(self.assignments) and all(a.state is AssignmentState.DONE for a in self.assignments)


# --- deadlines and reminders ------------------------------------------------------------

ACCEPT = "supervision.accept"
REMIND = "supervision.remind"
DUE = "supervision.due"
CHASE = "supervision.chase"
BULLETIN = "supervision.bulletin"
ASSIGNMENT_KINDS = (REMIND, DUE, CHASE)


@dataclass(frozen=True)
class PlannedDeadline:
    kind: str
    stage: str
    due_at: datetime


def plan_reminders(due_at: datetime, now: datetime, chase_plan: tuple[timedelta, ...],
                   already_overdue: bool, chase_every: timedelta) -> list[PlannedDeadline]:
    """Reminders still ahead, the due check (at once if the deadline has passed), or the next chase."""
    if already_overdue and due_at <= now:
        return [PlannedDeadline(CHASE, "", now + chase_every)]
    plan = [PlannedDeadline(REMIND, str(int(before.total_seconds())), due_at - before)
            for before in sorted(chase_plan, reverse=True) if due_at - before > now]
    plan.append(PlannedDeadline(DUE, "", max(due_at, now)))
    return plan


def accept_check_at(created_at: datetime, accept_within: timedelta) -> datetime:
    return created_at + accept_within


# --- what people type: deadlines and chase plans ------------------------------------

class DueInputError(ValueError):
    """`code` is a catalog key suffix: due_bad, due_past, due_far."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(\d{1,3}|[零一二两三四五六七八九十]{1,3})"
_RELATIVE = re.compile(rf"^{_NUM}\s*(个)?\s*(天|日|d|周|星期|w|个月|月|小时|h)(内|后|以内)?$", re.ASCII)
_HALF_MONTH = ("半个月", "半月")
_DAY_WORDS = {"今天": 0, "明天": 1, "后天": 2}
_ABS = re.compile(r"^(?:(?P<word>今天|明天|后天)|" + parse.DATE + r")(?:\s*" + parse.CLOCK + r")?$", re.ASCII)
_DAYS_PER = {"天": 1, "日": 1, "d": 1, "周": 7, "星期": 7, "w": 7, "个月": 30, "月": 30}
MAX_AHEAD = timedelta(days=2 * 366)


def cn_number(text: str) -> int:
    """`3`, `三`, `十`, `十五`, `二十` → int; KeyError for what is not a number."""
    n = parse.count(text, hi=999)
    if n is not None:
        return n
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return _CN_DIGITS[text]


def parse_due(text: str, now: datetime, tz: ZoneInfo, due_time: time = time(18, 0)) -> datetime:
    """A deadline typed on a phone, in Beijing time: `12-31`, `2026-12-31 17:00`, `3天`, `一周`.

    A day without a time means `due_time` that day; `N天`/`一周` count whole days from
    today; `N小时` counts from now. The result is aware UTC and in the future.
    """
    when = _due_at(text, now, tz, due_time)
    if when is None:
        raise DueInputError("due_bad")
    if when <= now:
        raise DueInputError("due_past")
    if when - now > MAX_AHEAD:
        raise DueInputError("due_far")
    return when


def _due_at(text: str, now: datetime, tz: ZoneInfo, due_time: time) -> datetime | None:
    s = re.sub(r"\s+", " ", parse.normalise(text).lower())
    today = now.astimezone(tz).date()
    if s in _HALF_MONTH:
        s = "15天"
    if s in ("一周", "1周", "一星期"):
        s = "7天"
    if m := _RELATIVE.match(s):
        try:
            n = cn_number(m.group(1))
        except KeyError:
            return None
        unit = m.group(3)
        if unit in ("小时", "h"):
            return now + timedelta(hours=n)
        return parse.moment(today + timedelta(days=n * _DAYS_PER[unit]), due_time, tz)
    if m := _ABS.match(s):
        day: date | None
        if m.group("word"):
            day = today + timedelta(days=_DAY_WORDS[m.group("word")])
        else:
            day = parse.date_of(m, today, "future")  # "01-15" typed in December means next January
        at = parse.clock_of(m) if m.group("h") is not None else due_time
        return parse.moment(day, at, tz) if day is not None and at is not None else None
    return None


_PLAN_ITEM = re.compile(r"^(\d{1,3})\s*(天|d|小时|h|分钟|m)$", re.ASCII)


def parse_chase_plan(text: str) -> tuple[timedelta, ...]:
    """`3天 1天 2小时` / `3d,1d,2h` → reminders that long before the deadline, largest first."""
    s = parse.normalise(text).replace("，", " ").replace(",", " ").replace("、", " ").lower()
    items = [p for p in s.split() if p]
    if not items or len(items) > 6:
        raise DueInputError("chase_bad")
    out = []
    for item in items:
        m = _PLAN_ITEM.match(item)
        before = parse.span(int(m.group(1)), m.group(2)) if m else None
        if not before:  # unreadable, or 0
            raise DueInputError("chase_bad")
        out.append(before)
    return tuple(sorted(set(out), reverse=True))


# --- the bulletin (通报) -----------------------------------------------------------------


@dataclass
class UnitTally:
    unit_code: str
    open: int = 0
    on_time: int = 0
    late: int = 0
    overdue: list[tuple[Task, Assignment]] | None = None

    @property
    def overdue_now(self) -> int:
        return len(self.overdue or [])


def tally(tasks: list[Task], now: datetime, since: datetime | None = None) -> list[UnitTally]:
    """Per unit: open, completed on time, completed late (since `since`), overdue now (named)."""
    by_unit: dict[str, UnitTally] = {}
    for task in tasks:
        for a in task.assignments:
            t = by_unit.setdefault(a.unit_code, UnitTally(a.unit_code, overdue=[]))
            if a.state is AssignmentState.DONE:
                if since is not None and (a.done_at is None or a.done_at < since):
                    continue
                if a.finished_late:
                    t.late += 1
                else:
                    t.on_time += 1
            else:
                t.open += 1
                if a.is_overdue(now):
                    assert t.overdue is not None
                    t.overdue.append((task, a))
    return [by_unit[k] for k in sorted(by_unit)]
