"""Which engine a desk runs on: a `postgresql://` address is PostgreSQL (storage/pg.py), anything else
is a SQLite file (storage/db.py). Both give the same interface to the rest of the code."""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

from storage.address import is_postgres_url
from storage.db import Database
from storage.pg import PgDatabase

AnyDatabase: TypeAlias = Database | PgDatabase


def database(target: str | Path, *, password: str | None = None) -> AnyDatabase:
    if isinstance(target, str) and is_postgres_url(target):
        return PgDatabase(target, password=password)
    return Database(target)
