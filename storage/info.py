"""Information items, their attachments, closed quota weeks, and the pending recurring rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from bot.domain.info import ADOPTED, InfoItem, InfoKind, Mark
from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


def _dt(v: str | None) -> datetime:
    d = from_db(v)
    assert d is not None
    return d


def _item(r: Row) -> InfoItem:
    return InfoItem(
        id=r["id"], unit_code=r["unit_code"], author_id=r["author_id"], kind=InfoKind(r["kind"]), title=r["title"],
        body=r["body"], submitted_at=_dt(r["submitted_at"]), week_end=_dt(r["week_end"]), mark=Mark(r["mark"]),
        marked_by=r["marked_by"], marked_at=from_db(r["marked_at"]),
    )


async def create(
    conn: Conn, *, unit_code: str, author_id: int, kind: str, title: str, body: str,
    now: datetime, week_end: datetime,
) -> int:
    return await insert_id(conn,
        "INSERT INTO info_items(unit_code, author_id, kind, title, body, submitted_at, week_end)"
        " VALUES (?,?,?,?,?,?,?)",
        (unit_code, author_id, kind, title, body, to_db(now), to_db(week_end)),
    )


async def get(conn: Conn, item_id: int) -> InfoItem | None:
    async with conn.execute("SELECT * FROM info_items WHERE id=?", (item_id,)) as cur:
        row = await cur.fetchone()
    return _item(row) if row else None


async def add_attachments(conn: Conn, item_id: int, files: Iterable[tuple[str, str]]) -> None:
    await conn.executemany(
        "INSERT INTO info_attachments(item_id, kind, file_id) VALUES (?,?,?)",
        [(item_id, kind, file_id) for kind, file_id in files],
    )


async def attachments(conn: Conn, item_id: int) -> list[tuple[str, str]]:
    sql = "SELECT kind, file_id FROM info_attachments WHERE item_id=? ORDER BY id"
    async with conn.execute(sql, (item_id,)) as cur:
        return [(r[0], r[1]) for r in await cur.fetchall()]


async def set_mark(conn: Conn, item_id: int, mark: Mark, member_id: int, now: datetime) -> bool:
    """Record the office's mark; False when the item already carries that mark."""
    cur = await conn.execute(
        "UPDATE info_items SET mark=?, marked_by=?, marked_at=? WHERE id=? AND mark<>?",
        (mark.value, member_id, to_db(now), item_id, mark.value),
    )
    return cur.rowcount == 1


async def count_for_week(conn: Conn, week_end: datetime) -> dict[str, int]:
    """Items per unit counting towards the week that ends at `week_end`."""
    async with conn.execute(
        "SELECT unit_code, count(*) FROM info_items WHERE week_end=? GROUP BY unit_code", (to_db(week_end),)
    ) as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}


async def record_week(
    conn: Conn, unit_code: str, week_end: datetime, submitted: int, quota: int, now: datetime
) -> None:
    """Once per unit and week; a second close of the same week changes nothing."""
    await conn.execute(
        "INSERT INTO info_weeks(unit_code, week_end, submitted, quota, met, recorded_at)"
        " VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        (unit_code, to_db(week_end), submitted, quota, int(submitted >= quota), to_db(now)),
    )


async def count_late_item(conn: Conn, unit_code: str, week_end: datetime) -> None:
    """An item sent before its week closed but stored after the week was recorded (it waited in
    Telegram's queue): the recorded week counts it too. Nothing when the week is not recorded yet."""
    await conn.execute(
        "UPDATE info_weeks SET submitted=submitted+1, met=CASE WHEN submitted+1 >= quota THEN 1 ELSE 0 END"
        " WHERE unit_code=? AND week_end=?",
        (unit_code, to_db(week_end)),
    )


async def short_weeks(conn: Conn, week_end: datetime) -> list[tuple[str, int, int]]:
    async with conn.execute(
        "SELECT unit_code, submitted, quota FROM info_weeks WHERE week_end=? AND met=0 ORDER BY unit_code",
        (to_db(week_end),),
    ) as cur:
        return [(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def submitted_between(conn: Conn, start: datetime, end: datetime) -> dict[str, int]:
    async with conn.execute(
        "SELECT unit_code, count(*) FROM info_items WHERE submitted_at>=? AND submitted_at<? GROUP BY unit_code",
        (to_db(start), to_db(end)),
    ) as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}


async def adopted_between(conn: Conn, start: datetime, end: datetime) -> dict[str, dict[Mark, int]]:
    """Adoptions per unit and level, counted in the month the office marked them."""
    marks = ",".join("?" * len(ADOPTED))
    async with conn.execute(
        f"SELECT unit_code, mark, count(*) FROM info_items WHERE marked_at>=? AND marked_at<? AND mark IN ({marks}) "
        "GROUP BY unit_code, mark",
        (to_db(start), to_db(end), *[m.value for m in ADOPTED]),
    ) as cur:
        rows = await cur.fetchall()
    out: dict[str, dict[Mark, int]] = defaultdict(dict)
    for unit, mark, n in rows:
        out[unit][Mark(mark)] = n
    return dict(out)


async def weeks_between(conn: Conn, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """(weeks met, weeks closed) per unit, for weeks whose deadline falls in [start, end)."""
    async with conn.execute(
        "SELECT unit_code, sum(met), count(*) FROM info_weeks WHERE week_end>=? AND week_end<? GROUP BY unit_code",
        (to_db(start), to_db(end)),
    ) as cur:
        return {r[0]: (int(r[1]), int(r[2])) for r in await cur.fetchall()}
