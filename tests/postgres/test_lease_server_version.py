"""The lease needs PostgreSQL 14 or newer (idle_session_timeout frees a silent holder's lock). On an
older server `dutydesk run` says so in one line and stops, instead of retrying a refused connection
every second with the server's own words. This server is newer: the minimum is raised to test it."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import lease as lease_module
from bot.cli import main
from bot.domain.lease import LeaseTerms
from bot.harness import scratch_schema
from bot.i18n import TerminalTexts
from bot.lease import LeaseKeeper, LeaseUnsupported, PgLease
from storage.peek import drop_schema
from tests.e2e.test_cli_run import TOKEN, _config, _free_port


@pytest.fixture
def target() -> Iterator[str]:
    dsn = scratch_schema("oldpg")
    yield dsn
    asyncio.run(drop_schema(dsn))


async def test_the_server_s_own_version_is_enough_and_the_timeout_is_set(target: str) -> None:
    lease = PgLease(target, "host-a:1", LeaseTerms(15, 2))
    try:
        assert await lease.try_acquire()
        assert await lease.conn.fetchval("SHOW idle_session_timeout") == "15s"
    finally:
        await lease.release()


async def test_an_older_server_stops_the_wait_at_once(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lease_module, "MIN_SERVER_VERSION", (99,))
    terms = LeaseTerms(15, 2)
    keeper = LeaseKeeper(PgLease(target, "host-a:1", terms), TerminalTexts("zh"), terms, instance="host-a:1",
                         retry=0.01)
    with pytest.raises(LeaseUnsupported) as raised:
        await asyncio.wait_for(keeper.take(), 10)
    assert re.fullmatch(r"\d+\.\d+", raised.value.version)
    await keeper.release()


def test_dutydesk_run_on_an_older_server_says_so_and_exits_1(
        target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(lease_module, "MIN_SERVER_VERSION", (99,))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    config = _config(tmp_path, _free_port(), database=target)  # Telegram is never asked: only the active is
    handlers = logging.getLogger().handlers[:]
    try:
        code = main(["--config", str(config), "run"])
    finally:
        logging.getLogger().handlers[:] = handlers  # `run` set up its own logging
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("PostgreSQL ") and "需要 PostgreSQL 99 或更新" in err, err
    assert "Traceback" not in err and "无法连接数据库取得租约" not in err, err
