"""The PostgreSQL half of the suite: run when a server is reachable (DUTYDESK_TEST_PG, else
127.0.0.1:5432), skipped with the reason printed at the top of the run when not.

`desk` here is the same desk as everywhere else, on PostgreSQL: the flows imported into these modules
run unchanged on the second engine.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator

import pytest

from bot.harness import Desk, test_server, test_server_problem


@functools.cache
def why_not() -> str | None:
    """None when the test server answers; else why the PostgreSQL tests are skipped (asked once a run)."""
    return asyncio.run(test_server_problem())


def pytest_report_header() -> str:
    reason = why_not()
    return f"PostgreSQL: {test_server()}" if reason is None else f"PostgreSQL tests SKIPPED: {reason}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    mine = [i for i in items if str(i.path).startswith(here)]
    reason = why_not() if mine else None
    if reason is not None:
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
async def desk() -> AsyncIterator[Desk]:
    async with Desk(engine="postgresql") as d:
        yield d
