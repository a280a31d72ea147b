"""The few SQL fragments that differ between SQLite and PostgreSQL; everything else is written once.

A storage function asks with its connection: `storage.pg.PgConnection` says `dialect = "postgresql"`,
aiosqlite's connection says nothing and is SQLite.
"""

from __future__ import annotations

from storage.conn import Conn

POSTGRESQL = "postgresql"
SQLITE = "sqlite"


def dialect(conn: Conn) -> str:
    return str(getattr(conn, "dialect", SQLITE))


def is_pg(conn: Conn) -> bool:
    return dialect(conn) == POSTGRESQL


def comma_list(conn: Conn, expr: str) -> str:
    """An aggregate joining `expr` with commas (NULL when there are none)."""
    return f"string_agg({expr}, ',')" if is_pg(conn) else f"group_concat({expr})"


def json_rows(conn: Conn, *exprs: str) -> str:
    """An aggregate giving a JSON array of arrays, one per row ('[]' when there are none)."""
    inner = ", ".join(exprs)
    if is_pg(conn):
        return f"coalesce(json_agg(json_build_array({inner}))::text, '[]')"
    return f"json_group_array(json_array({inner}))"


def json_true(conn: Conn, column: str, key: str) -> str:
    """A predicate: the JSON text in `column` has `key` set to true."""
    if is_pg(conn):
        return f"(({column})::json ->> '{key}') = 'true'"
    return f"coalesce(json_extract({column}, '$.{key}'), 0) = 1"


def greatest(conn: Conn, a: str, b: str) -> str:
    """The larger of two values (SQLite's two-argument max())."""
    return f"greatest({a}, {b})" if is_pg(conn) else f"max({a}, {b})"
