"""Typed configuration loaded from one TOML file.

Policy (deadlines, quotas, chains, units) lives here, not in code; the only secret,
the bot token, comes from the environment and is never part of the file.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CONFIG_PATH = Path("dutydesk.toml")
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
UNIT_KINDS = ("street", "bureau", "office")
ROLES = ("officer", "unit_head", "duty", "director", "leader", "admin", "info_editor")


class ConfigError(Exception):
    """A configuration problem, phrased for the person editing the file."""

    def __init__(self, path: Path | str, key: str, problem: str, line: int | None = None):
        self.path, self.key, self.problem, self.line = str(path), key, problem, line
        where = f"{self.path}" + (f":{line}" if line else "")
        super().__init__(f"{where}: [{key}] {problem}")


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `2h`, `3d` → timedelta; anything else raises ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"duration must be a string like '15m', got {text!r}")
    m = _DURATION_RE.match(text)
    if not m:
        raise ValueError(f"bad duration {text!r}: write a number and s/m/h/d, e.g. '90s', '15m', '2h', '3d'")
    return timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2)])


def format_duration(td: timedelta) -> str:
    secs = int(td.total_seconds())
    for suffix, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs and secs % size == 0:
            return f"{secs // size}{suffix}"
    return f"{secs}s"


# --- sections -------------------------------------------------------------------------


@dataclass(frozen=True)
class General:
    timezone: str = "Asia/Shanghai"
    language: str = "zh"
    database: str = "dutydesk.sqlite3"
    city: str = "郑州"
    district: str = "中原区"


@dataclass(frozen=True)
class Telegram:
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str = ""
    poll_interval: timedelta = timedelta(seconds=0)
    max_retries: int = 5


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str = "street"
    name_en: str = ""


@dataclass(frozen=True)
class IncidentPolicy:
    first_report: timedelta = timedelta(hours=1)
    written_report: timedelta = timedelta(hours=2)
    full_report: timedelta = timedelta(hours=3)
    followup_every: timedelta = timedelta(hours=4)
    remind_before: tuple[timedelta, ...] = (timedelta(minutes=15),)
    forward_target: timedelta = timedelta(minutes=10)
    forward_remind: timedelta = timedelta(minutes=8)
    max_backdate: timedelta = timedelta(days=7)
    major_categories: tuple[str, ...] = ("fire", "collapse", "mass")


@dataclass(frozen=True)
class Upstream:
    webhook_url: str = ""
    timeout: timedelta = timedelta(seconds=10)
    retries: int = 3


@dataclass(frozen=True)
class Invites:
    default_expiry: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Config:
    general: General = field(default_factory=General)
    telegram: Telegram = field(default_factory=Telegram)
    units: tuple[Unit, ...] = ()
    incident: IncidentPolicy = field(default_factory=IncidentPolicy)
    upstream: Upstream = field(default_factory=Upstream)
    invites: Invites = field(default_factory=Invites)
    source: str = "<defaults>"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.general.timezone)

    @property
    def database_path(self) -> Path:
        p = Path(self.general.database)
        if not p.is_absolute() and self.source not in ("<defaults>", "<string>"):
            p = Path(self.source).resolve().parent / p
        return p

    def unit(self, code: str) -> Unit | None:
        return next((u for u in self.units if u.code == code), None)

    def replace(self, **sections: Any) -> Config:
        return dataclasses.replace(self, **sections)


def token_from_env(env: typing.Mapping[str, str] | None = None) -> str:
    token = (env if env is not None else os.environ).get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError("environment", TOKEN_ENV, "is not set: put the token from @BotFather in the environment")
    return token


# --- loading --------------------------------------------------------------------------


def _line_of(text: str, key: str) -> int | None:
    """Best-effort line number of `key = …` or `[key]`, so errors point at the file."""
    leaf = key.split(".")[-1].split("[")[0]
    pat = re.compile(rf"^\s*(\[+\s*{re.escape(leaf)}\s*\]+|{re.escape(leaf)}\s*=)")
    for i, line in enumerate(text.splitlines(), 1):
        if pat.search(line):
            return i
    return None


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is timedelta:
        return parse_duration(value)
    if origin is tuple:
        (inner, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ValueError(f"expected a list, got {type(value).__name__}")
        return tuple(_convert(inner, v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(args[0], value, key)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(f"expected a table, got {type(value).__name__}")
        return _build(tp, value, key)
    if tp is int and isinstance(value, bool):
        raise ValueError("expected an integer")
    if tp in (int, str, bool) and not isinstance(value, tp):
        raise ValueError(f"expected {tp.__name__}, got {type(value).__name__} {value!r}")
    return value


class _KeyError(Exception):
    def __init__(self, key: str, problem: str):
        self.key, self.problem = key, problem


def _build(cls: Any, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    kwargs: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else k
        if k not in names:
            raise _KeyError(key, f"unknown key; expected one of: {', '.join(sorted(names))}")
        try:
            kwargs[k] = _convert(hints[k], v, key)
        except _KeyError:
            raise
        except ValueError as exc:
            raise _KeyError(key, str(exc)) from None
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise _KeyError(prefix or "config", f"missing required key ({exc})") from None


def _validate(cfg: Config) -> None:
    seen: set[str] = set()
    for i, u in enumerate(cfg.units):
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", u.code):
            raise _KeyError(f"units[{i}].code", f"bad unit code {u.code!r}: use lowercase latin letters, digits, _")
        if u.code in seen:
            raise _KeyError(f"units[{i}].code", f"duplicate unit code {u.code!r}")
        seen.add(u.code)
        if u.kind not in UNIT_KINDS:
            raise _KeyError(f"units[{i}].kind", f"unknown kind {u.kind!r}; expected one of {', '.join(UNIT_KINDS)}")
    try:
        ZoneInfo(cfg.general.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _KeyError("general.timezone", f"unknown time zone {cfg.general.timezone!r}") from None
    if cfg.general.language not in ("zh", "en"):
        raise _KeyError("general.language", "must be 'zh' or 'en'")
    inc = cfg.incident
    if not (inc.first_report <= inc.written_report <= inc.full_report):
        raise _KeyError("incident", "deadlines must grow: first_report ≤ written_report ≤ full_report")
    if inc.forward_remind >= inc.forward_target:
        raise _KeyError("incident.forward_remind", "must be shorter than forward_target")


def loads(text: str, source: str = "<string>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(source, "syntax", str(exc), int(m.group(1)) if m else None) from None
    try:
        cfg = _build(Config, data, "")
        cfg = dataclasses.replace(cfg, source=source)
        _validate(cfg)
    except _KeyError as exc:
        raise ConfigError(source, exc.key, exc.problem, _line_of(text, exc.key)) from None
    return cfg


def load(path: Path | str | None = None) -> Config:
    p = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(p, "file", "not found: create one with `dutydesk init`") from None
    return loads(text, str(p))
