"""What every use case needs, assembled once in bot/app.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock
from bot.config import Config
from bot.domain.holidays import HolidayCalendar
from bot.domain.incidents import IncidentPolicy
from bot.fmt import Fmt
from bot.i18n import Texts
from storage.engine import AnyDatabase
from storage.uow import UnitOfWork


def incident_policy(config: Config) -> IncidentPolicy:
    p = config.incident
    return IncidentPolicy(
        first_report=p.first_report, written_report=p.written_report, full_report=p.full_report,
        followup_every=p.followup_every, remind_before=p.remind_before, forward_target=p.forward_target,
        forward_remind=p.forward_remind, major_categories=frozenset(p.major_categories),
    )


def holiday_calendar(config: Config) -> HolidayCalendar:
    cal = config.calendar
    return HolidayCalendar(((h.name, h.start, h.end) for h in cal.holidays), cal.workdays)


@dataclass
class Services:
    config: Config
    db: AnyDatabase
    uow: UnitOfWork
    clock: Clock
    texts: Texts
    fmt: Fmt = field(init=False)
    policy: IncidentPolicy = field(init=False)
    calendar: HolidayCalendar = field(init=False)

    def __post_init__(self) -> None:
        self.fmt = Fmt(self.texts, self.config.tz, self.clock.now)
        self.policy = incident_policy(self.config)
        self.calendar = holiday_calendar(self.config)

    def now(self) -> datetime:
        return self.clock.now()

    def unit_name(self, code: str) -> str:
        unit = self.config.unit(code)
        if unit is None:
            return self.texts("core.unit_unknown")
        return unit.name_en or unit.name if self.texts.lang == "en" else unit.name
