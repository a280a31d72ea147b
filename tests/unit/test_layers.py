"""The layers a newcomer relies on, read from the source (no database, no bot): the domain is plain
Python, handlers reach the app only through the typed context, SQL lives in storage/, and every
callback-data prefix is declared in bot/callbacks.py.

Each test names the file and the line that breaks the rule."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


_SQL_CALLS = {"execute", "executemany", "executescript", "execute_fetchall", "execute_insert"}
_SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH|SAVEPOINT|ROLLBACK|RELEASE|BEGIN|COMMIT|"
                        r"CREATE|DROP|ALTER|PRAGMA)\b")


def _sql(path: Path) -> Iterator[tuple[int, str]]:
    """(line, what) of every statement run and every SQL text written in the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in _SQL_CALLS or (name in ("fetchone", "fetchall") and node.args):  # Database.fetchone(sql)
                yield node.lineno, f".{name}("
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_START.match(node.value):
            yield node.lineno, repr(node.value[:40])


def test_sql_lives_in_storage() -> None:
    """Services, handlers, workers and the scheduler call storage/'s functions; only storage/ runs SQL."""
    paths = _sources("bot", "handlers", "reminders")
    hits = [f"{p.relative_to(ROOT)}:{line}: {what}" for p in paths for line, what in _sql(p)]
    assert hits == []


def test_the_sql_scan_sees_statements(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('async def f(tx, db, cur):\n    await tx.conn.execute("SAVEPOINT x")\n'
                     '    await db.fetchone(q)\n    await cur.fetchone()\n    q = """\n  UPDATE t SET a=1"""\n',
                     encoding="utf-8")
    assert sorted({line for line, _what in _sql(probe)}) == [2, 3, 5]


def _button_patterns() -> set[str]:
    """The pattern of every button handler of the whole bot (the one dialogue's states included)."""
    from telegram.ext import ApplicationBuilder, BaseHandler, CallbackQueryHandler, ConversationHandler, DictPersistence

    from handlers import register_all

    app = ApplicationBuilder().token("1:probe").persistence(DictPersistence()).build()
    register_all(app)

    def walk(handlers: list[BaseHandler[Any, Any, Any]]) -> Iterator[BaseHandler[Any, Any, Any]]:
        for h in handlers:
            if isinstance(h, ConversationHandler):
                yield from walk(list(h.entry_points) + [x for hs in h.states.values() for x in hs] + list(h.fallbacks))
            else:
                yield h

    return {h.pattern.pattern for hs in app.handlers.values() for h in walk(hs)
            if isinstance(h, CallbackQueryHandler) and isinstance(h.pattern, re.Pattern)}


_LEAD = re.compile(r"^\^\(?([a-z|]+)\)?:")


def test_every_callback_prefix_is_declared_with_its_grammar() -> None:
    """bot/callbacks.py declares each prefix a handler answers, and no prefix nobody answers."""
    from bot import callbacks as cb

    used: set[str] = set()
    for pattern in _button_patterns():
        lead = _LEAD.match(pattern)
        assert lead, f"a button handler's pattern names no prefix: {pattern!r}"
        used.update(lead.group(1).split("|"))
    assert sorted(used - set(cb.PREFIXES)) == [], "declare these in bot/callbacks.py PREFIXES"
    assert sorted(set(cb.PREFIXES) - used) == [], "declared, but no handler answers them"


def test_what_a_handler_accepts_its_prefix_parses() -> None:
    """Data a handler's pattern accepts (examples drawn from the pattern itself) is a shape its declared
    grammar names: a new button shape is declared before a handler answers it."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from bot import callbacks as cb

    exact = sorted(p for p in _button_patterns() if not p.endswith(":"))  # not a dialogue's stray catcher "^l:"
    assert len(exact) > 50

    @settings(max_examples=len(exact) * 8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.sampled_from(exact).flatmap(lambda p: st.from_regex(p, fullmatch=True)))
    def accepted(data: str) -> None:
        assert cb.parse(data) is not None, data

    accepted()


def test_the_parser_is_strict() -> None:
    from bot import callbacks as cb

    assert cb.parse("i:ack:12") == ("i", ("ack", "12"))
    assert cb.parse("nd:lv:secret") == ("nd", ("lv", "secret"))
    for bad in ("i:ack:12\n", "i:ack:1234567890123", "i:zap:1", "zz:ok", "", None, "nd:lv:", "l:s:x"):
        assert cb.parse(bad) is None, bad


def _calls(fn: ast.AST) -> set[str]:
    return {c.func.attr if isinstance(c.func, ast.Attribute) else c.func.id for c in ast.walk(fn)
            if isinstance(c, ast.Call) and isinstance(c.func, (ast.Attribute, ast.Name))}


def _catches_refusal(fn: ast.AST) -> bool:
    return any(isinstance(h, ast.ExceptHandler) and isinstance(h.type, ast.Name) and h.type.id == "ServiceError"
               for h in ast.walk(fn))


# Buttons whose id is optional (the same handler serves a command without one): not the pattern.
_OPTIONAL_ID = {"handlers/leave.py:back", "handlers/leave.py:withdraw"}


def _handler_functions() -> Iterator[tuple[str, ast.AsyncFunctionDef | ast.FunctionDef]]:
    """("handlers/x.py:name", function) for every function of the handlers but their shared helpers."""
    for path in _sources("handlers"):
        if path.name == "common.py":
            continue
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, ast.AsyncFunctionDef | ast.FunctionDef):
                yield f"{path.relative_to(ROOT)}:{fn.name}", fn


def test_a_button_use_case_goes_through_use_button() -> None:
    """guard → parse the id → use case → refusal is written once (handlers.common.use_button), not again
    in each handler: a function that guards, parses button data and catches a refusal itself repeats it."""
    repeated = []
    for where, fn in _handler_functions():
        calls = _calls(fn)
        if calls & {"guard", "guard_private"} and "parse_id" in calls and _catches_refusal(fn):
            repeated.append(where)
    assert sorted(set(repeated) - _OPTIONAL_ID) == []
    assert set(repeated) >= _OPTIONAL_ID, "an exemption no longer needed: drop it"


def test_a_step_with_buttons_and_text_goes_through_button_or_text() -> None:
    """A step that answers a press and reads typed text in one function uses handlers.common.button_or_text."""
    answers_first = r"if update\.callback_query is not None:\n\s+await answer_query\(update\)\n"
    repeated = []
    for where, fn in _handler_functions():
        src = ast.unparse(fn)
        if "read_text(" in src and re.search(answers_first, src):
            repeated.append(where)
    assert repeated == []


_SQLITE_ONLY = re.compile(r"INSERT OR |OR REPLACE|lastrowid|group_concat\(|json_group_array|json_extract\("
                          r"|json_array\(|\bchar\(|strftime\(|julianday\(|\bdatetime\(|\bPRAGMA\b|sqlite_master|total\(",
                          re.I)


def test_storage_sql_is_what_both_engines_read() -> None:
    """Storage SQL runs on SQLite and PostgreSQL alike: what only SQLite reads lives in storage/sql.py
    (the fragments that differ), storage/db.py (SQLite's own Database), storage/peek.py (the tests' look
    into either engine) and storage/transfer (which reads the SQLite file it moves), nowhere else; a
    line marked `sqlite-only` is an opener for the SQLite file."""
    own = {"db.py", "sql.py", "peek.py"}
    paths = [p for p in _sources("storage") if p.name not in own and "transfer" not in p.parts]
    hits = [f"{p.relative_to(ROOT)}:{n}: {m.group(0)}" for p in paths
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            for m in [_SQLITE_ONLY.search(line)]
            if m and not line.lstrip().startswith("#") and "sqlite-only" not in line]
    assert hits == []
