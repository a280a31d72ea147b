"""Every catalog text the code asks for by a literal key exists, in zh and en, and is given every
placeholder its template names: a missing key shows the key itself to the person, a missing
placeholder raises KeyError where the text is rendered (the /duty log day label did, after the
template changed). Read from the source, so a call added later is checked too."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from bot.i18n import load_catalog

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("bot", "handlers", "reminders", "storage") for p in sorted((ROOT / d).rglob("*.py"))]
# How the code reaches the catalog: services' `s.texts(…)` / `t(…)`, handlers' `ctx.t(…)`.
CALLEES = {"texts", "t"}


def _callee(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return None


def catalog_calls() -> list[tuple[str, int, str, set[str] | None]]:
    """(file, line, key, keyword names — None when a **mapping is passed too) for every call."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _callee(node) in CALLEES and node.args):
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str) and "." in first.value):
                continue
            if " " in first.value or len(node.args) > 1:
                continue  # not a catalog key (e.g. a format string to another `t`)
            names = None if any(k.arg is None for k in node.keywords) else {k.arg for k in node.keywords if k.arg}
            found.append((str(path.relative_to(ROOT)), node.lineno, first.value, names))
    return found


def placeholders(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


CALLS = catalog_calls()


def test_the_scan_finds_the_calls() -> None:
    assert len(CALLS) > 500  # a scan that found nothing would pass every check below


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_key_asked_for_exists(lang: str) -> None:
    catalog = load_catalog(lang)
    missing = sorted({f"{f}:{line}: {key}" for f, line, key, _ in CALLS if key not in catalog})
    assert not missing, missing


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_placeholder_is_given(lang: str) -> None:
    catalog = load_catalog(lang)
    short = []
    for f, line, key, names in CALLS:
        if names is None or key not in catalog:
            continue
        needed = placeholders(catalog[key])
        if needed - names:  # (none given at all: the person would see "{name}" itself)
            short.append(f"{f}:{line}: {key} lacks {sorted(needed - names)}")
    assert not short, short
