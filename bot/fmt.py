"""Showing times and durations to people: Beijing wall-clock time, in the catalog's words."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import Texts


def esc(text: object) -> str:
    """Every piece of user text goes through this before it enters an HTML message."""
    return html.escape(str(text), quote=False)


class Fmt:
    def __init__(self, texts: Texts, tz: ZoneInfo) -> None:
        self.t, self.tz = texts, tz

    def dt(self, when: datetime | None, *, year: bool = False) -> str:
        if when is None:
            return "—"
        local = when.astimezone(self.tz)
        return self.t(
            "core.fmt.datetime_year" if year else "core.fmt.datetime",
            year=local.year, month=local.month, day=local.day, hour=local.hour, minute=local.minute,
        )

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
