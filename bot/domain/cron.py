"""Crontab lines as an office writes them, read the way cron reads them.

APScheduler's `CronTrigger.from_crontab` numbers weekdays from Monday (0 = mon … 6 = sun),
where every crontab manual numbers them from Sunday (0 or 7 = sun, 1 = mon … 6 = sat): taken
as it is, "0 9 * * 1" — "Mondays at 09:00" to anyone who knows cron — fires on Tuesdays. The
weekday field is therefore translated into weekday names, which both read the same way.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def trigger(line: str, tz: tzinfo | str | None = None) -> CronTrigger:
    """A five-field crontab line (minute hour day month weekday) as an APScheduler trigger.

    Raises ValueError for anything cron would not accept, and for a line that restricts both
    the day of the month and the weekday (cron fires when *either* matches, APScheduler only
    when both do; rather than guess, such a line is refused)."""
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab line has 5 fields (minute hour day month weekday), not {len(fields)}")
    minute, hour, day, month, weekday = fields
    if day not in ("*", "?") and weekday not in ("*", "?"):
        raise ValueError("give either the day of the month or the weekday, not both")
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekdays(weekday), timezone=tz)


def weekdays(field: str) -> str:
    """A crontab weekday field ("1-5", "0,6", "*/2", "mon-fri", "7") as APScheduler weekday names."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, slash, step_text = part.partition("/")
        step = _number(step_text, "step") if slash else 1
        if step < 1:
            raise ValueError(f"bad step in {part!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _day(low), _day(high)
            if last == 0 and high.strip() != "0":  # "5-sun", "5-7": up to Sunday at the end of the week
                last = 7
        else:
            first = _day(span)
            last = 6 if slash else first  # "1/2": from Monday, every other day
        if first > last:
            raise ValueError(f"weekday range {span!r} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def _day(text: str) -> int:
    text = text.strip()
    if text in _DAYS:
        return _DAYS.index(text)
    n = _number(text, "weekday")
    if not 0 <= n <= 7:
        raise ValueError(f"weekday {text!r} is not 0–7 (0 and 7 are Sunday)")
    return n % 7


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValueError(f"bad {what} {text!r}")
    return int(text)
