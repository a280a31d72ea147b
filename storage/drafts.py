"""Answers given so far in a dialogue, committed at every step so a restart keeps them.

`updated_at` is when the person sent the answer that last changed a row (the message's own date,
handlers.common.sent_time), kept at the latest: a button press that ends a dialogue has no date of
its own and is judged by it (`last_answer`).

A dialogue set aside for another one (handlers/dialogs.py) keeps its rows in ONE row of its
own, `parked:<dialogue>`, holding the step it was on; ending a dialogue (`drop`) never removes
those: they wait until the person comes back to them or discards them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage import sql as dialect
from storage.conn import Conn
from storage.db import from_db, to_db

PARKED = "parked:"  # kind prefix of a dialogue set aside: parked:<dialogue name>


def parked_kind(dialogue: str) -> str:
    return PARKED + dialogue


async def load_all(conn: Conn, telegram_id: int) -> dict[str, tuple[dict[str, Any], datetime]]:
    """Every draft row of the person (kind → payload, when last written), in one trip."""
    rows = await conn.execute_fetchall(
        "SELECT kind, payload, updated_at FROM drafts WHERE telegram_id=?", (telegram_id,))
    out: dict[str, tuple[dict[str, Any], datetime]] = {}
    for kind, payload, at in rows:
        when = from_db(str(at))
        assert when is not None
        out[str(kind)] = (json.loads(payload), when)
    return out


async def load(conn: Conn, telegram_id: int, kind: str) -> dict[str, Any]:
    # execute_fetchall: one trip to the database thread (every dialogue step reads its draft).
    rows = list(await conn.execute_fetchall(
        "SELECT payload FROM drafts WHERE telegram_id=? AND kind=?", (telegram_id, kind)))
    return json.loads(rows[0][0]) if rows else {}


async def load_many(conn: Conn, telegram_id: int, kinds: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Several of the person's drafts in one trip; a kind without a row maps to {}."""
    rows = await conn.execute_fetchall(
        f"SELECT kind, payload FROM drafts WHERE telegram_id=? AND kind IN ({','.join('?' * len(kinds))})",
        (telegram_id, *kinds))
    found = {str(r[0]): json.loads(r[1]) for r in rows}
    return {k: found.get(k, {}) for k in kinds}


async def save(conn: Conn, telegram_id: int, kind: str, payload: dict[str, Any], now: datetime) -> None:
    await save_many(conn, telegram_id, {kind: payload}, now)


async def save_many(conn: Conn, telegram_id: int, payloads: dict[str, dict[str, Any]],
                    now: datetime) -> None:
    """Several of the person's drafts (kind → payload) in one statement."""
    at = to_db(now)
    await conn.execute(
        "INSERT INTO drafts(telegram_id, kind, payload, updated_at) VALUES "
        + ",".join(["(?,?,?,?)"] * len(payloads))
        + " ON CONFLICT(telegram_id, kind) DO UPDATE SET payload=excluded.payload, "
        f"updated_at={dialect.greatest(conn, 'drafts.updated_at', 'excluded.updated_at')}",
        [v for kind, payload in payloads.items()
         for v in (telegram_id, kind, json.dumps(payload, ensure_ascii=False), at)],
    )


async def last_answer(conn: Conn, telegram_id: int) -> datetime | None:
    """When the person last sent an answer that is still in a draft (None: no draft)."""
    rows = list(await conn.execute_fetchall("SELECT max(updated_at) FROM drafts WHERE telegram_id=?", (telegram_id,)))
    return from_db(rows[0][0]) if rows else None


async def drop(conn: Conn, telegram_id: int, kind: str | None = None) -> None:
    """One row, or (kind None: a dialogue ended) every row but the dialogues set aside."""
    if kind is None:
        await conn.execute("DELETE FROM drafts WHERE telegram_id=? AND substr(kind, 1, ?) <> ?",
                           (telegram_id, len(PARKED), PARKED))
    else:
        await conn.execute("DELETE FROM drafts WHERE telegram_id=? AND kind=?", (telegram_id, kind))


async def park(conn: Conn, telegram_id: int, dialogue: str, kinds: tuple[str, ...], state: int,
               now: datetime) -> None:
    """Set the rows `kinds` aside as `parked:<dialogue>` with the step `state` (inside a transaction)."""
    found = await load_many(conn, telegram_id, kinds)
    await save(conn, telegram_id, parked_kind(dialogue), {"state": state, "rows": found}, now)
    await conn.execute(f"DELETE FROM drafts WHERE telegram_id=? AND kind IN ({','.join('?' * len(kinds))})",
                       (telegram_id, *kinds))


async def unpark(conn: Conn, telegram_id: int, dialogue: str, now: datetime) -> int | None:
    """Put a parked dialogue's rows back (inside a transaction); the step it was on, None if none was parked."""
    parked = await load(conn, telegram_id, parked_kind(dialogue))
    if not parked:
        return None
    rows = {k: v for k, v in parked.get("rows", {}).items() if v}
    if rows:
        await save_many(conn, telegram_id, rows, now)
    await drop(conn, telegram_id, parked_kind(dialogue))
    state = parked.get("state")
    return state if isinstance(state, int) else None
# A dialogue's draft once its last step committed: {"done_as": <id of what it made>}. Written in
# that step's own transaction and kept until the dialogue starts again, so the step pressed again
# after a crash (its commit made, the dialogue's end not yet saved) says it was done instead of
# doing it twice. (The report keeps its own marker, bot/services/incidents.py FILED.)
DONE = "done_as"


async def mark_done(conn: Conn, telegram_id: int, kind: str, ref_id: int, now: datetime) -> None:
    await save(conn, telegram_id, kind, {DONE: ref_id}, now)


def done_as(payload: dict[str, Any]) -> int | None:
    ref = payload.get(DONE)
    return ref if isinstance(ref, int) else None
