"""What a value SQLite holds becomes in its PostgreSQL column: converted when it fits, refused with a
reason when it does not (SQLite keeps whatever it was given: a number as text, text in an INTEGER column)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
_INT_TEXT = re.compile(r"[+-]?\d+")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def clip(v: Any) -> str:
    """A value as an error message shows it: repr, at most 60 characters."""
    if isinstance(v, bytes):  # read as bytes to find text that is not UTF-8 (_copy.find_undecodable)
        v = v.decode("utf-8", errors="backslashreplace")
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # information_schema data_type: bigint, text, double precision …
    nullable: bool


UNFIT_REASONS = ("not_whole", "out_of_range", "not_number", "not_utf8", "not_text", "nul", "null", "not_bool",
                 "not_bytes")


class Unfit(ValueError):
    """Why a value does not fit its column, as a code (BadValue.reason): not_whole, out_of_range,
    not_number, not_utf8, not_text, nul, null, not_bool, not_bytes."""


def _to_int(bits: int) -> Callable[[Any], int]:
    limit = bits

    def convert(v: Any) -> int:
        if isinstance(v, bool):
            n = int(v)
        elif isinstance(v, int):
            n = v
        elif isinstance(v, float) and v.is_integer():
            n = int(v)
        elif isinstance(v, str) and _INT_TEXT.fullmatch(v.strip()):
            n = int(v.strip())
        else:
            raise Unfit("not_whole")
        if not -limit <= n < limit:
            raise Unfit("out_of_range")
        return n

    return convert


def _to_float(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            pass
    raise Unfit("not_number")


def _to_text(v: Any) -> str:
    if isinstance(v, bytes):
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError:
            raise Unfit("not_utf8") from None
    if isinstance(v, float):
        v = repr(v)
    elif isinstance(v, int):
        v = str(v)
    if not isinstance(v, str):
        raise Unfit("not_text")
    if "\x00" in v:
        raise Unfit("nul")
    return v


def _to_bool(v: Any) -> bool:
    if v in (0, 1) and not isinstance(v, float):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in ("0", "1", "true", "false"):
        return v.strip().lower() in ("1", "true")
    raise Unfit("not_bool")


def _to_bytes(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    raise Unfit("not_bytes")


def converter(column: Column) -> Callable[[Any], Any]:
    """SQLite's value → what asyncpg writes into `column`; raises Unfit with the reason (LookupError: a
    column type this does not know)."""
    t = column.type
    if t in INT_RANGES:
        base: Callable[[Any], Any] = _to_int(INT_RANGES[t])
    elif t in ("double precision", "real", "numeric"):
        base = _to_float
    elif t in ("text", "character varying", "character", "json", "jsonb"):
        base = _to_text
    elif t == "boolean":
        base = _to_bool
    elif t == "bytea":
        base = _to_bytes
    else:
        raise LookupError(f"{column.name} ({t})")  # a type no DutyDesk schema uses

    def convert(v: Any) -> Any:
        if v is None:
            if not column.nullable:
                raise Unfit("null")
            return None
        return base(v)

    return convert


def fits(name: str, column: Column) -> str:
    """SQL true when SQLite holds the value as the very thing asyncpg writes into `column` unchanged
    (nearly every row): those rows skip the converters, which cost 3/4 of the move's time."""
    c = quote(name)
    t = column.type
    if t == "bigint":
        test = f"typeof({c}) = 'integer'"
    elif t in INT_RANGES:
        test = f"typeof({c}) = 'integer' AND {c} BETWEEN {-INT_RANGES[t]} AND {INT_RANGES[t] - 1}"
    elif t in ("double precision", "real"):
        test = f"typeof({c}) = 'real'"
    elif t in ("text", "character varying"):
        test = f"typeof({c}) = 'text' AND instr({c}, char(0)) = 0"
    else:
        return "0"
    return f"({c} IS NULL OR {test})" if column.nullable else f"({test})"
