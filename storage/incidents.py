"""Incidents, their stages, timeline, casualty history, photos and questions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.casualties import Casualties
from bot.domain.incidents import FULL_FIELDS, Category, Incident, Stage, StageRecord, incident_number
from storage import sql as dialect
from storage.conn import Conn, Row, insert_id
from storage.db import from_db, to_db


def _dt(v: str | None) -> datetime:
    d = from_db(v)
    assert d is not None
    return d


# Each incident row comes with its stages as one JSON column: one query, not one per incident.
def _select(conn: Conn) -> str:
    stages = dialect.json_rows(conn, "s.stage", "s.due_at", "s.filed_at", "s.filed_by", "s.late_flagged_at", "s.missed")
    return (f"SELECT incidents.*, (SELECT {stages} FROM incident_stages s WHERE s.incident_id = incidents.id)"
            " AS stages_json FROM incidents")


def _stage(v: list[Any]) -> StageRecord:
    stage, due_at, filed_at, filed_by, late_flagged_at, missed = v
    return StageRecord(stage=Stage(stage), due_at=_dt(due_at), filed_at=from_db(filed_at), filed_by=filed_by,
                       late_flagged_at=from_db(late_flagged_at), missed=bool(missed))


def _incident(row: Row) -> Incident:
    stages = sorted((_stage(v) for v in json.loads(row["stages_json"])), key=lambda st: st.due_at)
    return Incident(
        id=row["id"], number=row["number"], unit_code=row["unit_code"], reporter_id=row["reporter_id"],
        category=Category(row["category"]), occurred_at=_dt(row["occurred_at"]), learnt_at=_dt(row["learnt_at"]),
        place=row["place"], latitude=row["latitude"], longitude=row["longitude"],
        casualties=Casualties(row["deaths"], row["injured"], row["missing"]),
        description=row["description"], created_at=_dt(row["created_at"]), status=row["status"],
        full={f: row[f] for f in FULL_FIELDS},
        acked_by=row["acked_by"], acked_at=from_db(row["acked_at"]),
        forwarded_by=row["forwarded_by"], forwarded_at=from_db(row["forwarded_at"]),
        closed_at=from_db(row["closed_at"]), closed_by=row["closed_by"], outcome=row["outcome"],
        stages=tuple(stages), source=row["source"], recorded_by=row["recorded_by"],
        office_learnt_at=from_db(row["office_learnt_at"]), caller_name=row["caller_name"],
        caller_phone=row["caller_phone"],
    )


async def get(conn: Conn, incident_id: int) -> Incident | None:
    rows = list(await conn.execute_fetchall(f"{_select(conn)} WHERE incidents.id=?", (incident_id,)))
    return _incident(rows[0]) if rows else None


async def by_number(conn: Conn, number: str) -> Incident | None:
    rows = list(await conn.execute_fetchall(f"{_select(conn)} WHERE incidents.number=?", (number,)))
    return _incident(rows[0]) if rows else None


async def list_open(conn: Conn, unit_code: str | None = None) -> list[Incident]:
    query = f"{_select(conn)} WHERE incidents.status='open'"
    params: tuple[object, ...] = ()
    if unit_code:
        query += " AND incidents.unit_code=?"
        params = (unit_code,)
    return [_incident(r) for r in await conn.execute_fetchall(query + " ORDER BY incidents.learnt_at DESC", params)]


async def create(
    conn: Conn, *, year: int, unit_code: str, reporter_id: int, category: str,
    occurred_at: datetime, learnt_at: datetime, place: str, latitude: float | None, longitude: float | None,
    casualties: Casualties, description: str, now: datetime, source: str = "unit",
    recorded_by: int | None = None, office_learnt_at: datetime | None = None, caller_name: str = "",
    caller_phone: str = "",
) -> tuple[int, str]:
    rows = list(await conn.execute_fetchall("SELECT coalesce(max(seq), 0) + 1 FROM incidents WHERE year=?", (year,)))
    seq = int(rows[0][0]) if rows else 1
    number = incident_number(year, seq)
    incident_id = await insert_id(
        conn,
        "INSERT INTO incidents(number, year, seq, unit_code, reporter_id, category, occurred_at, learnt_at, place, "
        "latitude, longitude, deaths, injured, missing, description, created_at, source, recorded_by, "
        "office_learnt_at, caller_name, caller_phone) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (number, year, seq, unit_code, reporter_id, category, to_db(occurred_at), to_db(learnt_at), place,
         latitude, longitude, casualties.deaths, casualties.injured, casualties.missing, description, to_db(now),
         source, recorded_by, to_db(office_learnt_at), caller_name, caller_phone),
    )
    return incident_id, number


async def add_stages(conn: Conn, incident_id: int,
                     rows: list[tuple[Stage, datetime, datetime | None, int | None]]) -> None:
    """(stage, due_at, filed_at, filed_by) rows in one statement."""
    await conn.executemany(
        "INSERT INTO incident_stages(incident_id, stage, due_at, filed_at, filed_by) VALUES (?,?,?,?,?)",
        [(incident_id, stage.value, to_db(due_at), to_db(filed_at), filed_by)
         for stage, due_at, filed_at, filed_by in rows],
    )


async def file_stage(conn: Conn, incident_id: int, stage: Stage, member_id: int, now: datetime) -> bool:
    """Record the stage as filed; False when it already was (a double tap files once)."""
    cur = await conn.execute(
        "UPDATE incident_stages SET filed_at=?, filed_by=? WHERE incident_id=? AND stage=? AND filed_at IS NULL",
        (to_db(now), member_id, incident_id, stage.value),
    )
    return cur.rowcount == 1


async def add_stage(conn: Conn, incident_id: int, stage: Stage, due_at: datetime) -> bool:
    """A stage owed from now on (the corrected report after a 误报 mark); False if it exists."""
    cur = await conn.execute(
        "INSERT INTO incident_stages(incident_id, stage, due_at) VALUES (?,?,?) ON CONFLICT DO NOTHING",
        (incident_id, stage.value, to_db(due_at)),
    )
    return cur.rowcount == 1


async def set_due(conn: Conn, incident_id: int, stage: Stage, due_at: datetime) -> None:
    """A stage's deadline counted again (the unit said when it learnt of an event put on record)."""
    await conn.execute(
        "UPDATE incident_stages SET due_at=?, late_flagged_at=NULL WHERE incident_id=? AND stage=?",
        (to_db(due_at), incident_id, stage.value),
    )


async def flag_late(conn: Conn, incident_id: int, stage: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE incident_stages SET late_flagged_at=? WHERE incident_id=? AND stage=?",
        (to_db(now), incident_id, stage),
    )


async def mark_missed(conn: Conn, incident_id: int, stage: Stage) -> None:
    await conn.execute(
        "UPDATE incident_stages SET missed=1 WHERE incident_id=? AND stage=? AND filed_at IS NULL",
        (incident_id, stage.value),
    )


async def update_facts(conn: Conn, incident_id: int, **fields: Any) -> None:
    allowed = {"category", "occurred_at", "learnt_at", "place", "latitude", "longitude", "deaths", "injured",
               "missing", "description", *FULL_FIELDS}
    bad = set(fields) - allowed
    if bad:
        raise ValueError(f"not an incident fact: {bad}")
    if not fields:
        return
    values = [to_db(v) if isinstance(v, datetime) else v for v in fields.values()]
    sets = ", ".join(f"{k}=?" for k in fields)
    await conn.execute(f"UPDATE incidents SET {sets} WHERE id=?", (*values, incident_id))


async def set_casualties(conn: Conn, incident_id: int, c: Casualties, stage: Stage,
                        now: datetime) -> None:
    await conn.execute(
        "UPDATE incidents SET deaths=?, injured=?, missing=? WHERE id=?", (c.deaths, c.injured, c.missing, incident_id)
    )
    await add_casualty_record(conn, incident_id, c, stage, now)


async def add_casualty_record(conn: Conn, incident_id: int, c: Casualties, stage: Stage,
                              now: datetime) -> None:
    """The casualty history only (the incident row already holds these figures)."""
    await conn.execute(
        "INSERT INTO incident_casualties(incident_id, at, stage, deaths, injured, missing) VALUES (?,?,?,?,?,?)",
        (incident_id, to_db(now), stage.value, c.deaths, c.injured, c.missing),
    )


async def acknowledge(conn: Conn, incident_id: int, member_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE incidents SET acked_by=?, acked_at=? WHERE id=? AND acked_by IS NULL",
        (member_id, to_db(now), incident_id),
    )
    return cur.rowcount == 1


async def forward(conn: Conn, incident_id: int, member_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE incidents SET forwarded_by=?, forwarded_at=? WHERE id=? AND forwarded_by IS NULL",
        (member_id, to_db(now), incident_id),
    )
    return cur.rowcount == 1


async def close(conn: Conn, incident_id: int, member_id: int, outcome: str, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE incidents SET status='closed', closed_by=?, closed_at=?, outcome=? WHERE id=? AND status='open'",
        (member_id, to_db(now), outcome, incident_id),
    )
    return cur.rowcount == 1


async def add_event(conn: Conn, incident_id: int, now: datetime, actor_id: int | None,
                    kind: str, **detail: Any) -> None:
    await add_events(conn, incident_id, now, [(actor_id, kind, detail)])


async def add_events(conn: Conn, incident_id: int, now: datetime,
                     rows: list[tuple[int | None, str, dict[str, Any]]]) -> None:
    """(actor_id, kind, detail) events at one instant, in one statement, in this order."""
    await conn.executemany(
        "INSERT INTO incident_events(incident_id, at, actor_id, kind, detail) VALUES (?,?,?,?,?)",
        [(incident_id, to_db(now), actor, kind, json.dumps(detail, ensure_ascii=False))
         for actor, kind, detail in rows],
    )


async def events(conn: Conn,
                 incident_id: int) -> list[tuple[datetime, int | None, str, dict[str, Any]]]:
    async with conn.execute(
        "SELECT at, actor_id, kind, detail FROM incident_events WHERE incident_id=? ORDER BY id", (incident_id,)
    ) as cur:
        return [(_dt(r[0]), r[1], r[2], json.loads(r[3])) for r in await cur.fetchall()]


async def casualty_history(conn: Conn, incident_id: int) -> list[tuple[datetime, str, Casualties]]:
    async with conn.execute(
        "SELECT at, stage, deaths, injured, missing FROM incident_casualties WHERE incident_id=? ORDER BY id",
        (incident_id,),
    ) as cur:
        return [(_dt(r[0]), r[1], Casualties(r[2], r[3], r[4])) for r in await cur.fetchall()]


async def add_photos(conn: Conn, incident_id: int, stage: Stage, file_ids: list[str]) -> None:
    await conn.executemany(
        "INSERT INTO incident_photos(incident_id, stage, file_id) VALUES (?,?,?)",
        [(incident_id, stage.value, f) for f in file_ids],
    )


async def photos(conn: Conn, incident_id: int) -> list[str]:
    sql = "SELECT file_id FROM incident_photos WHERE incident_id=? ORDER BY id"
    async with conn.execute(sql, (incident_id,)) as cur:
        return [r[0] for r in await cur.fetchall()]


async def add_question(conn: Conn, incident_id: int, asker_id: int, question: str,
                       now: datetime, asker_message_id: int | None) -> int:
    return await insert_id(conn,
        "INSERT INTO incident_questions(incident_id, asker_id, question, asked_at, asker_message_id)"
        " VALUES (?,?,?,?,?)",
        (incident_id, asker_id, question, to_db(now), asker_message_id),
    )


async def question(conn: Conn, question_id: int) -> Row | None:
    async with conn.execute("SELECT * FROM incident_questions WHERE id=?", (question_id,)) as cur:
        return await cur.fetchone()


async def answer_question(conn: Conn, question_id: int, member_id: int, answer: str,
                          now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE incident_questions SET answer=?, answered_by=?, answered_at=? WHERE id=? AND answer IS NULL",
        (answer, member_id, to_db(now), question_id),
    )
    return cur.rowcount == 1
