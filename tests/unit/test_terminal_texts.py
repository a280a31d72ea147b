"""Texts for a terminal (the CLI, the demo's story): every catalog template, rendered with hostile
values in its name and typed-text placeholders, shows them exactly as typed and shows no tag."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import LANGUAGES, TEXT_FIELDS, TerminalTexts, Texts, load_catalog, placeholders, terminal
from tests.unit.test_catalog_html import HOSTILE, _benign

TAG = re.compile(r"</?(b|i|u|s|code|pre|a|tg-spoiler|blockquote)\b[^>]*>")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_template_shows_typed_values_as_typed(lang: str, hostile: str) -> None:
    t = TerminalTexts(lang)
    for key, template in sorted(load_catalog(lang).items()):
        names = placeholders(template) & TEXT_FIELDS
        shown = t(key, **_benign(template), **{name: hostile for name in names})
        if names:
            assert hostile in shown, f"{lang} {key}: {shown[:120]!r}"
        assert not TAG.search(shown.replace(hostile, "")), f"{lang} {key}: a tag reached the terminal: {shown[:120]!r}"


@given(st.text())
def test_a_rendered_text_reads_back_once(value: str) -> None:
    """Escaped once by Texts, read back once by terminal(): whatever was typed comes back."""
    assert terminal(Texts()("cli.backup_done", path=value)) == TerminalTexts()("cli.backup_done", path=value)
    assert value in TerminalTexts()("cli.backup_done", path=value)
