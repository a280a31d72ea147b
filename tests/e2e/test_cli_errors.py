"""Every `dutydesk` command and option, with good and bad arguments: a bad one ends in exit code
2 (usage, config) or 1 (the operation failed) and one clear line — never a traceback.

The table below must hold a good and a bad case for every option of every command the parser
has (test_every_option_is_tried), so an option added later cannot skip this check. Cases run
in-process through `bot.cli.main` (an uncaught exception fails the test, as a traceback would
have shown); `run` past its argument checks needs Telegram and is tried as a process in
tests/e2e/test_cli_run.py and tests/reliability/test_secrets.py, and here for a busy port.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot import cli
from bot.emulator import BotApiEmulator
from bot.harness import example_config_text


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]  # after `dutydesk --config site/dutydesk.toml`; {tmp} is the test's directory
    code: int  # expected exit code; -1: only parsed (a good `run`/`demo` would start the bot or the demo)
    says: str = ""  # a fragment of what is printed

    @property
    def good(self) -> bool:
        return self.code in (0, -1)


def C(*argv: str, code: int = 0, says: str = "") -> Case:
    return Case(argv, code, says)


CASES: list[Case] = [
    # the command itself
    C(code=2, says="required"), C("nosuch", code=2, says="invalid choice"),
    C("--config", code=2, says="expected one argument"),
    # init (the site's config already exists: `init` alone refuses, --force rewrites)
    C("init", code=1, says="已存在"), C("init", "--force"), C("init", "--force=yes", code=2, says="ignored explicit"),
    C("init", "--config", "{tmp}/new/dutydesk.toml"), C("init", "--config", "/proc/no/such/x.toml", code=1,
                                                          says="无法写入"),
    C("init", "--config", "{tmp}/site", "--force", code=1, says="无法写入"),
    # invite
    C("invite", "--unit", "xushui", "--role", "officer"),
    C("invite", "--unit", "xushui", "--role", "officer", "--name", "张<三>&"),
    C("invite", "--unit", "xushui", "--role", "officer", "--name", code=2, says="expected one argument"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "7d"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "1.5h"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "365d"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "7days", code=2, says="not a duration"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "0s", code=2, says="1m to 365d"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "-1d", code=2),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires=-1d", code=2, says="1m to 365d"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "99999999999d", code=2, says="1m to 365d"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "366d", code=2, says="1m to 365d"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "²d", code=2, says="not a duration"),
    C("invite", "--unit", "xushui", "--role", "officer", "--expires", "", code=2, says="not a duration"),
    C("invite", "--unit", "nosuch", "--role", "officer", code=2, says="nosuch"),
    C("invite", "--unit", "xushui", "--role", "king", code=2, says="king"),
    C("invite", "--role", "officer", code=2, says="--unit"), C("invite", "--unit", "xushui", code=2, says="--role"),
    # members
    C("members", says="还没有人员登记"), C("members", "--unit", "xushui", says="须水街道 还没有人员登记"),
    C("members", "--unit", "nosuch", code=2, says="nosuch"), C("members", "--unit", code=2),
    # role (the site has nobody registered: a good one is only parsed here; it re-roles a member in
    # tests/e2e/test_unit_chiefs.py)
    C("role", "7", "unit_chief", code=-1), C("role", "#7", "duty", "admin", code=-1),
    C("role", "7", "unit_chief", code=2, says="编号为 7"), C("role", "7", "king", code=2, says="king"),
    C("role", "7", code=2, says="required"), C("role", code=2, says="required"),
    C("role", "²", "duty", code=2, says="not a member number"),
    C("role", "99999999999999999999", "duty", code=2, says="not a member number"),
    C("role", "-3", "duty", code=2),
    # phone (nobody registered: a good one is only parsed here; the same use case sets one through /phone in
    # tests/e2e/test_channels.py)
    C("phone", "7", "13800001234", code=-1), C("phone", "#7", "-", code=-1),
    C("phone", "7", "13800001234", code=2, says="没有编号为 7"), C("phone", "7", "12ab", code=2, says="手机号格式不对"),
    C("phone", "7", code=2, says="required"), C("phone", "x", "13800001234", code=2, says="not a member number"),
    # backup
    C("backup", "{tmp}/copy.sqlite3", says="已备份"), C("backup", "{tmp}", says="已备份"),
    C("backup", "/proc/no/such/copy.sqlite3", code=1, says="无法写入备份"),
    C("backup", "{tmp}/a-file/copy.sqlite3", code=1, says="无法写入备份"),
    C("backup", "{tmp}/site/dutydesk.sqlite3", code=2, says="正在使用的数据库"), C("backup", code=2),
    # migrate-db (a good move needs PostgreSQL: tests/e2e/test_cli_migrate.py; refusals come before it)
    C("migrate-db", "--from", "{tmp}/site/dutydesk.sqlite3", "--to", "postgresql://duty@127.0.0.1/desk", code=-1),
    C("migrate-db", "--to", "postgresql://duty@127.0.0.1/desk", code=-1),
    C("migrate-db", "--from", "{tmp}/a-file", "--to", "postgresql://duty@127.0.0.1/desk", code=2,
      says="不是值班台数据库"),
    C("migrate-db", "--from", "{tmp}/site/dutydesk.sqlite3", code=2, says="required"),
    C("migrate-db", "--from", code=2, says="expected one argument"),
    C("migrate-db", "--to", "postgresql://duty:pw@127.0.0.1/desk", code=2, says="不能带密码"),
    C("migrate-db", "--to", "sqlite:///x.db", code=2, says="不是 PostgreSQL 数据库地址"),
    C("migrate-db", "--from", "{tmp}/site/dutydesk.sqlite3", "--to", "postgresql://duty@127.0.0.1:1/desk", code=1,
      says="无法打开目标数据库 postgresql://duty@127.0.0.1:1/desk"),
    C("migrate-db", "--from", "{tmp}/site/dutydesk.sqlite3", "--to", "postgresql://duty@127.0.0.1:1/desk?search_path=a-b",
      code=1, says="not a plain schema name"),
    # roster import
    C("roster", "import", "{tmp}/roster.csv", says="值班表已导入"),
    C("roster", "import", "{tmp}/missing.csv", code=2, says="No such file"),
    C("roster", "import", "{tmp}", code=2), C("roster", "import", "{tmp}/garbage.xlsx", code=2),
    C("roster", "import", "{tmp}/a-file", code=2), C("roster", "import", code=2), C("roster", code=2),
    # status (only parsed here: its exit codes 0 and 1, an active instance or none, are for monitoring and
    # tried in tests/e2e/test_standby.py)
    C("status", code=-1), C("status", "extra", code=2, says="unrecognized"),
    C("status", "--config", "{tmp}/missing.toml", code=2, says="not found"),
    # run: the checks made before reaching Telegram; a good run is only parsed here
    C("run", code=2, says="TELEGRAM_BOT_TOKEN"),
    C("run", "--port", "8443", code=-1), C("run", "--port", "0", code=2, says="port"),
    C("run", "--port", "70000", code=2, says="port"), C("run", "--port", "８０", code=2, says="port"),
    C("run", "--listen", "127.0.0.1", code=-1), C("run", "--listen", code=2),
    C("run", "--webhook-url", "https://desk.example.gov.cn", code=-1),
    C("run", "--webhook-url", "ftp://desk.example.gov.cn", code=2, says="not a URL"),
    C("run", "--webhook-url", "https://", code=2, says="not a URL"),
    C("run", "--webhook-url", "https://x:99999", code=2, says="not a URL"),
    C("run", "--webhook-secret", "Good-secret_1", "--webhook-url", "https://x.example", code=-1),
    C("run", "--webhook-secret", "Good-secret_1", code=2, says="--webhook-url"),
    C("run", "--webhook-secret-file", "{tmp}/secret", "--webhook-url", "https://x.example", code=-1),
    C("run", "--webhook-secret-file", "{tmp}/secret", code=2, says="--webhook-url"),
    C("run", "-v", code=-1), C("run", "--verbose=yes", code=2),
    # demo: a good one is the demo itself (tests/e2e/test_demo.py)
    C("demo", code=-1), C("demo", "-v", code=-1), C("demo", "--bogus", code=2), C("demo", "--verbose=x", code=2),
]

# `run` with a token, failing before it reaches Telegram (the environment holds a token here)
RUN_CASES: list[Case] = [
    C("run", "--webhook-url", "https://x.example", code=2, says="DUTYDESK_WEBHOOK_SECRET"),
    C("run", "--webhook-url", "https://x.example", "--webhook-secret", "has space", code=2, says="A-Z"),
    C("run", "--webhook-url", "https://x.example", "--webhook-secret-file", "{tmp}/missing", code=2,
      says="cannot read"),
    C("run", "--webhook-url", "https://x.example", "--webhook-secret-file", "{tmp}", code=2, says="cannot read"),
]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh installation in tmp/site, a roster table, a garbage workbook, a plain file, a secret."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("DUTYDESK_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("DUTYDESK_WEBHOOK_SECRET_FILE", raising=False)
    (tmp_path / "site").mkdir()
    assert cli.main(["init", "--config", str(tmp_path / "site" / "dutydesk.toml")]) == 0
    day = date.today() + timedelta(days=10)
    (tmp_path / "roster.csv").write_text(f"日期,白班一岗,白班二岗,夜班一岗,夜班二岗,带班领导\n{day},,,,,\n",
                                         encoding="utf-8")
    (tmp_path / "garbage.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    (tmp_path / "secret").write_text("Good-secret_1\n", encoding="utf-8")
    (tmp_path / "secret").chmod(0o600)
    return tmp_path


def _run_case(case: Case, tmp: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    argv = ["--config", str(tmp / "site" / "dutydesk.toml"), *(a.replace("{tmp}", str(tmp)) for a in case.argv)]
    capsys.readouterr()
    if case.code == -1:
        cli.parser().parse_args(argv)  # a SystemExit here fails the test
        return -1, "", ""
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _check(case: Case, code: int, out: str, err: str) -> None:
    assert code == case.code, (case.argv, out, err)
    assert "Traceback" not in out + err
    if case.says:
        assert case.says in out + err, (case.argv, out, err)
    if case.good:
        return
    lines = err.strip().splitlines()
    if lines and lines[0].startswith("usage:"):  # argparse: the usage, then one `dutydesk …: error: …` line
        assert lines[-1].startswith("dutydesk") and "error:" in lines[-1], err
    else:
        assert len(lines) == 1 and not out, (case.argv, out, err)  # one clear line


@pytest.mark.parametrize("case", CASES, ids=lambda c: " ".join(c.argv) or "(nothing)")
def test_command_line(site: Path, case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    _check(case, *_run_case(case, site, capsys))


@pytest.mark.parametrize("case", RUN_CASES, ids=lambda c: " ".join(c.argv))
def test_run_refuses_before_reaching_telegram(site: Path, case: Case, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:NOT-USED")
    _check(case, *_run_case(case, site, capsys))


def test_a_config_that_cannot_be_read_or_a_database_that_cannot_be_opened(
        site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    config = site / "site" / "dutydesk.toml"
    for content, says in ((b"\xff\xfe not utf-8", "UTF-8"), (b"[general\n", "syntax")):
        config.write_bytes(content)
        assert cli.main(["--config", str(config), "members"]) == 2
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1, err
    for path, says in ((site / "nope.toml", "not found"), (site, "is a directory")):
        assert cli.main(["members", "--config", str(path)]) == 2
        assert says in capsys.readouterr().err
    cli.main(["init", "--force", "--config", str(config)])
    capsys.readouterr()
    text = config.read_text(encoding="utf-8").replace('database = "dutydesk.sqlite3"',
                                                      'database = "/proc/no/such/desk.sqlite3"')
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:NOT-USED")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        for argv in (["members"], ["invite", "--unit", "xushui", "--role", "officer"],
                     ["backup", str(site / "b.sqlite3")], ["roster", "import", str(site / "roster.csv")], ["run"]):
            assert cli.main(["--config", str(config), *argv]) == 1, argv
            err = capsys.readouterr().err
            assert "无法打开数据库 /proc/no/such/desk.sqlite3" in err and len(err.strip().splitlines()) == 1, err
    finally:
        root.handlers[:], root.level = handlers, level


def _options(p: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], set[str]]:
    """Every (sub)command path and the options and positionals it takes, from the parser itself."""
    found: dict[tuple[str, ...], set[str]] = {path: set()}
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(_options(sub, (*path, name)))
        elif not isinstance(action, argparse._HelpAction) and action.dest != "config":
            found[path].add(action.option_strings[-1] if action.option_strings else f"<{action.dest}>")
    return found


def test_every_option_is_tried_good_and_bad() -> None:
    """A command or option the parser has, without a good and a bad case in CASES, fails here."""
    missing = []
    for path, options in _options(cli.parser()).items():
        if not path:
            continue
        mine = [c for c in CASES + RUN_CASES if c.argv[:len(path)] == path]
        for option in options or {"(itself)"}:
            def tries(c: Case, option: str = option, path: tuple[str, ...] = path) -> bool:
                rest = c.argv[len(path):]
                if option.startswith("<"):  # a positional: tried when the command has words after it
                    return any(not a.startswith("-") for a in rest) or not rest
                return option == "(itself)" or any(a == option or a.startswith(option + "=") or
                                                   (option == "--verbose" and a == "-v") for a in rest)
            kinds = {c.good for c in mine if tries(c)}
            if kinds != {True, False}:
                missing.append(f"{' '.join(path)} {option}: {'no good case' if True not in kinds else 'no bad case'}")
    assert not missing, missing


async def test_a_busy_webhook_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with BotApiEmulator(token="1:BUSY-port") as emu:
            config = tmp_path / "dutydesk.toml"
            config.write_text(example_config_text(emu, tmp_path / "desk.sqlite3"), encoding="utf-8")
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", "--config", str(config), "--webhook-url", "https://x.example",
                "--listen", "127.0.0.1", "--port", str(port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env=dict(os.environ, TELEGRAM_BOT_TOKEN=emu.token, DUTYDESK_WEBHOOK_SECRET="Busy-port_1"))
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 1 and f"无法在 127.0.0.1:{port} 监听" in text, text
    assert "Traceback" not in text and "BUSY-port" not in text
