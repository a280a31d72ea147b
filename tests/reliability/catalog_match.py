"""Which catalog texts a message the bot sent is: each template as a pattern, its placeholders
matching anything. Lets a test say "the reply is the step's hint" by key, not by wording."""

from __future__ import annotations

import re
import string
from functools import cache

from bot.i18n import load_catalog

# A template with placeholders and hardly any words ("{day}", "{month:02d}-{day:02d}") would
# match almost anything: it is left out. One without placeholders matches only itself.
_MIN_LITERAL = 3


def _pattern(template: str) -> re.Pattern[str] | None:
    parts, literal, fields = [], 0, 0
    for text, field, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(text))
        literal += len(text.strip())
        if field is not None:
            parts.append("(?s:.*?)")
            fields += 1
    return re.compile("".join(parts), re.S) if literal >= _MIN_LITERAL or not fields else None


@cache
def patterns(lang: str = "zh") -> dict[str, re.Pattern[str]]:
    return {k: p for k, t in load_catalog(lang).items() if (p := _pattern(t)) is not None}


def keys_of(html: str, lang: str = "zh") -> set[str]:
    """The catalog keys whose template, filled in, reads `html` (the text as sent, with markup)."""
    return {k for k, p in patterns(lang).items() if p.fullmatch(html)}


def starts_as(html: str, lang: str = "zh") -> set[str]:
    """The keys whose template `html` begins with (a list's title followed by its lines)."""
    return {k for k, p in patterns(lang).items() if p.match(html)}


def allowed(key: str, expected: tuple[str, ...]) -> bool:
    """`key` is one of `expected`, an entry ending in "." or "_" standing for every key it begins."""
    return any(key == e or (e.endswith((".", "_")) and key.startswith(e)) for e in expected)
