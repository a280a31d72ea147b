"""`dutydesk migrate-db` and `dutydesk backup` on PostgreSQL (issue #28): a desk's SQLite file, filled by
driving the real bot, moved into PostgreSQL and verified; refusals that leave the target as it was.

Each test has its own database (migrate_<random>), dropped at the end. Skipped, with the reason, when
no PostgreSQL answers at 127.0.0.1:5432 or DUTYDESK_TEST_PG=off.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.harness import Desk
from storage import transfer
from tests.e2e.flows import file_report

PG_HOST, PG_PORT = "127.0.0.1", 5432
ADMIN_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test"
HOSTILE = "<张&三> 🚒 \"O'Neil\""


def _no_pg_reason() -> str | None:
    if os.environ.get("DUTYDESK_TEST_PG", "").lower() == "off":
        return "DUTYDESK_TEST_PG=off"
    try:
        socket.create_connection((PG_HOST, PG_PORT), timeout=1).close()
    except OSError as exc:
        return f"no PostgreSQL at {PG_HOST}:{PG_PORT} ({exc})"
    return None


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """An empty database of this test's own: postgresql://postgres@127.0.0.1:5432/migrate_<random>."""
    reason = _no_pg_reason()
    if reason:
        print(f"skipping PostgreSQL test: {reason}", file=sys.stderr)
        pytest.skip(reason)
    import asyncpg

    name = f"migrate_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def dutydesk(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "DUTYDESK_DATABASE_PASSWORD")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=full)


async def migrate(cwd: Path, source: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(dutydesk, cwd, "migrate-db", "--from", str(source), "--to", url, *extra)


async def fetch(url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    import asyncpg

    pg = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await pg.fetch(sql, *args)]
    finally:
        await pg.close()
