"""Parser for Telegram's HTML subset (``parse_mode="HTML"``).

It mirrors the structure and error messages of TDLib's ``parse_html`` closely enough that a
bot which passes here will not be rejected by Telegram for malformed markup, and produces the
same plain text + ``MessageEntity`` list Telegram would return.

Deliberately *stricter* than Telegram in one respect: a raw ``&`` that does not start a valid
character reference is an error here (Telegram silently keeps it).  It almost always means
the bot forgot to ``html.escape`` user-provided text, which *would* break on a ``<``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .models import utf16_len

# tag name -> entity type (None: handled specially)
_TAGS: dict[str, str | None] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,4}));")
_SPECIAL_RE = re.compile(r"[<&]")


class HtmlParseError(ValueError):
    """Raised with the text Telegram would put after ``can't parse entities: ``."""


@dataclass
class _Open:
    tag: str
    entity: str | None
    start: int  # UTF-16 offset in the output text
    seq: int  # opening order: outer tags sort before inner ones spanning the same text
    attrs: dict[str, Any] = field(default_factory=dict)


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


def _decode_entity(src: str, i: int) -> tuple[str, int] | None:
    m = _ENTITY_RE.match(src, i)
    if not m:
        return None
    dec, hexa, name = m.groups()
    if name is not None:
        ch = _NAMED_ENTITIES.get(name)
        if ch is None:
            return None
        return ch, m.end()
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def _unescape_attr(value: str) -> str:
    # Attribute values are decoded leniently (Telegram does the same).
    def repl(m: re.Match[str]) -> str:
        dec = _decode_entity(m.string, m.start())
        return dec[0] if dec else m.group(0)

    return _ENTITY_RE.sub(repl, value)


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` or raise :class:`HtmlParseError`."""
    out: list[str] = []
    pos16 = 0  # current UTF-16 length of the output
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(src)
    opened = 0

    while i < n:
        m = _SPECIAL_RE.search(src, i)
        j = m.start() if m else n
        if j > i:  # plain run: the hot path for ordinary messages
            chunk = src[i:j]
            out.append(chunk)
            pos16 += utf16_len(chunk)
            i = j
            if i >= n:
                break

        if src[i] == "&":
            decoded = _decode_entity(src, i)
            if decoded is None:
                raise HtmlParseError(
                    f"Unsupported HTML entity or raw '&' at byte offset {_byte_offset(src, i)}"
                    " (escape it as &amp;)"
                )
            ch, i = decoded
            out.append(ch)
            pos16 += utf16_len(ch)
            continue

        # src[i] == "<"
        begin = i
        if i + 1 < n and src[i + 1] == "/":
            end = src.find(">", i)
            if end == -1:
                raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(src, begin)}")
            name = src[i + 2 : end].strip().lower()
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {_byte_offset(src, begin)}")
            top = stack.pop()
            if name and name != top.tag:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
                    f'expected "</{top.tag}>", found "</{name}>"'
                )
            _close(top, pos16, stack, entities)
            i = end + 1
            continue

        # start tag: name runs until whitespace or '>' (so "<br/>" is the tag "br/")
        i += 1
        k = i
        while k < n and not src[k].isspace() and src[k] != ">":
            k += 1
        if k >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        tag = src[i:k].lower()
        if tag not in _TAGS:
            raise HtmlParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(src, begin)}'
            )
        i = k
        attrs: dict[str, Any] = {}
        while True:
            while i < n and src[i].isspace():
                i += 1
            if i >= n:
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                )
            if src[i] == ">":
                i += 1
                break
            a0 = i
            while i < n and not src[i].isspace() and src[i] not in "=>":
                i += 1
            attr = src[a0:i].lower()
            if not attr:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(src, begin)}'
                )
            while i < n and src[i].isspace():
                i += 1
            if i >= n or src[i] != "=":
                if tag == "blockquote" and attr == "expandable":
                    attrs["expandable"] = True
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {_byte_offset(src, begin)}"
                )
            i += 1
            while i < n and src[i].isspace():
                i += 1
            if i >= n:
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                )
            if src[i] in "\"'":
                quote = src[i]
                close = src.find(quote, i + 1)
                if close == -1:
                    raise HtmlParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                    )
                value = src[i + 1 : close]
                i = close + 1
            else:
                v0 = i
                while i < n and not src[i].isspace() and src[i] != ">":
                    i += 1
                value = src[v0:i]
            attrs[attr] = _unescape_attr(value)

        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
        if tag == "tg-emoji" and not attrs.get("emoji-id"):
            raise HtmlParseError('Tag "tg-emoji" must have attribute "emoji-id"')
        opened += 1
        stack.append(_Open(tag, _TAGS[tag], pos16, opened, attrs))

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"], e.pop("_seq")))
    return "".join(out), entities


def _close(top: _Open, pos16: int, stack: list[_Open], entities: list[dict[str, Any]]) -> None:
    length = pos16 - top.start
    # <pre><code class="language-x">: the language moves to the enclosing pre entity.
    if top.tag == "code":
        cls = str(top.attrs.get("class", ""))
        if stack and stack[-1].tag == "pre" and cls.startswith("language-"):
            stack[-1].attrs["language"] = cls[len("language-") :]
            return
    if length <= 0:
        return
    entity: dict[str, Any] = {"type": top.entity, "offset": top.start, "length": length, "_seq": top.seq}
    if top.tag == "a":
        url = str(top.attrs.get("href", ""))
        if not url:
            return
        entity["url"] = url
    elif top.tag == "pre" and top.attrs.get("language"):
        entity["language"] = top.attrs["language"]
    elif top.tag == "blockquote" and top.attrs.get("expandable"):
        entity["type"] = "expandable_blockquote"
    elif top.tag == "tg-emoji":
        entity["custom_emoji_id"] = top.attrs["emoji-id"]
    entities.append(entity)
