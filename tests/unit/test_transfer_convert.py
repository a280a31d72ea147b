"""Values as SQLite may hold them, converted to their PostgreSQL column's type (storage/transfer/_values.py):
what fits is converted, what does not is refused with a reason, never guessed."""

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
