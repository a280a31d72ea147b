"""storage/transfer's rules without a database server: values as SQLite may hold them converted to their
PostgreSQL column's type (what fits is converted, what does not is refused with a reason, never
guessed), and the tables read from SQLite's schema in an order foreign keys allow."""

from __future__ import annotations

import pytest

from storage.transfer._values import Column, Unfit, converter


def conv(kind: str, value: object, nullable: bool = True) -> object:
    return converter(Column("c", kind, nullable))(value)


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("bigint", 12, 12), ("bigint", "12", 12), ("bigint", " -7 ", -7), ("bigint", 3.0, 3), ("bigint", True, 1),
    ("bigint", 2**63 - 1, 2**63 - 1), ("integer", 2**31 - 1, 2**31 - 1),
    ("double precision", 34.7466, 34.7466), ("double precision", 3, 3.0), ("double precision", "1.5", 1.5),
    ("text", "<张&三> 🚒", "<张&三> 🚒"), ("text", 5, "5"), ("text", b"abc", "abc"), ("text", "", ""),
    ("boolean", 1, True), ("boolean", 0, False), ("bytea", b"\x00\xff", b"\x00\xff"),
    ("bigint", None, None), ("text", None, None),
])
def test_what_fits_is_converted(kind: str, value: object, expected: object) -> None:
    got = conv(kind, value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(("kind", "value", "reason"), [
    ("bigint", "yes", "not_whole"), ("bigint", 1.5, "not_whole"), ("bigint", "1.0", "not_whole"),
    ("bigint", b"1", "not_whole"), ("bigint", 2**63, "out_of_range"), ("integer", 2**31, "out_of_range"),
    ("double precision", "abc", "not_number"), ("text", b"\xff\xfe", "not_utf8"), ("text", "a\x00b", "nul"),
    ("boolean", 2, "not_bool"),
])
def test_what_does_not_fit_is_refused_with_the_reason(kind: str, value: object, reason: str) -> None:
    with pytest.raises(Unfit) as err:
        conv(kind, value)
    assert str(err.value) == reason


def test_null_in_a_not_null_column_is_refused() -> None:
    with pytest.raises(Unfit, match="null"):
        conv("text", None, nullable=False)
    assert conv("text", "", nullable=False) == ""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_reason_has_its_words(lang: str) -> None:
    from bot.i18n import TerminalTexts
    from storage.transfer import UNFIT_REASONS

    t = TerminalTexts(lang)
    assert [r for r in UNFIT_REASONS if not t.has(f"cli.migrate_value_{r}")] == []


def test_tables_come_parents_first_and_a_cycle_is_refused() -> None:
    import sqlite3

    from storage.transfer import NotDutyDesk
    from storage.transfer._tables import source_tables

    conn = sqlite3.connect(":memory:")
    conn.executescript("""
        CREATE TABLE c (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id), a_id INTEGER REFERENCES a(id));
        CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), up INTEGER REFERENCES b(id));
        CREATE TABLE a (code TEXT, n INTEGER, PRIMARY KEY (n, code)) WITHOUT ROWID;
        CREATE TABLE desk_instances (instance TEXT PRIMARY KEY);
    """)
    tables = source_tables(conn)
    assert [t.name for t in tables] == ["a", "b", "c"]  # b's reference to itself does not hold it back
    assert (tables[0].key, tables[0].rowid, tables[1].key, tables[1].rowid) == (("n", "code"), False, ("id",), True)
    conn.executescript("CREATE TABLE d (id INTEGER PRIMARY KEY, e_id INTEGER REFERENCES e(id));"
                       "CREATE TABLE e (id INTEGER PRIMARY KEY, d_id INTEGER REFERENCES d(id));")
    with pytest.raises(NotDutyDesk, match="cycle among d, e"):
        source_tables(conn)
