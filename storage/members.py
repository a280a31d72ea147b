"""Units, members and their roles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.config import Unit
from bot.domain.members import Member, Role
from storage import sql as dialect
from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


async def sync_units(conn: Conn, units: Iterable[Unit]) -> None:
    """Config is the source of units; rows keep history (members still point at old units)."""
    codes = []
    for u in units:
        codes.append(u.code)
        await conn.execute(
            "INSERT INTO units(code, name, kind, active) VALUES (?,?,?,1) "
            "ON CONFLICT(code) DO UPDATE SET name=excluded.name, kind=excluded.kind, active=1",
            (u.code, u.name, u.kind),
        )
    marks = ",".join("?" * len(codes)) or "''"
    await conn.execute(f"UPDATE units SET active=0 WHERE code NOT IN ({marks})", codes)


def _member(row: Row, roles: Iterable[str]) -> Member:
    return Member(
        id=row["id"],
        telegram_id=row["telegram_id"],
        name=row["name"],
        unit_code=row["unit_code"],
        roles=frozenset(Role(r) for r in roles),
        active=bool(row["active"]),
        username=row["username"],
        created_at=from_db(row["created_at"]),
    )


async def by_telegram_id(conn: Conn, telegram_id: int) -> Member | None:
    # One query (member and roles joined): every update's guard() runs this (bench/throughput).
    found = await _many(conn, "m.telegram_id = ?", (telegram_id,))
    return found[0] if found else None


async def by_id(conn: Conn, member_id: int) -> Member | None:
    found = await _many(conn, "m.id = ?", (member_id,))
    return found[0] if found else None


async def _many(conn: Conn, where: str, params: tuple[object, ...]) -> list[Member]:
    sql = (
        f"SELECT m.*, {dialect.comma_list(conn, 'r.role')} AS roles FROM members m "
        "LEFT JOIN member_roles r ON r.member_id = m.id "
        f"WHERE {where} GROUP BY m.id ORDER BY m.unit_code, m.id"
    )
    rows = await conn.execute_fetchall(sql, params)  # one trip to the database thread, not three
    return [_member(r, (r["roles"] or "").split(",") if r["roles"] else []) for r in rows]


async def by_telegram_ids(conn: Conn, telegram_ids: Iterable[int]) -> list[Member]:
    """Those of `telegram_ids` who are members (active or not), in one query."""
    ids = list(dict.fromkeys(telegram_ids))
    return await _many(conn, f"m.telegram_id IN ({','.join('?' * len(ids)) or 'NULL'})", tuple(ids))


async def all_members(conn: Conn, unit_code: str | None = None) -> list[Member]:
    if unit_code:
        return await _many(conn, "m.unit_code = ?", (unit_code,))
    return await _many(conn, "1=1", ())


async def with_roles(
    conn: Conn, roles: Iterable[Role], unit_code: str | None = None
) -> list[Member]:
    """Active members holding any of `roles` (optionally in one unit)."""
    rs = [r.value for r in roles]
    marks = ",".join("?" * len(rs))
    where = f"m.active = 1 AND m.id IN (SELECT member_id FROM member_roles WHERE role IN ({marks}))"
    params: list[object] = list(rs)
    if unit_code:
        where += " AND m.unit_code = ?"
        params.append(unit_code)
    return await _many(conn, where, tuple(params))


async def create(
    conn: Conn,
    *,
    telegram_id: int,
    name: str,
    username: str | None,
    unit_code: str,
    roles: Iterable[Role],
    now: datetime,
) -> Member:
    member_id = await insert_id(
        conn, "INSERT INTO members(telegram_id, name, username, unit_code, created_at) VALUES (?,?,?,?,?)",
        (telegram_id, name, username, unit_code, to_db(now)),
    )
    await add_roles(conn, member_id, roles)
    member = await by_id(conn, member_id)
    assert member is not None
    return member


async def add_roles(conn: Conn, member_id: int, roles: Iterable[Role]) -> None:
    await conn.executemany(
        "INSERT INTO member_roles(member_id, role) VALUES (?,?) ON CONFLICT DO NOTHING",
        [(member_id, r.value) for r in roles],
    )


async def set_active(conn: Conn, member_id: int, active: bool, now: datetime) -> None:
    await conn.execute(
        "UPDATE members SET active=?, deactivated_at=? WHERE id=?",
        (int(active), None if active else to_db(now), member_id),
    )


async def unit_names(conn: Conn) -> dict[str, str]:
    async with conn.execute("SELECT code, name FROM units") as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}


async def audit(conn: Conn, now: datetime, actor_id: int | None, action: str, detail: str = "") -> None:
    await conn.execute(
        "INSERT INTO audit_log(at, actor_id, action, detail) VALUES (?,?,?,?)",
        (to_db(now), actor_id, action, detail),
    )


async def set_roles(conn: Conn, member_id: int, roles: Iterable[Role]) -> None:
    """The member holds exactly `roles` from now on."""
    await conn.execute("DELETE FROM member_roles WHERE member_id=?", (member_id,))
    await add_roles(conn, member_id, roles)


# --- members to review after a role split (migration 0013: unit chiefs) --------------------


async def review_untold(conn: Conn) -> list[tuple[Member, str]]:
    """Members still on the review list and not yet shown to the admins, with why."""
    rows = await conn.execute_fetchall("SELECT member_id, reason FROM role_review WHERE told_at IS NULL "
                                       "ORDER BY member_id")
    out = []
    for r in rows:
        m = await by_id(conn, r["member_id"])
        if m is not None:
            out.append((m, r["reason"]))
    return out


async def review_told(conn: Conn, member_ids: Iterable[int], now: datetime) -> None:
    await conn.executemany("UPDATE role_review SET told_at=? WHERE member_id=?",
                           [(to_db(now), i) for i in member_ids])


async def review_done(conn: Conn, member_id: int) -> None:
    """An admin set the member's roles: nothing left to review."""
    await conn.execute("DELETE FROM role_review WHERE member_id=?", (member_id,))
