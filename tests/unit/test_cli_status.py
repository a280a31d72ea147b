"""`dutydesk status`'s report (bot/cli_status.py) from instance rows, at a given moment: the active
instance with its last heartbeat and how long ago, the standbys; exit 0 only when the active one
checked in within [ha] lease_seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import config as cfg
from bot.cli_status import report
from storage.instances import Instance

NOW = datetime(2026, 12, 5, 13, 0, 0, tzinfo=UTC)  # 21:00 in Asia/Shanghai
CONFIG = cfg.loads("[ha]\nlease_seconds = 15\n")


def _row(name: str, role: str, silent: float, since: datetime | None = None) -> Instance:
    host, pid = name.split(":")
    return Instance(name, host, int(pid), role, NOW - timedelta(hours=2), since, NOW - timedelta(seconds=silent))


def test_a_fresh_active_instance_and_a_standby() -> None:
    lines, code = report(CONFIG, [_row("a:11", "active", 2, NOW - timedelta(hours=1)), _row("b:22", "standby", 4)], NOW)
    assert code == 0
    assert lines[0] == ("工作实例：a:11（主机 a，进程 11），2026-12-05 20:00:00 起工作；"
                        "最后报到 2026-12-05 20:59:58（2 秒前）。")
    assert lines[1] == "待命实例：b:22（主机 b，进程 22）；最后报到 2026-12-05 20:59:56（4 秒前）。"


def test_an_active_instance_silent_past_the_lease_fails_the_check() -> None:
    lines, code = report(CONFIG, [_row("a:11", "active", 16, NOW - timedelta(hours=1))], NOW)
    assert code == 1
    assert "已 16 秒未报到（超过租约 15 秒）" in lines[0] and lines[1] == "没有待命实例。"
    assert report(CONFIG, [_row("a:11", "active", 15, NOW)], NOW)[1] == 0  # within the lease, just


def test_no_active_instance() -> None:
    lines, code = report(CONFIG, [_row("b:22", "standby", 1)], NOW)
    assert code == 1 and lines[0] == "没有工作实例：没有 dutydesk run 持有租约。"
    assert report(CONFIG, [], NOW) == (["没有工作实例：没有 dutydesk run 持有租约。", "没有待命实例。"], 1)


def test_a_standby_that_stopped_writing_its_row_is_not_counted() -> None:
    """A standby killed -9 cannot remove its row: once it missed two rows (and the lease), status says it
    stopped and that no standby is there, instead of promising a takeover that will not come."""
    lines, code = report(CONFIG, [_row("a:11", "active", 1, NOW), _row("b:22", "standby", 16),
                                  _row("c:33", "standby", 15)], NOW)
    assert code == 0
    assert lines[1].startswith("待命实例 b:22（主机 b，进程 22）最后报到 2026-12-05 20:59:44，已 16 秒未报到：它已停止")
    assert lines[2].startswith("待命实例：c:33") and len(lines) == 3
    lines, _ = report(CONFIG, [_row("a:11", "active", 1, NOW), _row("b:22", "standby", 60)], NOW)
    assert "已 60 秒未报到" in lines[1] and lines[2] == "没有待命实例。"


def test_a_short_lease_still_allows_a_standby_two_row_periods() -> None:
    short = cfg.loads("[ha]\nlease_seconds = 5\nheartbeat_seconds = 1\n")
    assert len(report(short, [_row("b:22", "standby", 9)], NOW)[0]) == 2  # no active; b still counted
    assert report(short, [_row("b:22", "standby", 11)], NOW)[0][-1] == "没有待命实例。"
