"""The layers a newcomer relies on, read from the source (no database, no bot): the domain is plain
Python, handlers reach the app only through the typed context, SQL lives in storage/, and every
callback-data prefix is declared in bot/callbacks.py.

Each test names the file and the line that breaks the rule."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the file, those inside functions too; `from x import y` gives x.y."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _hits(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return sorted({
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in paths for line, module in _imports(path)
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    })


def test_the_domain_is_plain_python() -> None:
    """bot/domain: no config, scheduler, Telegram, database or use-case layer (config builds domain types)."""
    forbidden = ("bot.config", "apscheduler", "telegram", "storage", "aiosqlite", "sqlite3", "bot.services",
                 "bot.app", "handlers", "reminders", "httpx")
    paths = _sources("bot/domain")
    assert paths
    assert _hits(paths, forbidden) == []


def test_the_import_walk_sees_imports_inside_functions(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from bot.config import Config\n    import apscheduler.triggers\n", encoding="utf-8")
    assert [m for _line, m in _imports(probe)] == ["bot.config", "bot.config.Config", "apscheduler.triggers"]


def test_handlers_do_not_import_the_app() -> None:
    """Handlers get their dependencies from bot/context.py (DeskContext, Deps), never from bot/app.py,
    which builds them and imports handlers in turn."""
    paths = _sources("handlers")
    assert paths
    assert _hits(paths, ("bot.app",)) == []
