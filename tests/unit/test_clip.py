"""Long HTML messages cut so Telegram still takes them; long timelines keep their newest lines."""

from __future__ import annotations

import re

from bot.fmt import MAX_MESSAGE, clip, clip_timeline, esc


def _balanced(text: str) -> bool:
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-z]+)[^>]*>", text):
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def test_short_text_untouched() -> None:
    assert clip("<b>甲</b> &amp; 乙") == "<b>甲</b> &amp; 乙"


def test_cut_at_a_line_and_tags_closed() -> None:
    lines = ["<b>签收情况</b>", "<blockquote>"] + [f"{i:04d} 张三&amp;李四 <i>已签收</i>" for i in range(400)]
    text = "\n".join(lines) + "</blockquote>"
    out = clip(text)
    assert len(out) <= MAX_MESSAGE and out.endswith("</blockquote>\n…")
    assert _balanced(out)
    kept = out.split("\n")[2:-1]
    assert all(line.endswith("<i>已签收</i>") for line in kept[:-1])  # whole lines only
    assert "&am\n" not in out and "&amp;" in out


def test_one_long_line_is_not_cut_inside_a_tag_or_entity() -> None:
    for pad in range(12):
        text = "x" * pad + ("<b>" + esc("A&B") + "</b>") * 800
        out = clip(text, 200)
        assert len(out) <= 200 and _balanced(out)
        assert re.search(r"&(?!amp;)", out) is None  # no entity cut in half
        assert re.search(r"<[^>]*$", out.removesuffix("\n…")) is None


def test_timeline_keeps_the_newest_lines() -> None:
    lines = [f"12月{i // 24 + 1}日 {i % 24:02d}:00 第{i}次续报：现场处置中" for i in range(300)]

    def render(shown: list[str]) -> str:
        return "<b>事件 2026-0007</b>\n" + "\n".join(shown) + "\n<i>发送 /incidents 返回</i>"

    out = clip_timeline(render, lines, lambda n: f"……（较早的 {n} 条记录未显示）")
    assert len(out) <= MAX_MESSAGE
    assert "第299次续报" in out and "第0次续报" not in out
    n = int(re.search(r"较早的 (\d+) 条", out).group(1))  # type: ignore[union-attr]
    assert f"第{n}次续报" in out and f"第{n - 1}次续报" not in out
    assert out.endswith("<i>发送 /incidents 返回</i>")  # the footer stays
    assert clip_timeline(render, lines[:3], lambda n: "omitted") == render(lines[:3])
