"""Telegram HTML subset parser: plain text, entities and error messages."""

from __future__ import annotations

import pytest

from bot.emulator import HtmlParseError, parse_html


@pytest.mark.parametrize(
    ("src", "text", "entities"),
    [
        ("plain 中文", "plain 中文", []),
        ("<b>B</b><strong>S</strong>", "BS", [
            {"type": "bold", "offset": 0, "length": 1}, {"type": "bold", "offset": 1, "length": 1}]),
        ("<i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>", "ieunskd", None),
        ('<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>', "xy", None),
        ('<a href="https://e.com/?a=1&amp;b=2">link</a>', "link", [
            {"type": "text_link", "offset": 0, "length": 4, "url": "https://e.com/?a=1&b=2"}]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [
            {"type": "pre", "offset": 0, "length": 5, "language": "python"}]),
        ("<code>&lt;tag&gt; &amp; &quot;q&quot; &#20013;&#x6587;</code>", '<tag> & "q" 中文', [
            {"type": "code", "offset": 0, "length": 14}]),
        ("<blockquote expandable>q</blockquote>", "q", [
            {"type": "expandable_blockquote", "offset": 0, "length": 1}]),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", [
            {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}]),
        ("😀<b>x</b>", "😀x", [{"type": "bold", "offset": 2, "length": 1}]),  # UTF-16 offsets
        ("<B>caps</B> a > b", "caps a > b", [{"type": "bold", "offset": 0, "length": 4}]),
        ("<b><i>nested</i></b>", "nested", [
            {"type": "bold", "offset": 0, "length": 6}, {"type": "italic", "offset": 0, "length": 6}]),
    ],
)
def test_valid(src: str, text: str, entities: list[dict[str, object]] | None) -> None:
    got_text, got_entities = parse_html(src)
    assert got_text == text
    if entities is not None:
        assert got_entities == entities


@pytest.mark.parametrize(
    ("src", "error"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Tom & Jerry", "raw '&' at byte offset 4"),
        ("&nbsp;", "raw '&' at byte offset 0"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y</a>', "Unclosed start tag"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("中<p>", 'Unsupported start tag "p" at byte offset 3'),  # byte offsets are UTF-8
    ],
)
def test_errors(src: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as info:
        parse_html(src)
    assert error in str(info.value)
