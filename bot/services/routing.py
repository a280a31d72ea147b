"""Who is told what: the alert audience of an incident and its unit's reporters."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.domain import roster as duty
from bot.domain.incidents import Incident, IncidentPolicy
from bot.domain.members import Member, Role
from storage import members
from storage.conn import Conn


def _unique(groups: Iterable[list[Member]], exclude: set[int]) -> list[Member]:
    seen: dict[int, Member] = {}
    for group in groups:
        for m in group:
            if m.id not in exclude and m.id not in seen:
                seen[m.id] = m
    return list(seen.values())


class Shift:
    """Who is away and who is on shift at one moment, each read once: a filing asks for its alert's
    audience and then for its escalation's first step (`duty@shift`, `leader@duty`), and read the
    roster, leave and office members three times in its one transaction. Share one only among reads
    made together in a transaction that writes neither the roster nor leave."""

    def __init__(self, conn: Conn, at: datetime) -> None:
        self.conn = conn
        self.at = at
        self._away: dict[int, int | None] | None = None
        self._rostered: tuple[list[Member], Member | None] | None = None

    async def away(self) -> dict[int, int | None]:
        if self._away is None:
            from storage import leave

            self._away = await leave.away_now(self.conn)
        return self._away

    async def rostered(self, people: list[Member] | None = None) -> tuple[list[Member], Member | None]:
        """rostered_now at this moment (`people`: the active office members, if the caller has them)."""
        if self._rostered is None:
            self._rostered = await rostered_now(self.conn, self.at, people, shift=self)
        return self._rostered


async def skip_away(conn: Conn, people: list[Member], exclude: Iterable[int] = (), *,
                    shift: Shift | None = None) -> list[Member]:
    """Members on approved leave are replaced by their stand-ins (or dropped without one)."""
    from storage import leave

    away = await shift.away() if shift is not None else await leave.away_now(conn)
    if not away or not any(m.id in away for m in people):
        return people
    skip = set(exclude)
    out: dict[int, Member] = {}
    for m in people:
        if m.id not in away:
            out.setdefault(m.id, m)
            continue
        stand_in_id = away[m.id]
        if stand_in_id is None or stand_in_id in away or stand_in_id in skip:
            continue
        stand_in = await members.by_id(conn, stand_in_id)
        if stand_in is not None and stand_in.active:
            out.setdefault(stand_in.id, stand_in)
    return list(out.values())


OFFICE_ROLES = (Role.DUTY, Role.DIRECTOR, Role.UNIT_HEAD, Role.UNIT_CHIEF, Role.LEADER)


def _holding(people: list[Member], role: Role, unit_code: str | None = None) -> list[Member]:
    return [m for m in people if role in m.roles and (unit_code is None or m.unit_code == unit_code)]


async def alert_audience(
    conn: Conn, inc: Incident, policy: IncidentPolicy, *, at: datetime, exclude: Iterable[int] = (),
    shift: Shift | None = None,
) -> list[Member]:
    """Duty officers (the rostered ones on shift first), directors and the unit's office head; when it
    is major, the unit's chief (单位主要负责人), the leader on duty and the district leaders too."""
    shift = shift if shift is not None and shift.at == at else Shift(conn, at)
    people = await members.with_roles(conn, OFFICE_ROLES)  # one query: this is on the alert's path
    on_duty, leader = await shift.rostered(people)
    groups = [on_duty, _holding(people, Role.DIRECTOR), _holding(people, Role.UNIT_HEAD, inc.unit_code)]
    if inc.is_major(policy):
        groups.append(_holding(people, Role.UNIT_CHIEF, inc.unit_code))
        groups.append([leader] if leader is not None else [])
        groups.append(_holding(people, Role.LEADER))
    return await skip_away(conn, _unique(groups, set(exclude)), exclude, shift=shift)


async def escalation_audience(conn: Conn, inc: Incident, *, at: datetime) -> list[Member]:
    """At a missed deadline: the unit's office head and chief, the duty officers (on shift) and the
    directors, and the leader on duty (带班领导) when one is rostered."""
    people = await members.with_roles(conn, OFFICE_ROLES)
    on_duty, leader = await rostered_now(conn, at, people)
    return await skip_away(conn, _unique(
        [
            _holding(people, Role.UNIT_HEAD, inc.unit_code),
            _holding(people, Role.UNIT_CHIEF, inc.unit_code),
            on_duty,
            _holding(people, Role.DIRECTOR),
            [leader] if leader is not None else [],
        ],
        set(),
    ))


async def unit_reporters(conn: Conn, unit_code: str) -> list[Member]:
    return await members.with_roles(conn, [Role.OFFICER, Role.UNIT_HEAD], unit_code)


async def duty_officers(conn: Conn, *, at: datetime) -> list[Member]:
    """The duty officers on shift at `at` (every duty member when nobody is rostered)."""
    return await skip_away(conn, (await rostered_now(conn, at))[0])


async def rostered_now(conn: Conn, at: datetime, people: list[Member] | None = None, *,
                       shift: Shift | None = None) -> tuple[list[Member], Member | None]:
    """The duty officers on shift at `at` and the leader on duty. With nobody rostered on shift (or
    all of them away without a stand-in), every duty member, and the gap is recorded so the admins
    are told (once a day).
    `people`: the active office members, when the caller has them already (saves queries); `shift`:
    leave as read already at this moment (Shift.rostered, which keeps the answer)."""
    from bot.services import roster_gaps
    from storage import roster

    known = {m.id: m for m in people or ()}

    async def member(member_id: int) -> Member | None:
        return known.get(member_id) or await members.by_id(conn, member_id)

    slots = await roster.covering(conn, at)
    leader_slot = duty.leader_at(slots, at)
    leader = await member(leader_slot.member_id) if leader_slot else None
    on_shift = [m for s in duty.on_at(slots, at) if (m := await member(s.member_id)) and m.active]
    if leader is not None and not leader.active:
        leader = None
    if on_shift and not await skip_away(conn, on_shift, shift=shift):
        on_shift = []  # rostered, but on leave without a stand-in: nobody is on shift — same as no roster
    if on_shift:
        return on_shift, leader
    await roster_gaps.note(conn, at)
    everyone_on_duty = (_holding(people, Role.DUTY) if people is not None
                        else await members.with_roles(conn, [Role.DUTY]))
    return everyone_on_duty, leader
