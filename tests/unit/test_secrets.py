"""Secrets come from the environment or a file (bot/secrets.py), exactly one source each; the
command line still works for the webhook secret but is flagged, since `ps` shows it to all."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import config as cfg
from bot import secrets
from bot.config import ConfigError

ENV = secrets.WEBHOOK_SECRET_ENV


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> str:
    path = tmp_path / "secret"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return str(path)


def test_webhook_secret_from_the_environment() -> None:
    got = secrets.webhook_secret({ENV: " s3cret-Value_1 \n"})
    assert got.value == "s3cret-Value_1" and not got.on_command_line and ENV in got.source


def test_webhook_secret_from_a_file_named_on_the_command_line_or_in_the_environment(tmp_path: Path) -> None:
    path = _file(tmp_path, "from-file_2\n")
    assert secrets.webhook_secret({}, path=path).value == "from-file_2"
    got = secrets.webhook_secret({ENV + "_FILE": path})
    assert got.value == "from-file_2" and got.loose_file == ""


def test_a_secret_file_others_can_read_is_flagged(tmp_path: Path) -> None:
    path = _file(tmp_path, "x-y-z", mode=0o644)
    assert secrets.webhook_secret({}, path=path).loose_file == path


def test_the_command_line_still_works_but_is_flagged() -> None:
    got = secrets.webhook_secret({}, given="on-the-command-line")
    assert got.value == "on-the-command-line" and got.on_command_line


def test_two_sources_are_refused_rather_than_one_silently_winning(tmp_path: Path) -> None:
    path = _file(tmp_path, "one")
    for env, kw in (({ENV: "a"}, {"given": "b"}), ({ENV: "a"}, {"path": path}), ({ENV: "a", ENV + "_FILE": path}, {})):
        with pytest.raises(ConfigError, match="more than once"):
            secrets.webhook_secret(env, **kw)


@pytest.mark.parametrize("bad", ["has space", "ümlaut", "a" * 257, "semi;colon"])
def test_a_secret_telegram_would_refuse_is_refused_here(bad: str) -> None:
    with pytest.raises(ConfigError, match="A-Z"):
        secrets.webhook_secret({ENV: bad})
    assert bad not in str(pytest.raises(ConfigError, secrets.webhook_secret, {ENV: bad}).value)


def test_missing_empty_or_unreadable_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="required with --webhook-url"):
        secrets.webhook_secret({})
    with pytest.raises(ConfigError, match="empty"):
        secrets.webhook_secret({}, path=_file(tmp_path, "\n"))
    with pytest.raises(ConfigError, match="cannot read"):
        secrets.webhook_secret({}, path=str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="cannot read"):
        secrets.webhook_secret({}, path=str(tmp_path))


def test_bot_token_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert cfg.token_from_env({"TELEGRAM_BOT_TOKEN": " 1:abc "}) == "1:abc"
    assert cfg.token_from_env({"TELEGRAM_BOT_TOKEN_FILE": _file(tmp_path, "2:def\n")}) == "2:def"
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN_FILE"):
        cfg.token_from_env({})
