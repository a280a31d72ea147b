"""The `dutydesk` command line: init, invite, members, backup, and clear config errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def run(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(tmp / "dutydesk.toml"), *args],
                          capture_output=True, text=True, timeout=60, cwd=tmp, env=env)


def test_init_invite_members_backup(tmp_path: Path) -> None:
    out = run(tmp_path, "init")
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "dutydesk.toml").read_text(encoding="utf-8")
    for unit in ("建设路街道", "棉纺路街道", "须水街道", "教体局", "环保局", "建设局", "区委办公室"):
        assert unit in text
    db = tmp_path / "dutydesk.sqlite3"
    assert db.exists() and (db.stat().st_mode & 0o777) == 0o600
    assert run(tmp_path, "init").returncode == 1  # never overwrites silently

    out = run(tmp_path, "invite", "--unit", "xushui", "--role", "officer", "--name", "张三", "--expires", "2d")
    assert out.returncode == 0, out.stderr
    assert "?start=" in out.stdout and "code: " in out.stdout
    bad = run(tmp_path, "invite", "--unit", "nowhere", "--role", "officer")
    assert bad.returncode == 2 and "nowhere" in bad.stderr
    bad = run(tmp_path, "invite", "--unit", "xushui", "--role", "king")
    assert bad.returncode == 2 and "king" in bad.stderr

    out = run(tmp_path, "members")
    assert out.returncode == 0

    backup = tmp_path / "backups" / "copy.sqlite3"
    out = run(tmp_path, "backup", str(backup))
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT count(*) FROM invites").fetchone()[0] == 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 2
    assert (backup.stat().st_mode & 0o777) == 0o600


def test_bad_config_stops_start_up_with_file_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "dutydesk.toml").write_text('[general]\nlanguage = "zh"\n\n[incident]\nfirst_report = "1 hour"\n',
                                            encoding="utf-8")
    env = dict(os.environ, TELEGRAM_BOT_TOKEN="1:secret-token-value")
    out = run(tmp_path, "run", env=env)
    assert out.returncode == 2
    assert "dutydesk.toml:5" in out.stderr and "incident.first_report" in out.stderr and "bad duration" in out.stderr
    assert "secret-token-value" not in out.stderr + out.stdout


def test_missing_token_is_explained(tmp_path: Path) -> None:
    assert run(tmp_path, "init").returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    out = run(tmp_path, "run", env=env)
    assert out.returncode == 2 and "TELEGRAM_BOT_TOKEN" in out.stderr
