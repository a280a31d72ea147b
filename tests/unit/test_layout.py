"""tests/unit holds what needs no database and no emulator: a test that opens either lives in
tests/integration (or tests/e2e), so a reader knows which is which and the unit run stays quick."""

from __future__ import annotations

import ast
from pathlib import Path

UNIT = Path(__file__).resolve().parent
# Modules that open a database, start the emulator or the bot; the emulator's HTML parser is plain code.
OPENS = ("aiosqlite", "sqlite3", "storage.db", "storage.uow", "storage.persistence", "bot.harness", "bot.app")
PLAIN_FROM_EMULATOR = {"parse_html", "HtmlParseError"}
FIXTURES = {"desk", "cast", "emu", "running_app"}


def _imports(tree: ast.AST) -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


def test_unit_tests_open_no_database_and_no_emulator() -> None:
    wrong = []
    for path in sorted(UNIT.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for module, names in _imports(tree):
            if module.startswith(OPENS) or (module.startswith("bot.emulator") and not names <= PLAIN_FROM_EMULATOR):
                wrong.append(f"{path.name} imports {module} {sorted(names)}")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                used = {a.arg for a in node.args.args} & FIXTURES
                if used:
                    wrong.append(f"{path.name}::{node.name} takes {sorted(used)}")
    assert not wrong, "move these to tests/integration:\n" + "\n".join(wrong)


def test_the_guard_sees_a_database() -> None:
    tree = ast.parse("from storage.db import Database\nasync def test_x(desk): pass\n")
    assert any(module.startswith(OPENS) for module, _names in _imports(tree))
