"""The one text catalog: `bot/catalog/<lang>/<feature>.toml`, keys `feature.meaning`.

zh is the default and the reference; en must carry the same keys and placeholders
(a unit test checks it). Handlers never hold user-facing literals.
"""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path

CATALOG_DIR = Path(__file__).parent / "catalog"
LANGUAGES = ("zh", "en")


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


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Texts:
    """`texts("report.ask_place", n=3)`; unknown keys fall back to zh, then show the key."""

    def __init__(self, lang: str = "zh") -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        self.lang = lang
        self._cat = load_catalog(lang)
        self._fallback = load_catalog("zh")

    def __call__(self, key: str, /, **kw: object) -> str:
        template = self._cat.get(key) or self._fallback.get(key)
        if template is None:
            return key
        return template.format(**kw) if kw else template

    def help_line(self, command: str) -> str:
        """`/cmd — what it does`: core.help.<cmd>, or <feature>.help.<cmd> from a feature's file."""
        key = f"core.help.{command}"
        if not self.has(key):
            key = next((k for k in self._fallback if k.endswith(f".help.{command}")), key)
        return self(key)

    def has(self, key: str) -> bool:
        return key in self._cat or key in self._fallback
