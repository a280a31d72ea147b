"""Showing times and durations to people: Beijing wall-clock time, in the catalog's words."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import Html, Texts, esc, plain

__all__ = ["Fmt", "Html", "clip", "clip_timeline", "esc", "one_line", "plain"]


def one_line(text: str) -> str:
    """A catalog message for a log line or a terminal: no tags, no entities, one line."""
    out = ""
    for line in plain(text).splitlines():
        line = " ".join(line.split())
        if line:  # Chinese sentences run on after their full stop; others take a space
            out += ("" if not out or out[-1] in "。！？；：，、）" else " ") + line
    return out


MAX_MESSAGE = 4000  # Telegram takes 4,096 characters; room for what a sender adds around the text
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>")


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """An HTML message cut to `limit` characters, still valid HTML: whole lines are kept (a tag
    or `&amp;` cut in half makes Telegram refuse the whole message), tags left open are
    closed, and "…" says there was more."""
    if len(text) <= limit:
        return text
    room = limit - 40  # for the closing tags and the mark
    cut = text.rfind("\n", 0, room)
    if cut <= 0:  # one long line: cut between tags and entities, not inside one
        cut = room
        lt, amp = text.rfind("<", 0, cut), text.rfind("&", 0, cut)
        if lt > text.rfind(">", 0, cut):
            cut = lt
        if amp > text.rfind(";", 0, cut):
            cut = min(cut, amp)
    head = text[:cut]
    open_tags: list[str] = []
    for m in _TAG.finditer(head):
        closing, name = m.group(1), m.group(2).lower()
        if not closing:
            open_tags.append(name)
        elif name in open_tags:
            del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name)]
    return head + "".join(f"</{name}>" for name in reversed(open_tags)) + "\n…"


def clip_timeline(render: Callable[[list[str]], str], lines: Sequence[str], omitted: Callable[[int], str],
                  limit: int = MAX_MESSAGE) -> str:
    """`render(lines)` for a message whose timeline (oldest first) may not fit: the oldest lines
    give way, `omitted(n)` says how many, and the newest — what the reader needs — stay."""
    text = render(list(lines))
    if len(text) <= limit:
        return text
    over = len(text) - limit + len(omitted(len(lines))) + 1
    dropped = saved = 0
    while dropped < len(lines) and saved < over:
        saved += len(lines[dropped]) + 1
        dropped += 1
    return clip(render([omitted(dropped), *lines[dropped:]]), limit)


class Fmt:
    """Every date and time a person reads goes through here. A date outside the current year
    (Beijing time, by the injected clock) carries its year: "01-05" read in December would be
    taken for the coming January."""

    def __init__(self, texts: Texts, tz: ZoneInfo, now: Callable[[], datetime] | None = None) -> None:
        self.t, self.tz, self.now = texts, tz, now

    def _with_year(self, year: int, forced: bool) -> bool:
        return forced or self.now is None or year != self.now().astimezone(self.tz).year

    def dt(self, when: datetime | None, *, year: bool = False) -> str:
        """`11-25 14:30`, or `2027-01-05 09:00` when not this year (or `year`)."""
        if when is None:
            return "—"
        local = when.astimezone(self.tz)
        return self.t(
            "core.fmt.datetime_year" if self._with_year(local.year, year) else "core.fmt.datetime",
            year=local.year, month=local.month, day=local.day, hour=local.hour, minute=local.minute,
        )

    def day(self, d: date, *, long: bool = False) -> str:
        """A (Beijing) day: `11-25` / `2027-01-05`; `long`: `11月25日` / `2027年1月5日`."""
        key = "core.fmt.date_long" if long else "core.fmt.date"
        if self._with_year(d.year, False):
            key += "_year"
        return self.t(key, year=d.year, month=d.month, day=d.day)

    def dur(self, delta: timedelta) -> str:
        """1小时20分钟 / 1h 20min: the two largest non-zero parts."""
        secs = max(0, math.ceil(delta.total_seconds()))
        parts = []
        for key, size in (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
            n, secs = divmod(secs, size)
            if n:
                parts.append(self.t(f"core.fmt.{key}", n=n))
        if not parts:
            return self.t("core.fmt.minutes", n=0)
        return self.t("core.fmt.joiner").join(parts[:2])

    def roles(self, roles: Iterable[str]) -> str:
        return self.t("core.list_sep").join(self.t(f"core.roles.{r}") for r in sorted(roles))
