"""The on-time-rate chart: a PNG drawn with matplotlib (Agg, no pyplot state) in a Chinese font
shipped inside a Python package (pylopdf-fonts-zh-cn: Noto Sans SC, SIL OFL 1.1), so no font
is fetched at run time and no glyph falls back to a box."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path


@cache
def font_path() -> Path:
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.sans_path())


@cache
def _cmap() -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(str(font_path())).get_charmap())


def missing_glyphs(text: str) -> set[str]:
    """Characters of `text` the chart font cannot draw (white space aside)."""
    cmap = _cmap()
    return {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}


def on_time_chart(title: str, labels: Sequence[str], rates: Sequence[float | None], no_data: str,
                  ylabel: str) -> bytes:
    """A bar per unit: the share of deadline stages filed on time (0–100 %)."""
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(fname=str(font_path()), size=11)
    fig = Figure(figsize=(max(6.0, 0.9 * len(labels) + 2), 4.5), dpi=110)
    ax = fig.add_subplot()
    values = [0.0 if r is None else r * 100 for r in rates]
    bars = ax.bar(range(len(labels)), values, color=["#2b6cb0" if r is not None else "#cbd5e0" for r in rates])
    ax.set_ylim(0, 110)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontproperties=font, rotation=30, ha="right")
    ax.set_ylabel(ylabel, fontproperties=font)
    ax.set_title(title, fontproperties=FontProperties(fname=str(font_path()), size=13))
    for bar, r in zip(bars, rates, strict=True):
        text = no_data if r is None else f"{r * 100:.0f}%"
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 2, text, ha="center", va="bottom",
                fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
