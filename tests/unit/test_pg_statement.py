"""storage.pg.statement: qmark parameters become $n, string literals keep their question marks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storage.pg import statement


def test_numbers_in_order() -> None:
    assert statement("SELECT * FROM t WHERE a=? AND b IN (?,?)").text == "SELECT * FROM t WHERE a=$1 AND b IN ($2,$3)"


def test_literals_keep_their_marks() -> None:
    st_ = statement("SELECT '?', 'it''s ?' FROM t WHERE a=?")
    assert st_.text == "SELECT '?', 'it''s ?' FROM t WHERE a=$1"


def test_which_return_rows() -> None:
    assert statement("SELECT 1").returns_rows
    assert statement("  with x as (select 1) select * from x").returns_rows
    assert statement("INSERT INTO t(a) VALUES (?) RETURNING id").returns_rows
    assert not statement("UPDATE t SET a=? WHERE id=?").returns_rows


@given(st.lists(st.sampled_from(["a=?", "'x?y'", "b", "'it''s?'", "?"]), max_size=12))
def test_every_mark_outside_literals_is_numbered_once(parts: list[str]) -> None:
    sql = "SELECT " + " , ".join(parts)
    text = statement(sql).text
    marks = sum(p.count("?") for p in parts if not p.startswith("'"))
    assert [f"${i}" in text for i in range(1, marks + 1)] == [True] * marks
    assert f"${marks + 1}" not in text
    assert text.count("?") == sum(p.count("?") for p in parts if p.startswith("'"))
