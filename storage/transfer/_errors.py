"""What can stop the move, for the command line to word (catalog cli.migrate_*). Nothing was committed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.transfer._check import Report


class TransferError(Exception):
    """The move cannot go on; nothing was committed in the target."""


@dataclass
class NotDutyDesk(TransferError):
    path: str
    reason: str  # why, in SQLite's words or ours


@dataclass
class WrongVersion(TransferError):
    path: str
    found: int
    expected: int


@dataclass
class TargetNotEmpty(TransferError):
    counts: list[tuple[str, int]]  # tables that hold rows, and how many


@dataclass
class SchemaMismatch(TransferError):
    table: str
    column: str  # '' when the whole table is missing from the target


@dataclass
class BadValue(TransferError):
    table: str
    row: str  # the row's key as `id=12` or `notice_id=3, member_id=5`
    column: str
    value: str  # repr, clipped
    reason: str  # a code: see storage.transfer._values.UNFIT_REASONS


@dataclass
class NotVerified(TransferError):
    report: Report
