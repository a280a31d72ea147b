"""A filing reads who is on shift and who is away once (bot/services/routing.Shift). The alert's audience
and its escalation's first step (`duty@shift`, `leader@duty`) each read the roster, leave and the office
members for themselves: three times in one transaction, a third of a filing's statements. On PostgreSQL
each one is a round trip on the one writing connection."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.harness import Desk
from tests.conftest import Cast
from tests.e2e.flows import file_report

ONCE = ("FROM roster_slots", "FROM roster_meta", "INTO roster_gaps", "FROM leave_requests WHERE on_leave")


async def test_a_report_reads_the_roster_and_leave_once(desk: Desk, cast: Cast) -> None:
    if desk.on_postgres:
        pytest.skip("counted through SQLite's trace callback; the services are the same on both engines")
    await file_report(desk, cast.officer)  # the first: warms nothing, but settles the dialogue's own reads
    seen: list[str] = []
    await desk.db.conn.set_trace_callback(seen.append)  # type: ignore[union-attr]  # the writer: where a filing runs
    try:
        number = await file_report(desk, cast.officer, description="第二起：仓库冒烟")
    finally:
        await desk.db.conn.set_trace_callback(None)  # type: ignore[union-attr]
    counts = Counter(part for sql in seen for part in ONCE if part in sql)
    assert counts == Counter({part: 1 for part in ONCE}), counts
    # …and the alert still reached the duty room and the directors, as it did when read three times.
    assert any(number in (m.text or "") for m in cast.duty.inbox)
    assert any(number in (m.text or "") for m in cast.director.inbox)
