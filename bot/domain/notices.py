"""Notices sent down with receipts (上情下达): who must sign, by when, and who is chased.

"Not one notice missed": every receiver presses 已阅/收到 within the receipt deadline
(8 h by default, urgent 30 min); at half the deadline the non-receivers are asked
again, at the deadline their unit heads are told and the sender gets the tally.
Meeting notices add time, place and attendance (参加 / 请假 / 代会).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import parse
from bot.domain.members import Action, Member, Role, can


class NoticeKind(StrEnum):
    NOTICE = "notice"  # 通知/文件
    MEETING = "meeting"  # 会议通知


class Audience(StrEnum):
    ALL = "all"  # 全区各单位
    UNITS = "units"  # 选定单位
    ROLES = "roles"  # 选定角色
    MEMBERS = "members"  # 指定人员
    GROUPS = "groups"  # 已绑定的群


class Attendance(StrEnum):
    ATTEND = "attend"  # 参加
    LEAVE = "leave"  # 请假
    PROXY = "proxy"  # 代会


# Roles a notice may be addressed to ("all officers", "all unit heads", …).
ADDRESSABLE_ROLES: tuple[Role, ...] = (Role.OFFICER, Role.UNIT_HEAD, Role.UNIT_CHIEF, Role.DUTY, Role.DIRECTOR,
                                       Role.LEADER)


@dataclass(frozen=True)
class NoticePolicy:
    receipt_deadline: timedelta = timedelta(hours=8)
    urgent_deadline: timedelta = timedelta(minutes=30)
    resend_throttle: timedelta = timedelta(minutes=5)
    meeting_remind_before: timedelta = timedelta(hours=1)
    min_deadline: timedelta = timedelta(seconds=10)
    max_deadline: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class AudienceSpec:
    """Who a notice goes to, as chosen in the dialogue (stored as JSON)."""

    kind: Audience
    units: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    member_ids: tuple[int, ...] = ()
    group_ids: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind.value, "units": list(self.units), "roles": list(self.roles),
                "member_ids": list(self.member_ids), "group_ids": list(self.group_ids)}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> AudienceSpec:
        def seq(key: str) -> list[object]:
            v = d.get(key) or []
            return list(v) if isinstance(v, list) else []

        return cls(Audience(str(d.get("kind", "all"))), tuple(str(u) for u in seq("units")),
                   tuple(str(r) for r in seq("roles")), tuple(int(str(m)) for m in seq("member_ids")),
                   tuple(int(str(g)) for g in seq("group_ids")))


class AudienceProblem(StrEnum):
    EMPTY = "empty"
    OUTSIDE_UNIT = "outside_unit"  # a unit head addressing beyond their own unit


def audience_problem(sender: Member, spec: AudienceSpec, member_units: dict[int, str],
                     group_units: dict[int, str | None]) -> AudienceProblem | None:
    """Unit heads send to their own unit only; district-wide senders anywhere.

    `member_units` / `group_units` give the unit of each chosen member / bound group
    (None for a district-wide group)."""
    if spec.kind is Audience.UNITS and not spec.units or spec.kind is Audience.ROLES and not spec.roles \
            or spec.kind is Audience.MEMBERS and not spec.member_ids \
            or spec.kind is Audience.GROUPS and not spec.group_ids:
        return AudienceProblem.EMPTY
    if sender.district_wide:
        return None
    own = sender.unit_code
    if spec.kind is Audience.UNITS and set(spec.units) != {own}:
        return AudienceProblem.OUTSIDE_UNIT
    if spec.kind is Audience.MEMBERS and any(member_units.get(m) != own for m in spec.member_ids):
        return AudienceProblem.OUTSIDE_UNIT
    if spec.kind is Audience.GROUPS and any(group_units.get(g, "?") != own for g in spec.group_ids):
        return AudienceProblem.OUTSIDE_UNIT
    return None  # ALL and ROLES mean "in my unit" for a unit head: the service narrows them


def unreached_units(sender: Member, spec: AudienceSpec, all_units: Iterable[str], reached: Iterable[str]) -> list[str]:
    """Units the notice is addressed to in which nobody is registered to receive it: the sender
    must reach them another way (their group, the phone). The sender's own unit is not counted."""
    if spec.kind is Audience.UNITS:
        wanted: Iterable[str] = spec.units
    elif spec.kind is Audience.ALL and sender.district_wide:
        wanted = all_units
    else:
        return []
    got = set(reached)
    return [u for u in dict.fromkeys(wanted) if u not in got and u != sender.unit_code]


def may_send(member: Member | None) -> bool:
    return can(member, Action.SEND_NOTICE)


def receipt_deadline(policy: NoticePolicy, urgent: bool, chosen: timedelta | None = None) -> timedelta:
    """The sender's choice if given (within bounds), else 8 h, or 30 min when urgent."""
    if chosen is not None:
        return min(max(chosen, policy.min_deadline), policy.max_deadline)
    return policy.urgent_deadline if urgent else policy.receipt_deadline


RESEND = "notice.resend"  # automatic re-send to non-receivers at half the deadline
DUE = "notice.due"  # at the deadline: unit heads told, sender gets the tally
MEETING_REMIND = "notice.meeting_remind"


@dataclass(frozen=True)
class PlannedDeadline:
    kind: str
    due_at: datetime


def plan_deadlines(created_at: datetime, due_at: datetime | None, meeting_at: datetime | None,
                   policy: NoticePolicy) -> list[PlannedDeadline]:
    plan: list[PlannedDeadline] = []
    if due_at is not None:
        plan.append(PlannedDeadline(RESEND, created_at + (due_at - created_at) / 2))
        plan.append(PlannedDeadline(DUE, due_at))
    if meeting_at is not None:
        at = meeting_at - policy.meeting_remind_before
        if at > created_at:
            plan.append(PlannedDeadline(MEETING_REMIND, at))
    return plan


def resend_wait(last_resend_at: datetime | None, now: datetime, policy: NoticePolicy) -> timedelta | None:
    """None if 再次提醒 may go now; otherwise how long until it may (once per 5 minutes)."""
    if last_resend_at is None or now - last_resend_at >= policy.resend_throttle:
        return None
    return policy.resend_throttle - (now - last_resend_at)


@dataclass(frozen=True)
class Receipt:
    """One person a notice is addressed to; `asked_id` signs (a stand-in when on leave)."""

    member_id: int
    name: str
    unit_code: str
    asked_id: int
    asked_name: str
    acked_at: datetime | None = None
    on_leave: bool = False
    attendance: str | None = None
    attendance_note: str | None = None

    @property
    def received(self) -> bool:
        return self.acked_at is not None


@dataclass(frozen=True)
class UnitTally:
    unit_code: str
    received: list[Receipt] = field(default_factory=list)
    pending: list[Receipt] = field(default_factory=list)


def tally_by_unit(receipts: list[Receipt]) -> list[UnitTally]:
    """Received / not yet, per unit, units with people still pending first."""
    units: dict[str, UnitTally] = {}
    for r in receipts:
        t = units.setdefault(r.unit_code, UnitTally(r.unit_code))
        (t.received if r.received else t.pending).append(r)
    return sorted(units.values(), key=lambda t: (not t.pending, t.unit_code))


def pending_heads_units(receipts: list[Receipt]) -> list[str]:
    return sorted({r.unit_code for r in receipts if not r.received})


# --- meeting time ---------------------------------------------------------------------

_DAY_WORDS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
_MEETING = re.compile(r"^(?:(?P<word>今天|今日|明天|明日|后天)|" + parse.DATE + r")?\s*" + parse.CLOCK + "$", re.ASCII)
MEETING_MAX_AHEAD = timedelta(days=366)  # as leave: a date more than a year ahead is a typo


class MeetingTimeError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "bad_format" | "past" | "too_far"


def parse_meeting_time(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """`15:00` (today, or tomorrow if past), `明天 9:30`, `11-25 14:00` (the 25 November nearest
    today: `01-05` typed in December is next January, `11-20` typed on 11-23 has passed),
    `2026-11-25 14:00` → aware UTC, after `now` and at most a year ahead."""
    m = _MEETING.match(parse.normalise(text))
    at = parse.clock_of(m) if m else None
    if m is None or at is None:
        raise MeetingTimeError("bad_format")
    today = now.astimezone(tz).date()
    day: date | None
    if m.group("word"):
        day = today + timedelta(days=_DAY_WORDS[m.group("word")])
    elif m.group("y") and int(m.group("y")) > today.year + 1:
        raise MeetingTimeError("too_far")  # 9999-12-31 too: a typo of the year, said as such
    elif m.group("mo"):
        day = parse.date_of(m, today, "nearest")
    else:
        day = today
    when = parse.moment(day, at, tz) if day is not None else None
    if when is None:
        raise MeetingTimeError("bad_format")
    if not m.group("word") and not m.group("mo") and when <= now:
        when += timedelta(days=1)  # "15:00" said at 16:00 means tomorrow
    if when <= now:
        raise MeetingTimeError("past")
    if when - now > MEETING_MAX_AHEAD:
        raise MeetingTimeError("too_far")
    return when


def split_names(text: str) -> list[str]:
    """`张三、李四, 王五` → names, in order, without repeats."""
    out: list[str] = []
    for part in re.split(r"[、,，;；\s]+", text.strip()):
        if part and part not in out:
            out.append(part)
    return out
