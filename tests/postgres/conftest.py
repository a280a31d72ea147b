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

from bot.harness import TEST_PG_ENV, Desk, test_server

OFF = "off"


@functools.cache
def why_not() -> str | None:
    """None when the test server answers; else why the PostgreSQL tests are skipped."""
    if os.environ.get(TEST_PG_ENV, "").lower() == OFF:
        return f"{TEST_PG_ENV}=off"
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(test_server(), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return (f"no PostgreSQL at {test_server()} ({type(exc).__name__}: {exc}); "
                f"set {TEST_PG_ENV} to a server's address")
    return None


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
