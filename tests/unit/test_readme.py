"""The README's facts are the code's: configuration defaults, the seeded units, the Python
version, the `slow` marker, and every command, option, chat command and environment variable
it names — so they cannot drift apart again."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
import shlex
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import config as cfg
from bot.cli import example_config, parser
from bot.services.registration import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _table_rows() -> list[tuple[str, str]]:
    """(keys, default) of every row of the configuration reference table."""
    lines = README.split("| section.key | default | meaning |", 1)[1].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append((cells[0], cells[1]))
    return rows


def _code_default(dotted: str) -> Any:
    section, key = dotted.split(".")
    return getattr(getattr(cfg.Config(), section), key)


def _shown(value: Any) -> Any:
    """A default as the README writes it: durations `2h`, booleans as TOML (`false`), lists as their items."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return cfg.format_duration(value)
    if isinstance(value, tuple):
        return [_shown(v) for v in value]
    return str(value)


def _readme_literal(text: str) -> Any:
    inner = text.strip("`")
    if inner.startswith("["):
        return [_readme_literal(item.strip().strip('"')) for item in inner.strip("[]").split(",")]
    if ", " in inner:
        return [item.strip() for item in inner.split(",")]
    return inner


# Defaults the table describes in words rather than as a value: what each word must mean.
DESCRIBED = {
    "Telegram's": lambda value: str(value).startswith("https://api.telegram.org/"),
    "from getMe": lambda value: value == "",  # empty: the username the bot reported at start-up
    "off": lambda value: value == "",
}


def test_configuration_table_defaults_are_the_code_defaults() -> None:
    rows = [(keys, default) for keys, default in _table_rows() if not keys.startswith("[[units]]")]
    assert len(rows) >= 15, rows
    checked = 0
    for keys, default in rows:
        first, *more = [k.strip() for k in keys.split(" / ")]
        section = first.split(".")[0]
        dotted = [first, *(f"{section}.{k}" for k in more)]
        shown = [default] * len(dotted) if default in DESCRIBED else [d.strip() for d in default.split(" / ")]
        assert len(shown) == len(dotted), (keys, default)
        for key, text in zip(dotted, shown, strict=True):
            value = _code_default(key)  # an AttributeError here: the README names a key the code lacks
            if text in DESCRIBED:
                assert DESCRIBED[text](value), (key, text, value)
            else:
                assert _readme_literal(text) == _shown(value), (key, text, value)
            checked += 1
    assert checked >= 20


def test_the_example_config_shows_the_code_defaults() -> None:
    """Apart from the units it seeds, `dutydesk init`'s file sets what the code would anyway."""
    example, defaults = cfg.loads(example_config()), cfg.Config()
    for f in dataclasses.fields(cfg.Config):
        if f.name not in ("units", "source"):
            assert getattr(example, f.name) == getattr(defaults, f.name), f.name


def test_the_seeded_units_are_the_example_configs() -> None:
    listed = re.search(r"\(units: ([^)]*)\)", README)
    assert listed, "the README lists the seeded units as (units: A, B, …)"
    names = [n.strip() for n in re.split(r",\s*", listed.group(1).replace("\n", " "))]
    assert names == [u.name for u in cfg.loads(example_config()).units]


def test_the_python_version_is_pyprojects() -> None:
    stated = re.search(r"Requires Python (\d+\.\d+) or later", README)
    assert stated, "the README says which Python it needs"
    assert PYPROJECT["project"]["requires-python"] == f">={stated.group(1)}"


def _slow_marked_tests() -> list[str]:
    found = []
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    "mark.slow" in ast.unparse(d) for d in node.decorator_list):
                found.append(f"{path.name}::{node.name}")
    return found


def test_the_slow_marker_is_described_alike_and_truly() -> None:
    marker = next(m for m in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"] if m.startswith("slow:"))
    in_pyproject = re.search(r"\((.*)\)", marker)
    in_readme = re.search(r"Slow tests \((.*?)\) are excluded by default", README)
    assert in_pyproject and in_readme and in_pyproject.group(1) == in_readme.group(1)
    assert "-m 'not slow'" in PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"]
    slow = _slow_marked_tests()
    # what the description says they are: the broadcast, the demo, the chaos runs, the fuzz runs at length
    assert slow and all("broadcast" in name or name.endswith("_at_length") or "test_chaos" in name
                        or "test_demo.py" in name for name in slow), slow
    assert "chaos" in marker and "demo" in marker  # real-clock runs, out of the default run as the README says
    assert any("test_chaos" in name for name in slow) and any("test_demo.py" in name for name in slow)


def _cli_examples() -> list[str]:
    """Every `dutydesk …` the README shows, in code spans and code blocks."""
    snippets = re.findall(r"`([^`\n]+)`", README) + re.findall(r"```\w*\n(.*?)```", README, re.S)
    found = []
    for snippet in snippets:
        for part in re.split(r"&&|;|\n", snippet):
            part = part.strip()
            if part.startswith("dutydesk ") or part == "dutydesk":
                found.append(part)
    return found


def test_every_dutydesk_command_and_option_in_the_readme_exists() -> None:
    examples = _cli_examples()
    commands = {e.split()[1] for e in examples if len(e.split()) > 1}
    assert {"init", "run", "demo", "invite", "members", "backup", "roster"} <= commands, commands
    for example in examples:
        plain = re.sub(r"\$\([^)]*\)", "X", example).replace("[", "").replace("]", "")  # $(date +%F), [optional]
        argv = shlex.split(plain)[1:]
        try:
            parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"README shows `{example}`, which the command line refuses")


def test_every_chat_command_in_the_readme_exists() -> None:
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    for example in _cli_examples():  # their paths (/backups) are not chat commands
        prose = prose.replace(example, "")
    named = set(re.findall(r"(?<![\w/.~-])/([a-z_]+)(?![\w/.])", prose))
    assert len(named) > 15
    assert named <= {name for name, _roles in COMMANDS}, named - {name for name, _roles in COMMANDS}


def test_every_environment_variable_in_the_readme_is_read() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot").rglob("*.py"))
    named = set(re.findall(r"\b((?:TELEGRAM|DUTYDESK)_[A-Z_]+)\b", README))
    assert {"TELEGRAM_BOT_TOKEN", "DUTYDESK_WEBHOOK_SECRET"} <= named
    for name in named:  # a NAME_FILE is read as NAME + FILE_SUFFIX
        assert name in source or name.removesuffix("_FILE") in source, name


def test_the_options_in_the_readme_are_the_parsers() -> None:
    """Options named in prose (`--webhook-secret-file PATH`, `--sizes`) exist in the command that
    has them: dutydesk, python -m bench or python -m bench.chaos."""
    known = _known_options()
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", README))
    assert {"--config", "--webhook-url", "--webhook-secret-file", "--expires", "--sizes", "--faults"} <= named
    assert named <= known, named - known


def _known_options() -> set[str]:
    from bench import chaos
    from bench.__main__ import parser as bench_parser

    known = {f"--{dest.replace('_', '-')}" for dest in vars(chaos.parse_args([]))}
    stack = [parser(), bench_parser()]
    while stack:
        p = stack.pop()
        for action in p._actions:
            known.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
    return known


def test_the_office_buttons_belong_to_the_roles_the_readme_names() -> None:
    """已收到 / 已上报市委 / 要求补充 are the office's (#24): the README names exactly their roles, and
    says of no unit role (the office head, the chief) that it acknowledges."""
    from bot.domain.members import PERMISSIONS, Action, Role
    from bot.i18n import Texts

    t = Texts("zh")
    office = {PERMISSIONS[a] for a in (Action.ACK_ALERT, Action.FORWARD_UPSTREAM, Action.ASK_REPORTER)}
    assert len(office) == 1
    roles = office.pop()
    line = re.search(r"「已收到」「已上报市委」「要求补充」只属于(.*?)；", README)
    assert line is not None
    named = set(re.split(r"、|和", line.group(1)))
    assert named == {t(f"core.roles.{r.value}") for r in roles}
    assert Role.UNIT_HEAD not in roles and Role.UNIT_CHIEF not in roles
    chief = README.split("`unit_chief` is the unit's chief", 1)[1].split("\n\n", 1)[0]
    assert "may acknowledge" not in chief and "office's buttons" in chief


def test_the_performance_notes_name_real_options_and_no_commits() -> None:
    """docs/PERFORMANCE.md (where the README sends readers for figures) names the bench's own options,
    and dates figures rather than pinning them to commit hashes."""
    notes = (ROOT / "docs" / "PERFORMANCE.md").read_text(encoding="utf-8")
    assert "python -m bench" in notes and "2 cores" in notes
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", notes))
    assert {"--sizes", "--runs"} <= named
    assert named <= _known_options(), named - _known_options()
    hashes = [w for w in re.findall(r"\b[0-9a-f]{7,40}\b", notes) if re.search(r"[a-f]", w) and re.search(r"\d", w)]
    assert not hashes, hashes
