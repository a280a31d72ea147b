"""The text catalog: en mirrors zh file by file and key by key, every template formats and
is valid Telegram HTML, and every key the code names literally exists.

zh is the reference (bot/i18n.py). Tests are parametrised per catalog file so a failure
names the file, e.g. ``test_same_keys[leave]``.
"""

from __future__ import annotations

import ast
import re
import string
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from bot.emulator import HtmlParseError, parse_html
from bot.i18n import CATALOG_DIR, LANGUAGES, Texts, load_catalog, placeholders

ROOT = Path(__file__).resolve().parents[2]
ZH_DIR, EN_DIR = CATALOG_DIR / "zh", CATALOG_DIR / "en"
ZH_STEMS = sorted(p.stem for p in ZH_DIR.glob("*.toml"))
EN_STEMS = sorted(p.stem for p in EN_DIR.glob("*.toml"))

# Values tried for every placeholder at once: int satisfies `{month:02d}` and `{lat:.5f}`,
# float covers `{x:.1%}`-style specs, str anything else.
DUMMIES: tuple[object, ...] = (1, 1.0, "x")

# Literal keys in code: t("a.b"), texts("a.b"), ctx.t("a.b"), s.texts("a.b"), plus the
# ServiceError("a.b") / Texts(lang)("a.b") forms that reach the catalog the same way.
KEY_CALL_RE = re.compile(
    r'(?:\bt|texts|\.t|\bServiceError|\bTexts\(\w*\))\(\s*(f?)"([a-z_]+\.[a-z0-9_.]+)"'
)
_TAG_RE = re.compile(r"</?([a-zA-Z][\w-]*)")


def _flat(prefix: str, data: dict[str, object], out: dict[str, str]) -> dict[str, str]:
    for k, v in data.items():
        if isinstance(v, dict):
            _flat(f"{prefix}.{k}", v, out)
        else:
            out[f"{prefix}.{k}"] = str(v)
    return out


def _load(lang: str, stem: str) -> dict[str, str]:
    path = CATALOG_DIR / lang / f"{stem}.toml"
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing (zh has {stem}.toml)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        pytest.fail(f"{path.relative_to(ROOT)}: invalid TOML: {exc}")
    return _flat(stem, data, {})


def _fields(template: str) -> set[str]:
    """Each replacement field as written, e.g. `{lat:.5f}`, `{name}`, `{x!r}`."""
    out = set()
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is not None:
            out.add("{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}")
    return out


def _format(template: str) -> str:
    names = placeholders(template)
    errors = []
    for dummy in DUMMIES:
        try:
            return template.format(**{n: dummy for n in names})
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            errors.append(f"{dummy!r}: {exc!r}")
    raise AssertionError("does not format with dummy values: " + "; ".join(errors))


def _both(stem: str) -> tuple[dict[str, str], dict[str, str]]:
    return _load("zh", stem), _load("en", stem)


# --- files and keys ---------------------------------------------------------------------


def test_catalog_dirs_have_files() -> None:
    assert ZH_STEMS, f"no catalog files in {ZH_DIR}"
    assert "core" in ZH_STEMS


@pytest.mark.parametrize("stem", ZH_STEMS)
def test_en_file_exists(stem: str) -> None:
    path = EN_DIR / f"{stem}.toml"
    assert path.exists(), f"bot/catalog/en/{stem}.toml is missing (bot/catalog/zh/{stem}.toml exists)"


def test_no_en_file_without_zh() -> None:
    extra = sorted(set(EN_STEMS) - set(ZH_STEMS))
    assert not extra, f"en catalog files with no zh counterpart: {[f'{s}.toml' for s in extra]}"


@pytest.mark.parametrize("stem", ZH_STEMS)
def test_same_keys(stem: str) -> None:
    zh, en = _both(stem)
    missing, extra = sorted(set(zh) - set(en)), sorted(set(en) - set(zh))
    assert not missing and not extra, (
        f"{stem}.toml: keys missing in en: {missing}; keys only in en: {extra}"
    )


@pytest.mark.parametrize("stem", ZH_STEMS)
def test_same_placeholders(stem: str) -> None:
    zh, en = _both(stem)
    bad = {
        k: (sorted(placeholders(zh[k])), sorted(placeholders(en[k])))
        for k in sorted(set(zh) & set(en))
        if placeholders(zh[k]) != placeholders(en[k])
    }
    assert not bad, f"{stem}.toml: placeholder sets differ (zh, en): {bad}"


@pytest.mark.parametrize("stem", ZH_STEMS)
def test_zh_fields_exist_in_en(stem: str) -> None:
    """Every `{...}` of zh, format spec included, appears verbatim in en."""
    zh, en = _both(stem)
    bad = {
        k: sorted(_fields(zh[k]) - _fields(en[k]))
        for k in sorted(set(zh) & set(en))
        if _fields(zh[k]) - _fields(en[k])
    }
    assert not bad, f"{stem}.toml: zh fields missing from en: {bad}"


@pytest.mark.parametrize("stem", ZH_STEMS)
def test_en_not_empty_where_zh_is_not(stem: str) -> None:
    zh, en = _both(stem)
    empty = sorted(k for k in set(zh) & set(en) if zh[k].strip() and not en[k].strip())
    assert not empty, f"{stem}.toml: empty en texts: {empty}"


# --- templates ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("stem", ZH_STEMS)
def test_templates_format_and_html(lang: str, stem: str) -> None:
    cat = _load(lang, stem)
    problems = {}
    for key, template in sorted(cat.items()):
        try:
            text = _format(template)
        except AssertionError as exc:
            problems[key] = str(exc)
            continue
        try:
            parse_html(text)
        except HtmlParseError as exc:
            problems[key] = f"bad HTML: {exc}"
    assert not problems, f"{lang}/{stem}.toml: {problems}"


@pytest.mark.parametrize("stem", ZH_STEMS)
def test_same_html_tags(stem: str) -> None:
    zh, en = _both(stem)
    bad = {
        k: (sorted(Counter(_TAG_RE.findall(zh[k])).elements()), sorted(Counter(_TAG_RE.findall(en[k])).elements()))
        for k in sorted(set(zh) & set(en))
        if Counter(_TAG_RE.findall(zh[k])) != Counter(_TAG_RE.findall(en[k]))
    }
    assert not bad, f"{stem}.toml: HTML tags differ (zh, en): {bad}"


def test_texts_construct() -> None:
    for lang in LANGUAGES:
        t = Texts(lang)
        assert t.lang == lang
        assert t("core.app_name") != "core.app_name"
    assert set(LANGUAGES) == {"zh", "en"}
    with pytest.raises(ValueError):
        Texts("fr")


def test_loaded_catalogs_match() -> None:
    """What the bot actually loads agrees with the per-file view above."""
    missing = sorted(set(load_catalog("zh")) - set(load_catalog("en")))
    assert not missing, f"keys missing in en: {missing}"


# --- keys named in code ------------------------------------------------------------------


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                doc = body[0]
                lines.update(range(doc.lineno, (doc.end_lineno or doc.lineno) + 1))
    return lines


def code_keys() -> dict[str, list[str]]:
    """Literal catalog keys in bot/ and handlers/ → where they are used (`path:line`)."""
    found: dict[str, list[str]] = {}
    for top in ("bot", "handlers"):
        for path in sorted((ROOT / top).rglob("*.py")):
            src = path.read_text(encoding="utf-8")
            skip = _docstring_lines(ast.parse(src))
            lines = src.splitlines()
            for m in KEY_CALL_RE.finditer(src):
                is_f, key = m.groups()
                if is_f and "{" in key:  # dynamic key; the regex already stops at "{"
                    continue
                lineno = src.count("\n", 0, m.start()) + 1
                if lineno in skip or lines[lineno - 1].lstrip().startswith("#"):
                    continue
                found.setdefault(key, []).append(f"{path.relative_to(ROOT)}:{lineno}")
    return found


def test_code_keys_found() -> None:
    keys = code_keys()
    assert "core.stale_button" in keys and any(k.startswith("incident.") for k in keys)


def test_code_keys_exist_in_zh() -> None:
    zh = load_catalog("zh")
    missing = {k: where for k, where in sorted(code_keys().items()) if k not in zh}
    assert not missing, f"keys used in code but missing from the zh catalog: {missing}"
