"""storage.drafts: a dialogue set aside keeps its rows and step until it is resumed or discarded;
a dialogue ending (drop of all rows) never takes a set-aside one with it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage import drafts
from storage.db import Database

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def test_park_keeps_rows_and_step_through_the_end_of_other_dialogues(tmp_path: Path) -> None:
    db = await Database(tmp_path / "d.sqlite3").open()
    try:
        async with db.single() as conn:
            await drafts.save_many(conn, 7, {"leave": {"kind": "personal", "destination": "北京"},
                                             "info": {"title": "x"}}, NOW)
        async with db.tx() as conn:
            await drafts.park(conn, 7, "leave", ("leave",), 403, NOW)
        rows = await drafts.load_all(db.read, 7)
        assert "leave" not in rows
        assert rows["parked:leave"][0] == {"state": 403, "rows": {"leave": {"kind": "personal", "destination": "北京"}}}
        async with db.single() as conn:
            await drafts.drop(conn, 7)  # another dialogue ends: its rows go, the parked one stays
        assert set(await drafts.load_all(db.read, 7)) == {"parked:leave"}
        async with db.tx() as conn:
            assert await drafts.unpark(conn, 7, "leave", NOW) == 403
        assert await drafts.load_all(db.read, 7) == {"leave": ({"kind": "personal", "destination": "北京"}, NOW)}
        async with db.tx() as conn:
            assert await drafts.unpark(conn, 7, "leave", NOW) is None  # nothing parked any more
        assert await drafts.load(db.read, 8, "leave") == {}  # another person's rows were never touched
    finally:
        await db.close()
