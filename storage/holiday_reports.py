"""节假日离京报备: reports of district leaders leaving the city over a statutory holiday."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


@dataclass(frozen=True)
class HolidayReport:
    id: int
    member_id: int
    unit_code: str
    start_at: datetime
    end_at: datetime
    destination: str
    contact: str
    holidays: str
    late: bool
    request_id: int | None
    created_at: datetime


def _report(r: Row) -> HolidayReport:
    def dt(v: str) -> datetime:
        d = from_db(v)
        assert d is not None
        return d

    return HolidayReport(id=r["id"], member_id=r["member_id"], unit_code=r["unit_code"], start_at=dt(r["start_at"]),
                         end_at=dt(r["end_at"]), destination=r["destination"], contact=r["contact"],
                         holidays=r["holidays"], late=bool(r["late"]), request_id=r["request_id"],
                         created_at=dt(r["created_at"]))


async def create(conn: Conn, *, member_id: int, unit_code: str, start_at: datetime, end_at: datetime,
                 destination: str, contact: str, holidays: str, late: bool, now: datetime,
                 request_id: int | None = None) -> int:
    return await insert_id(conn,
        "INSERT INTO holiday_reports(member_id, unit_code, start_at, end_at, destination, contact, holidays, late, "
        "request_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (member_id, unit_code, to_db(start_at), to_db(end_at), destination, contact, holidays, int(late), request_id,
         to_db(now)),
    )


async def get(conn: Conn, report_id: int) -> HolidayReport | None:
    rows = list(await conn.execute_fetchall("SELECT * FROM holiday_reports WHERE id=?", (report_id,)))
    return _report(rows[0]) if rows else None


async def between(conn: Conn, start: datetime, end: datetime,
                  unit_code: str | None = None, member_id: int | None = None) -> list[HolidayReport]:
    """Reports in force (not withdrawn) whose trip overlaps [start, end)."""
    sql = "SELECT * FROM holiday_reports WHERE withdrawn_at IS NULL AND start_at < ? AND end_at > ?"
    params: list[object] = [to_db(end), to_db(start)]
    if unit_code:
        sql += " AND unit_code=?"
        params.append(unit_code)
    if member_id is not None:
        sql += " AND member_id=?"
        params.append(member_id)
    rows = await conn.execute_fetchall(sql + " ORDER BY unit_code, start_at, id", params)
    return [_report(r) for r in rows]


async def withdraw_for_request(conn: Conn, request_id: int, now: datetime) -> None:
    """The leave request it came with was withdrawn: the trip is off."""
    await conn.execute("UPDATE holiday_reports SET withdrawn_at=? WHERE request_id=? AND withdrawn_at IS NULL",
                       (to_db(now), request_id))
