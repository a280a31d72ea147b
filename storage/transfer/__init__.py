"""Move a district's data from its SQLite file into an empty PostgreSQL schema, and prove it arrived.

`dutydesk migrate-db` (bot/cli_migrate.py) opens the target through PgDatabase, which creates the
schema, then calls `transfer()`: every table read from the SQLite schema (parents before children,
by their foreign keys), copied with COPY in ONE PostgreSQL transaction, each value converted to its
target column's type (SQLite keeps whatever it was given: an id written as text, a number in a TEXT
column); every identity sequence moved past the largest id; then row counts and a sample of rows
compared field by field. Nothing is committed unless every table copied and verified.

Every refusal is a `TransferError` subclass whose fields the command line words (catalog cli.migrate_*).
Inside: _tables (what is read and its plan), _values (what each value becomes), _copy (the one
transaction), _check (the proof), _errors.
"""

from __future__ import annotations

from storage.transfer._check import SAMPLE, Report, TableCheck
from storage.transfer._copy import transfer
from storage.transfer._errors import (
    BadValue,
    NotDutyDesk,
    NotVerified,
    SchemaMismatch,
    TargetNotEmpty,
    TransferError,
    WrongVersion,
)
from storage.transfer._tables import NOT_MOVED, code_version, open_source
from storage.transfer._values import UNFIT_REASONS

__all__ = [
    "NOT_MOVED", "SAMPLE", "UNFIT_REASONS", "BadValue", "NotDutyDesk", "NotVerified", "Report", "SchemaMismatch",
    "TableCheck", "TargetNotEmpty", "TransferError", "WrongVersion", "code_version", "open_source", "transfer",
]
