"""The one text catalog: `bot/catalog/<lang>/<feature>.toml`, keys `feature.meaning`.

zh is the default and the reference; en must carry the same keys and placeholders
(a unit test checks it). Handlers never hold user-facing literals.

The catalog's texts are Telegram HTML. A placeholder that carries a person's, a unit's or a
group's name, or anything a person typed (TEXT_FIELDS), is escaped here, when the text is
rendered: names come from Telegram display names, invites and the config, and one `<` or `&`
in a name made the Bot API refuse every message that held it (issue #23). A value that is
already HTML — `esc()`'s result, another rendered text — is an `Html` and passes unchanged,
so escaping twice cannot happen.
"""

from __future__ import annotations

import html
import re
import string
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import overload

CATALOG_DIR = Path(__file__).parent / "catalog"
LANGUAGES = ("zh", "en")

# Placeholders that carry names or typed text: escaped when a text is rendered, unless the
# value is already Html. tests/unit/test_catalog_html.py renders every template with hostile
# values for these and checks the Bot API would take every one.
TEXT_FIELDS = frozenset({
    # people, units, groups
    "name", "names", "asker", "author", "reporter", "standin", "stand_in", "leader", "who", "director", "target",
    "incoming", "outgoing", "on_behalf", "unit", "units", "group", "district",
    # labels an office writes into the config (approval chains and steps, shifts)
    "chain", "step", "shift", "shifts",
    # what people type
    "place", "description", "destination", "reason", "requirement", "body", "title", "comment", "question",
    "answer", "outcome", "note", "text", "summary", "cause", "background", "development", "handling",
    "consequences", "code", "role", "value", "column",
    "action", "content", "contact", "issuer", "doc_no", "proposal", "notes", "phone",
    # people named in the newer features (documents, duty log, 代报)
    "handler", "head", "owner", "proposer", "recorder", "registrar",
    # what a terminal shows (the CLI, the demo's story): paths, addresses, errors, people and
    # groups of the emulator, button labels — rendered through TerminalTexts, escaped and read back
    "path", "database", "url", "error", "listen", "detail", "whom", "chat", "button", "buttons",
    # dutydesk migrate-db: a row's key values as found in the SQLite file, the lease file's path
    "key", "lock",
    # channels: a robot's name and environment variable from the config
    "robot", "secret",
    # active / standby (bot/lease.py, `dutydesk status`): instance names are host names and pids
    "instance", "host", "active",
})


def _is_html(text: str) -> bool:
    """Already Html, or plain text that reads the same escaped (no `<`, `>`, `&`: "", "\n", "、")."""
    return isinstance(text, Html) or html.escape(text, quote=False) == text


class Html(str):
    """Text that is already valid Telegram HTML: escaped user text, or a rendered catalog text.
    Stays Html when put together (`+` on either side, `sep.join`) with Html or with plain text that
    escaping would not change (`esc(title) + ""`, `"\n" + esc(x)`); anything else gives a plain
    str, which a TEXT_FIELDS placeholder escapes. Losing the mark on such harmless pieces had
    escaped text escaped twice (`&amp;lt;` shown)."""

    __slots__ = ()

    # The overloads tell the type checker what the run time does: Html with Html stays Html.
    @overload
    def __add__(self, other: Html) -> Html: ...
    @overload
    def __add__(self, other: str) -> str: ...
    def __add__(self, other: str) -> str:
        joined = str.__add__(self, other)
        return Html(joined) if _is_html(other) else joined

    def __radd__(self, other: str) -> str:  # `plain + Html`: str's own + defers to this subclass
        joined = str.__add__(other, self)
        return Html(joined) if _is_html(other) else joined

    @overload
    def join(self, items: Iterable[Html]) -> Html: ...
    @overload
    def join(self, items: Iterable[str]) -> str: ...
    def join(self, items: Iterable[str]) -> str:
        parts = list(items)
        joined = str.join(self, parts)
        return Html(joined) if all(_is_html(x) for x in parts) else joined


def esc(text: object) -> Html:
    """Every piece of user text goes through this (or a TEXT_FIELDS placeholder) before it enters
    an HTML message; escaping what is already Html would show `&amp;lt;`, so it is left alone."""
    if isinstance(text, Html):
        return text
    return Html(html.escape(str(text), quote=False))


_TAG = re.compile(r"<[^>]*>")


def terminal(text: str) -> str:
    """A rendered text as a terminal shows it: tags dropped, entities read back, spacing kept."""
    return html.unescape(_TAG.sub("", text))


def plain(text: str) -> str:
    """A catalog text for where text is shown as is (a button's toast, a Word file, a spreadsheet
    cell, a terminal): tags dropped, entities read back (`&lt;` → `<`)."""
    return html.unescape(_TAG.sub("", text)).strip()


def _flatten(prefix: str, data: dict[str, object], out: dict[str, str]) -> None:
    for k, v in data.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict):
            _flatten(key, v, out)
        else:
            out[key] = str(v)


@cache
def load_catalog(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in sorted((CATALOG_DIR / lang).glob("*.toml")):
        _flatten(f.stem, tomllib.loads(f.read_text(encoding="utf-8")), out)
    return out


@cache
def _help_keys(lang: str) -> dict[str, str]:
    """Command → the first `<feature>.help.<command>` key of the catalog (looked up for each
    command of every member's menu: a scan of the whole catalog each time cost ~20 % of a test run)."""
    keys: dict[str, str] = {}
    for key in load_catalog(lang):
        if ".help." in key:
            keys.setdefault(key.rsplit(".help.", 1)[1], key)
    return keys


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Texts:
    """`texts("report.ask_place", n=3)`; unknown keys fall back to zh, then show the key."""

    def __init__(self, lang: str = "zh") -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        self.lang = lang
        self._cat = load_catalog(lang)
        self._fallback_lang = "zh"
        self._fallback = load_catalog(self._fallback_lang)

    def __call__(self, key: str, /, **kw: object) -> Html:
        template = self._cat.get(key) or self._fallback.get(key)
        if template is None:
            return Html(key)
        if not kw:
            return Html(template)
        # Any value of a text placeholder is escaped (a Path, an exception, a str), numbers aside.
        safe = {k: esc(v) if k in TEXT_FIELDS and not isinstance(v, int | float) else v for k, v in kw.items()}
        return Html(template.format(**safe))

    def help_line(self, command: str) -> str:
        """`/cmd — what it does`: core.help.<cmd>, or <feature>.help.<cmd> from a feature's file."""
        key = f"core.help.{command}"
        if not self.has(key):
            key = _help_keys(self._fallback_lang).get(command, key)
        return self(key)

    def has(self, key: str) -> bool:
        return key in self._cat or key in self._fallback


class TerminalTexts:
    """Catalog texts for a terminal (the CLI, the demo's story): rendered like `Texts`, so every
    TEXT_FIELDS value is escaped first and read back once, then shown without tags. A path or a
    name with `&` or `<` prints as typed, and a catalog tag never reaches the screen."""

    def __init__(self, lang: str = "zh") -> None:
        self.html = Texts(lang)
        self.lang = lang

    def __call__(self, key: str, /, **kw: object) -> str:
        return terminal(self.html(key, **kw))

    def has(self, key: str) -> bool:
        return self.html.has(key)
