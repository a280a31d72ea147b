"""Secrets — the bot token and the webhook secret — from the environment or a file, never the
config file (which is shared, versioned and backed up).

Each secret `NAME` is read from the environment variable `NAME` or from the file named by
`NAME_FILE` (systemd credentials, Docker/Kubernetes secrets). The webhook secret may still be
given on the command line, but any local user can read a process's arguments with `ps`, so
the caller warns when it is.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import TOKEN_ENV, ConfigError

WEBHOOK_SECRET_ENV = "DUTYDESK_WEBHOOK_SECRET"
FILE_SUFFIX = "_FILE"
# What Telegram accepts as setWebhook's secret_token (Bot API): 1-256 of A-Z a-z 0-9 _ -
_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class Secret:
    value: str
    source: str  # where it came from, for messages: "environment DUTYDESK_WEBHOOK_SECRET", a file, the command line
    on_command_line: bool = False
    loose_file: str = ""  # a secret file other users can read (the caller warns)


def _from_file(path: str, what: str) -> Secret:
    p = Path(path)
    try:
        value = p.read_text(encoding="utf-8").strip()
        mode = p.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(path, what, f"cannot read the secret file: {reason}") from None
    if not value:
        raise ConfigError(path, what, "the secret file is empty")
    return Secret(value, f"file {path}", loose_file=path if stat.S_IMODE(mode) & 0o077 else "")


def read_secret(
    name: str, env: Mapping[str, str] | None = None, *,
    given: str | None = None, given_flag: str = "", path: str | None = None, path_flag: str = "",
) -> Secret | None:
    """The secret from exactly one of: the command line (`given`), a file named on the command
    line (`path`), the environment (`name`), a file named by the environment (`name_FILE`).
    None if none is set; two at once is refused rather than one silently winning."""
    env = os.environ if env is None else env
    candidates: list[tuple[str, object]] = []
    if given is not None:
        candidates.append((given_flag or "command line", lambda: Secret(given.strip(), "command line",
                                                                          on_command_line=True)))
    if path:
        candidates.append((f"{path_flag} {path}".strip(), lambda: _from_file(path, name)))
    if env.get(name, "").strip():
        candidates.append((name, lambda: Secret(env[name].strip(), f"environment {name}")))
    if env.get(name + FILE_SUFFIX, "").strip():
        file_name = env[name + FILE_SUFFIX].strip()
        candidates.append((name + FILE_SUFFIX, lambda: _from_file(file_name, name + FILE_SUFFIX)))
    if len(candidates) > 1:
        raise ConfigError("environment / command line", name,
                          f"given more than once ({', '.join(c for c, _ in candidates)}): keep only one")
    if not candidates:
        return None
    secret = candidates[0][1]()  # type: ignore[operator]
    assert isinstance(secret, Secret)
    if not secret.value:
        raise ConfigError(candidates[0][0], name, "is empty")
    return secret


def bot_token(env: Mapping[str, str] | None = None) -> str:
    secret = read_secret(TOKEN_ENV, env)
    if secret is None:
        raise ConfigError("environment", TOKEN_ENV, "is not set: put the token from @BotFather in the environment "
                                                    f"(or in a file named by {TOKEN_ENV}{FILE_SUFFIX})")
    return secret.value


def webhook_secret(env: Mapping[str, str] | None = None, *, given: str | None = None,
                   path: str | None = None) -> Secret:
    """The secret Telegram sends back with every webhook update (X-Telegram-Bot-Api-Secret-Token)."""
    secret = read_secret(WEBHOOK_SECRET_ENV, env, given=given, given_flag="--webhook-secret",
                         path=path, path_flag="--webhook-secret-file")
    if secret is None:
        raise ConfigError("environment", WEBHOOK_SECRET_ENV,
                          f"is required with --webhook-url: set {WEBHOOK_SECRET_ENV} in the environment "
                          f"(or name a file with --webhook-secret-file / {WEBHOOK_SECRET_ENV}{FILE_SUFFIX})")
    if not _WEBHOOK_SECRET_RE.fullmatch(secret.value):
        raise ConfigError(secret.source, WEBHOOK_SECRET_ENV,
                          "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule), "
                          "e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return secret


DATABASE_PASSWORD_ENV = "DUTYDESK_DATABASE_PASSWORD"


def database_password(env: Mapping[str, str] | None = None) -> str | None:
    """The PostgreSQL password, never in the config file. None: the server needs none (trust, peer) or
    libpq's own PGPASSWORD / ~/.pgpass supplies it (asyncpg reads both)."""
    secret = read_secret(DATABASE_PASSWORD_ENV, env)
    return secret.value if secret is not None else None
