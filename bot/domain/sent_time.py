"""When a person acted: on time means sent on time, not handled on time.

Telegram's server stamps every message with its own `date`. If the bot was down at a deadline
and the answer waited in Telegram's queue, the answer still met the deadline; the moment the bot
got round to it does not count. A button press (callback query) carries no date: what is known is
only a moment it came after — the person's latest message before it, the message the button is
on, the moment the bot last heard from Telegram before the press reached it. The press is judged
by the latest of those (the benefit of the doubt goes to the person, never earlier than what is
known). Either way the moment is never later than now (a clock behind Telegram's) and never
earlier than Telegram keeps an update undelivered.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

# Telegram keeps an update nobody fetched for 24 hours: nothing older can arrive.
TELEGRAM_KEEPS = timedelta(hours=24)


def credible(date: datetime, now: datetime) -> bool:
    """Whether a message's date can be the moment it was sent, judged by our clock: an update older
    than Telegram keeps one means our clock (or Telegram's) is off by more than a day."""
    return now - date <= TELEGRAM_KEEPS


def sent_at(date: datetime | None, now: datetime) -> datetime:
    """A message's moment: its own date, but never in the future (our clock behind Telegram's by a
    second or two), and `now` when the date is not credible (see `credible`) or missing."""
    if date is None or date > now or not credible(date, now):
        return now
    return date


def pressed_at(after: Iterable[datetime | None], now: datetime) -> datetime:
    """A button press's moment: the latest moment it is known to have come after (None: unknown),
    at most `now`, at least the oldest a delivered update can be."""
    known = [a for a in after if a is not None]
    floor = now - TELEGRAM_KEEPS
    return min(now, max([floor, *known]))
