"""The database server ends the bot's sessions (a restart of PostgreSQL, an administrator's
pg_terminate_backend, a firewall dropping a connection): the bot connects again and the next report is
filed and alerted as usual, with nothing lost that had been committed."""

from __future__ import annotations

from bot.harness import Desk
from tests.conftest import Cast
from tests.e2e.flows import file_report
from tests.postgres.test_writer_turns import backends, end_sessions


async def test_a_report_after_the_server_ended_every_session_of_the_bot(desk: Desk, cast: Cast) -> None:
    first = await file_report(desk, cast.officer, description="第一起：商铺起火")
    db = desk.db
    await end_sessions(db, await backends(db))  # type: ignore[arg-type]
    second = await file_report(desk, cast.officer, description="第二起：仓库冒烟")
    assert second != first
    alerts = [m.text or "" for m in cast.duty.inbox]
    assert any(first in t for t in alerts) and any(second in t and "仓库冒烟" in t for t in alerts)
    with desk.sql() as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 2
