"""Who is told what: the alert audience of an incident and its unit's reporters."""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from bot.domain.incidents import Incident, IncidentPolicy
from bot.domain.members import Member, Role
from storage import members


def _unique(groups: Iterable[list[Member]], exclude: set[int]) -> list[Member]:
    seen: dict[int, Member] = {}
    for group in groups:
        for m in group:
            if m.id not in exclude and m.id not in seen:
                seen[m.id] = m
    return list(seen.values())


async def alert_audience(
    conn: aiosqlite.Connection, inc: Incident, policy: IncidentPolicy, exclude: Iterable[int] = ()
) -> list[Member]:
    """Duty officers, directors and the unit's head; district leaders too when it is major."""
    groups = [
        await members.with_roles(conn, [Role.DUTY]),
        await members.with_roles(conn, [Role.DIRECTOR]),
        await members.with_roles(conn, [Role.UNIT_HEAD], inc.unit_code),
    ]
    if inc.is_major(policy):
        groups.append(await members.with_roles(conn, [Role.LEADER]))
    return _unique(groups, set(exclude))


async def escalation_audience(conn: aiosqlite.Connection, inc: Incident) -> list[Member]:
    """At a missed deadline: the unit head, the duty officers and the directors."""
    return _unique(
        [
            await members.with_roles(conn, [Role.UNIT_HEAD], inc.unit_code),
            await members.with_roles(conn, [Role.DUTY]),
            await members.with_roles(conn, [Role.DIRECTOR]),
        ],
        set(),
    )


async def unit_reporters(conn: aiosqlite.Connection, unit_code: str) -> list[Member]:
    return await members.with_roles(conn, [Role.OFFICER, Role.UNIT_HEAD], unit_code)


async def duty_officers(conn: aiosqlite.Connection) -> list[Member]:
    return await members.with_roles(conn, [Role.DUTY])
