"""The Html mark (bot.i18n.Html) survives being put together with harmless plain text, so text
escaped once is never escaped again when it reaches a TEXT_FIELDS placeholder."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import Html, Texts, esc

HOSTILE = "关于 <b>粗</b> & 'q' <i>"
HARMLESS = st.text(alphabet=st.characters(blacklist_characters="<>&"), max_size=8)


@given(HARMLESS, HARMLESS)
def test_escaped_text_with_harmless_pieces_on_either_side_stays_html(before: str, after: str) -> None:
    assert isinstance(esc(HOSTILE) + after, Html)
    assert isinstance(before + esc(HOSTILE), Html)
    assert isinstance(Html("、").join([esc(HOSTILE), before]), Html)


def test_plain_text_with_markup_characters_is_not_taken_for_html() -> None:
    assert not isinstance(esc("x") + "<b>", Html)
    assert not isinstance("a & b" + esc("x"), Html)
    assert not isinstance(Html("、").join([esc("x"), "<i>"]), Html)


def test_a_title_with_an_empty_suffix_is_escaped_once() -> None:
    """The notice summary: `esc(title) + (level mark or "")` into the `title` placeholder."""
    t = Texts("zh")
    text = t("notice.summary", title=esc(HOSTILE) + "", meeting="", body="", attachments=0, audience="",
             urgency="", receipt="")
    assert "&lt;b&gt;粗&lt;/b&gt; &amp; 'q' &lt;i&gt;" in text and "&amp;lt;" not in text
