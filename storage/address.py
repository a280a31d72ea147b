"""What a database address says, in plain Python (no driver imported): the config file's check,
storage.engine's choice and storage.pg's schema all read it here."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

SCHEMES = ("postgresql://", "postgres://")
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def is_postgres_url(target: str) -> bool:
    return target.startswith(SCHEMES)


def schema_of(dsn: str) -> str | None:
    """The schema `?search_path=NAME` names, or None."""
    values = parse_qs(urlsplit(dsn).query).get("search_path")
    return values[0] if values else None


def plain_schema_name(name: str) -> bool:
    """Letters, digits and _, not starting with a digit: safe to quote into DDL."""
    return _SCHEMA_NAME.fullmatch(name) is not None
