"""The duty roster (值班表 / 领导带班) as plain rules: shifts and their windows, the duty day,
reading a roster table (CSV or Excel rows), and who is on at a moment.

A night shift belongs to the day it starts; the leader on duty (带班领导) covers the whole
duty day, from the first shift's start to the same time the next day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain import parse
from bot.domain.members import Member, Role

LEADER = "leader"  # the shift name of the leader on duty
HANDOVER = "roster.handover"  # the deadline kind of a shift change (交接班), recurring
_LEADER_HEADERS = ("带班领导", "带班", "leader")
_DATE_HEADERS = ("日期", "date")


@dataclass(frozen=True)
class Shift:
    name: str
    label: str
    start: time
    end: time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class RosterRules:
    tz: ZoneInfo
    shifts: tuple[Shift, ...]
    posts: tuple[str, ...]
    handover: time | None = None

    def shift(self, word: str) -> Shift | None:
        """A shift by its name (`day`) or label (`白班`)."""
        w = word.strip().lower()
        return next((s for s in self.shifts if w in (s.name, s.label.lower())), None)


def _hhmm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def rules_from(tz: ZoneInfo, shifts: Iterable[tuple[str, str, str, str]], posts: Sequence[str],
               handover: str = "") -> RosterRules:
    return RosterRules(
        tz=tz, shifts=tuple(Shift(n, lbl, _hhmm(a), _hhmm(b)) for n, lbl, a, b in shifts),
        posts=tuple(posts), handover=_hhmm(handover) if handover else None,
    )


@dataclass(frozen=True)
class Slot:
    """One post of one shift of one duty day, held by a member, with its UTC window."""

    day: date
    shift: str  # a shift name, or LEADER
    post: int  # 1, 2 …; 1 for the leader
    member_id: int
    starts_at: datetime
    ends_at: datetime

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def window(day: date, shift: str, rules: RosterRules) -> tuple[datetime, datetime]:
    """The UTC start and end of `shift` (or the leader's whole day) on duty day `day`."""
    if shift == LEADER:
        first = rules.shifts[0].start
        start = datetime.combine(day, first, rules.tz)
        return start, datetime.combine(day + timedelta(days=1), first, rules.tz)
    sh = next(s for s in rules.shifts if s.name == shift)
    start = datetime.combine(day, sh.start, rules.tz)
    end = datetime.combine(day + timedelta(days=1) if sh.overnight else day, sh.end, rules.tz)
    return start, end


def duty_day(at: datetime, rules: RosterRules) -> date:
    """The duty day `at` falls in: before the first shift starts, it is still yesterday's."""
    local = at.astimezone(rules.tz)
    return local.date() - timedelta(days=1) if local.time() < rules.shifts[0].start else local.date()


def on_at(slots: Iterable[Slot], at: datetime) -> list[Slot]:
    """Officers on shift at `at` (leader slots excluded), in shift and post order."""
    return sorted((s for s in slots if s.shift != LEADER and s.covers(at)), key=lambda s: (s.starts_at, s.post))


def leader_at(slots: Iterable[Slot], at: datetime) -> Slot | None:
    return next((s for s in slots if s.shift == LEADER and s.covers(at)), None)


def shift_changes(rules: RosterRules) -> list[time]:
    """The moments a shift begins (Beijing time): a handover at each, not once a day."""
    return sorted({sh.start for sh in rules.shifts})


def handover_pairs(slots: Iterable[Slot], at: datetime) -> tuple[list[Slot], list[Slot]]:
    """At a handover moment: those whose shift ends then (outgoing) and those on from then (incoming)."""
    slots = list(slots)
    outgoing = [s for s in slots if s.shift != LEADER and s.ends_at == at]
    incoming = on_at(slots, at)
    return outgoing, incoming


# --- reading a roster table -----------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One cell of the roster once read: who holds (day, shift, post)."""

    day: date
    shift: str
    post: int
    member_id: int


@dataclass
class Parsed:
    entries: list[Entry] = field(default_factory=list)
    errors: list[tuple[int, str, dict[str, object]]] = field(default_factory=list)  # (row, catalog key, kw)
    days: list[date] = field(default_factory=list)


_DATE = re.compile(parse.DATE, re.ASCII)


def parse_day(value: object, today: date) -> date | None:
    """2026-11-24, 2026/11/24, 2026年11月24日, 11-24, 11月24日, or an Excel date cell.
    A month-day without a year is the nearest such day (a December roster typed in January)."""
    if isinstance(value, date):  # an Excel cell (a datetime is a date too)
        return parse.calendar_day(value.year, value.month, value.day)
    m = _DATE.fullmatch(parse.normalise(str(value or "")).split(" ")[0])
    return parse.date_of(m, today, "nearest") if m else None


def columns(rules: RosterRules) -> dict[str, tuple[str, int]]:
    """Accepted header → (shift, post): `白班一岗`, `day1`, `带班领导`, `leader` …"""
    out: dict[str, tuple[str, int]] = {}
    for sh in rules.shifts:
        for i, post in enumerate(rules.posts, 1):
            for head in (f"{sh.label}{post}", f"{sh.name}{i}", f"{sh.label}{i}"):
                out[head.lower()] = (sh.name, i)
    for head in _LEADER_HEADERS:
        out[head] = (LEADER, 1)
    return out


def template_header(rules: RosterRules) -> list[str]:
    return ["日期"] + [f"{sh.label}{p}" for sh in rules.shifts for p in rules.posts] + ["带班领导"]


def find_member(word: str, people: Sequence[Member]) -> list[Member]:
    """By `#12` (number in /members) or by exact name; active members only."""
    w = word.strip()
    if w.startswith(("#", "＃")):
        number = parse.record_id(w)
        return [m for m in people if m.id == number and m.active]
    return [m for m in people if m.name == w and m.active]


def may_hold(member: Member, shift: str) -> bool:
    """Duty posts take duty officers; the leader on duty is a district leader or office director."""
    if shift == LEADER:
        return member.has(Role.LEADER, Role.DIRECTOR)
    return member.has(Role.DUTY)


def resolve(word: str, shift: str, people: Sequence[Member]) -> tuple[Member | None, str | None]:
    """The member a cell names, or the catalog key of what is wrong with it."""
    found = find_member(word, people)
    if not found:
        return None, "roster.err.unknown_name"
    if len(found) > 1:
        return None, "roster.err.ambiguous_name"
    if not may_hold(found[0], shift):
        return None, "roster.err.leader_role" if shift == LEADER else "roster.err.duty_role"
    return found[0], None


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def parse_rows(rows: Sequence[Sequence[object]], rules: RosterRules, people: Sequence[Member], today: date) -> Parsed:
    """A header row (日期, 白班一岗, 白班二岗, 夜班一岗, 夜班二岗, 带班领导) then one row per day.
    Every problem is collected with its row number; a caller imports nothing if there is any."""
    out = Parsed()
    cols = columns(rules)
    body = [(i, list(r)) for i, r in enumerate(rows, 1) if any(_cell(c) for c in r)]
    if not body:
        out.errors.append((0, "roster.err.empty", {}))
        return out
    head_no, header = body[0]
    heads = [_cell(h).lower() for h in header]
    date_col = next((i for i, h in enumerate(heads) if h in _DATE_HEADERS), None)
    if date_col is None:
        out.errors.append((head_no, "roster.err.no_date_column", {}))
        return out
    mapped: dict[int, tuple[str, int]] = {}
    for i, h in enumerate(heads):
        if i == date_col or not h:
            continue
        if h not in cols:
            out.errors.append((head_no, "roster.err.unknown_column", {"column": _cell(header[i])}))
            continue
        if cols[h] in mapped.values():  # 白班一岗 and day1 name the same post
            out.errors.append((head_no, "roster.err.duplicate_column", {"column": _cell(header[i])}))
            continue
        mapped[i] = cols[h]
    if out.errors:
        return out
    seen: set[date] = set()
    for no, row in body[1:]:
        day = parse_day(row[date_col] if date_col < len(row) else None, today)
        if day is None:
            value = _cell(row[date_col] if date_col < len(row) else "")
            out.errors.append((no, "roster.err.bad_date", {"value": value}))
            continue
        if day in seen:
            out.errors.append((no, "roster.err.duplicate_day", {"day": day.isoformat()}))
            continue
        seen.add(day)
        out.days.append(day)
        holders: set[tuple[str, int]] = set()  # (shift, member): 双岗 means two people
        for i, (shift, post) in mapped.items():
            word = _cell(row[i]) if i < len(row) else ""
            if not word:
                continue
            member, problem = resolve(word, shift, people)
            if problem is not None or member is None:
                out.errors.append((no, problem or "roster.err.unknown_name", {"name": word}))
                continue
            if (shift, member.id) in holders:
                out.errors.append((no, "roster.err.twice", {"name": word}))
                continue
            holders.add((shift, member.id))
            out.entries.append(Entry(day, shift, post, member.id))
    if not out.days and not out.errors:
        out.errors.append((head_no, "roster.err.empty", {}))
    return out


# --- /duty set ------------------------------------------------------------------------


@dataclass(frozen=True)
class DayEdit:
    """`/duty set 11-24 白班 张三 李四`: the holders of one shift (or the leader) of one day."""

    day: date
    shift: str
    names: tuple[str, ...]


def parse_edit(args: Sequence[str], rules: RosterRules, today: date) -> DayEdit | str:
    """The edit, or the catalog key of why the command cannot be read."""
    if len(args) < 2:
        return "roster.set_usage"
    day = parse_day(args[0], today) if args[0] not in ("今天", "today", "明天", "tomorrow") else (
        today if args[0] in ("今天", "today") else today + timedelta(days=1))
    if day is None:
        return "roster.err.bad_date_arg"
    word = args[1].strip().lower()
    if word in _LEADER_HEADERS:
        shift = LEADER
        limit = 1
    else:
        sh = rules.shift(word)
        if sh is None:
            return "roster.err.bad_shift"
        shift, limit = sh.name, len(rules.posts)
    names = tuple(a for a in args[2:] if a.strip())
    if len(names) > limit:
        return "roster.err.too_many"
    return DayEdit(day, shift, names)
