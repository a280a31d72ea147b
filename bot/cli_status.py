"""`dutydesk status`: which instance is active, since when, its last heartbeat and how long ago, and
the standbys (issue 28). Exit 0 when an active instance checked in within the lease, else 1: a
monitoring system runs it every minute."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from bot.cli import _load, _open_database, _texts
from bot.config import Config
from bot.domain.lease import standby_silent
from storage import instances


async def read_instances(config: Config) -> list[instances.Instance]:
    db = await _open_database(config)  # either engine; a database it cannot open is one line (exit 1)
    try:
        return await instances.all_instances(db.read)
    finally:
        await db.close()


def report(config: Config, found: list[instances.Instance], now: datetime) -> tuple[list[str], int]:
    """The lines to print and the exit code."""
    t = _texts(config)

    def when(dt: datetime) -> str:
        return dt.astimezone(config.tz).strftime("%Y-%m-%d %H:%M:%S")

    def ago(dt: datetime) -> str:
        return f"{max(0.0, (now - dt).total_seconds()):.0f}"

    lease = float(config.ha.lease_seconds)
    active = [i for i in found if i.role == instances.ACTIVE]
    lines: list[str] = []
    code = 1
    if not active:
        lines.append(t("cli.status_no_active"))
    else:
        a = active[0]
        since = when(a.active_since or a.started_at)
        if (now - a.heartbeat_at).total_seconds() <= lease:
            code = 0
            lines.append(t("cli.status_active", instance=a.instance, host=a.host, pid=a.pid, since=since,
                           heartbeat=when(a.heartbeat_at), ago=ago(a.heartbeat_at)))
        else:
            lines.append(t("cli.status_active_silent", instance=a.instance, since=since,
                           heartbeat=when(a.heartbeat_at), ago=ago(a.heartbeat_at), lease=f"{lease:g}"))
    standbys = [i for i in found if i.role == instances.STANDBY]
    live = [s for s in standbys if not standby_silent((now - s.heartbeat_at).total_seconds(), lease)]
    for s in standbys:
        key = "cli.status_standby" if s in live else "cli.status_standby_silent"
        lines.append(t(key, instance=s.instance, host=s.host, pid=s.pid, heartbeat=when(s.heartbeat_at),
                       ago=ago(s.heartbeat_at)))
    if not live:
        lines.append(t("cli.status_no_standby"))
    return lines, code


def cmd_status(args: argparse.Namespace, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    config = _load(args)
    found = asyncio.run(read_instances(config))
    lines, code = report(config, found, now())
    print("\n".join(lines))
    return code
