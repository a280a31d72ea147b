"""The WAL is checkpointed on a connection of its own, never inside a writer's commit."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.db import Database


async def test_commits_never_checkpoint_and_the_background_checkpoint_copies_everything(tmp_path: Path) -> None:
    db = await Database(tmp_path / "w.sqlite3", checkpoint_every=3600).open()
    try:
        assert list(await db.conn.execute_fetchall("PRAGMA wal_autocheckpoint"))[0][0] == 0
        async with db.tx() as conn:
            await conn.execute("CREATE TABLE filler(x TEXT)")
        for _ in range(30):  # ~1,500 pages: past the 1,000 at which a commit would checkpoint
            async with db.tx() as conn:
                await conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 2000,)] * 100)
        wal = Path(f"{db.path}-wal")
        assert wal.stat().st_size > 1000 * 4096  # nothing was copied back by the commits
        results: list[tuple[int, int, int]] = []
        real, ran = db.checkpoint, asyncio.Event()

        async def spy(conn):  # type: ignore[no-untyped-def]
            results.append(await real(conn))
            ran.set()
            return results[-1]

        db.checkpoint = spy  # type: ignore[method-assign]
        db.checkpoint_every = 0.05
        db._checkpointer.cancel()  # type: ignore[union-attr]  # restart the loop with the short interval
        db._checkpointer = asyncio.create_task(db._checkpoint_loop(db._checkpointing))  # type: ignore[arg-type]
        await asyncio.wait_for(ran.wait(), 10)
        busy, frames, copied = results[0]
        assert busy == 0 and frames > 1000 and copied == frames
        async with db.tx() as conn:  # writers go on meanwhile, and the WAL starts over
            await conn.execute("INSERT INTO filler VALUES ('y')")
        assert list(await db.conn.execute_fetchall("SELECT count(*) FROM filler"))[0][0] == 3001
    finally:
        await db.close()
