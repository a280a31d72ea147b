"""The `dutydesk` command line: init, invite, members, backup, roster import, `--config` on
either side of the command, invite links from the username the bot learnt, clear config errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import parser
from bot.emulator import BotApiEmulator
from bot.harness import Desk, example_config_text


def run(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(tmp / "dutydesk.toml"), *args],
                          capture_output=True, text=True, timeout=60, cwd=tmp, env=env)


def dutydesk(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env=env)


def test_init_invite_members_backup(tmp_path: Path) -> None:
    out = run(tmp_path, "init")
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "dutydesk.toml").read_text(encoding="utf-8")
    for unit in ("建设路街道", "棉纺路街道", "须水街道", "教体局", "环保局", "建设局", "区委办公室"):
        assert unit in text
    db = tmp_path / "dutydesk.sqlite3"
    assert db.exists() and (db.stat().st_mode & 0o777) == 0o600
    assert run(tmp_path, "init").returncode == 1  # never overwrites silently

    out = run(tmp_path, "members")
    assert out.returncode == 0 and "还没有人员登记" in out.stdout and "dutydesk invite" in out.stdout

    out = run(tmp_path, "invite", "--unit", "xushui", "--role", "officer", "--name", "张三", "--expires", "2d")
    assert out.returncode == 0, out.stderr
    code = out.stdout.split("code: ")[1].split()[0]
    # Never run and no bot_username: no made-up https://t.me/YOUR_BOT link, but how to get one
    assert "t.me" not in out.stdout and "bot_username" in out.stdout and f"/start {code}" in out.stdout
    bad = run(tmp_path, "invite", "--unit", "nowhere", "--role", "officer")
    assert bad.returncode == 2 and "nowhere" in bad.stderr
    bad = run(tmp_path, "invite", "--unit", "xushui", "--role", "king")
    assert bad.returncode == 2 and "king" in bad.stderr

    backup = tmp_path / "backups" / "copy.sqlite3"
    out = run(tmp_path, "backup", str(backup))
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT count(*) FROM invites").fetchone()[0] == 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 2
    assert (backup.stat().st_mode & 0o777) == 0o600


def test_backup_into_a_directory_or_onto_the_live_database(tmp_path: Path) -> None:
    assert run(tmp_path, "init").returncode == 0
    (tmp_path / "backups").mkdir()
    out = run(tmp_path, "backup", str(tmp_path / "backups"))
    assert out.returncode == 0, out.stderr
    made = list((tmp_path / "backups").iterdir())
    assert len(made) == 1 and made[0].name.startswith("dutydesk-") and made[0].suffix == ".sqlite3"
    assert str(made[0]) in out.stdout
    out = run(tmp_path, "backup", str(tmp_path / "dutydesk.sqlite3"))
    assert out.returncode == 2 and "正在使用的数据库" in out.stderr


def _roster_csv(path: Path) -> Path:
    day = date.today() + timedelta(days=10)
    path.write_text(f"日期,白班一岗,白班二岗,夜班一岗,夜班二岗,带班领导\n{day.isoformat()},,,,,\n", encoding="utf-8")
    return path


# Each command with --config before and after it. The config lives in site/, not where the
# default (./dutydesk.toml) would be found, so a --config that was ignored shows up as an error.
COMMANDS: dict[str, tuple[list[str], list[str]]] = {  # command words, its arguments
    "init": (["init"], ["--force"]),
    "invite": (["invite"], ["--unit", "xushui", "--role", "officer"]),
    "members": (["members"], []),
    "backup": (["backup"], ["copy.sqlite3"]),
    "roster import": (["roster", "import"], ["roster.csv"]),
    "run": (["run"], []),
}


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_config_option_before_or_after_every_command(tmp_path: Path, command: str, position: str) -> None:
    site = tmp_path / "site"
    site.mkdir()
    config = str(site / "desk.toml")
    if command != "init":
        assert dutydesk(tmp_path, "init", "--config", config).returncode == 0
    _roster_csv(tmp_path / "roster.csv")
    words, rest = COMMANDS[command]
    argv = ["--config", config, *words, *rest] if position == "before" else [*words, "--config", config, *rest]
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    out = dutydesk(tmp_path, *argv, env=env)
    assert "not found: create one" not in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "dutydesk.toml").exists()
    if command == "run":  # the config was read; what stops it is the missing token
        assert out.returncode == 2 and "TELEGRAM_BOT_TOKEN" in out.stderr
        return
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(site / "dutydesk.sqlite3") as conn:
        if command == "invite":
            assert conn.execute("SELECT count(*) FROM invites").fetchone()[0] == 1
        if command == "roster import":
            assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'roster_import'").fetchone()[0] == 1
    if command == "backup":
        assert (tmp_path / "copy.sqlite3").exists()


def test_config_option_in_the_middle_and_for_the_demo() -> None:
    assert parser().parse_args(["roster", "--config", "x.toml", "import", "f.csv"]).config == "x.toml"
    assert parser().parse_args(["demo", "--config", "x.toml"]).config == "x.toml"  # accepted (and ignored)
    assert parser().parse_args(["--config", "a.toml", "members"]).config == "a.toml"
    assert parser().parse_args(["members"]).config == "dutydesk.toml"


async def test_invite_link_uses_the_username_the_bot_learnt_at_start_up(tmp_path: Path) -> None:
    """The bot ran once (getMe said @zhongyuan_desk_bot); later invites link to it, with no
    bot_username in the config. A bot_username in the config wins (the operator's word)."""
    db = tmp_path / "desk.sqlite3"
    async with BotApiEmulator(token="123:USERNAME-test", bot_username="zhongyuan_desk_bot") as emu:
        async with Desk(emulator=emu, db_path=db):
            pass
        config = tmp_path / "dutydesk.toml"
        config.write_text(example_config_text(emu, db), encoding="utf-8")
        out = dutydesk(tmp_path, "invite", "--config", str(config), "--unit", "jianshelu", "--role", "officer")
        assert out.returncode == 0, out.stderr
        code = out.stdout.split("code: ")[1].split()[0]
        assert f"link: https://t.me/zhongyuan_desk_bot?start={code}" in out.stdout
        config.write_text(example_config_text(emu, db, bot_username="renamed_desk_bot"), encoding="utf-8")
        out = dutydesk(tmp_path, "invite", "--config", str(config), "--unit", "jianshelu", "--role", "officer")
        assert "https://t.me/renamed_desk_bot?start=" in out.stdout, out.stderr


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


def test_the_terminal_shows_paths_and_names_as_typed(tmp_path: Path) -> None:
    """CLI output is for a terminal: a path or a name with `&`, `<` prints as typed, never `&amp;`."""
    assert run(tmp_path, "init").returncode == 0
    odd = tmp_path / "R&D <备份>"
    odd.mkdir()
    backup = odd / "a&b.sqlite3"
    out = run(tmp_path, "backup", str(backup))
    assert out.returncode == 0, out.stderr
    assert str(backup) in out.stdout and "&amp;" not in out.stdout and "&lt;" not in out.stdout
    out = run(tmp_path, "backup", str(tmp_path / "dutydesk.sqlite3"))
    assert out.returncode == 2 and "&amp;" not in out.stderr and "<" not in out.stderr.replace(str(tmp_path), "")
