"""/stats: figures per unit for a period, as a text summary and a chart of on-time rates."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import stats as rules
from bot.domain.accountability import UNIT_FAILURES
from bot.domain.incidents import DEADLINE_STAGES
from bot.domain.members import Action, Member, can
from bot.domain.stats import Period, UnitFigures
from bot.fmt import clip, esc
from bot.services.base import Services
from bot.services.errors import NotAllowed
from bot.services.info import scores
from storage import incident_marks
from storage import stats as rows

REPORTING_KINDS = ("street", "bureau")


@dataclass(frozen=True)
class Report:
    period: Period
    figures: list[UnitFigures]
    documents: list[str] = field(default_factory=list)  # 办文: on time per unit and handler, rendered


async def collect(s: Services, member: Member, period: Period) -> Report:
    if not can(member, Action.VIEW_STATS):
        raise NotAllowed()
    conn = s.db.read
    figures = rules.compute(
        [u.code for u in s.config.units], period, s.now(), s.config.tz,
        incidents=await rows.incidents(conn, period), stages=await rows.stages(conn, period),
        leave=await rows.leave(conn, period), receipts=await rows.receipts(conn, period),
        tasks=await rows.tasks(conn, period), info=await rows.info(conn, period), scores=scores(s),
        marks=await incident_marks.rows(conn, period.start, period.end),
    )
    kinds = {u.code: u.kind for u in s.config.units}
    # Streets and bureaus are always listed; the district bodies only when they have figures.
    shown = [f for f in figures if kinds.get(f.unit) in REPORTING_KINDS or not f.empty]
    from bot.services import document_views
    from storage import members

    _docs, tallies = await document_views.tallies(s, period)
    names = {m.id: m.name for m in await members.all_members(conn)}
    return Report(period, shown, document_views.tally_lines(s, tallies, names))


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def minutes(s: Services, value: float | None) -> str:
    from datetime import timedelta

    return "—" if value is None else s.fmt.dur(timedelta(minutes=value))


def failures_line(s: Services, f: UnitFigures) -> str:
    """「迟报 2（2026-0003、2026-0005）、漏报 0、误报 0、瞒报 1（2026-0004）」: the commitment's four."""
    parts = []
    for kind in UNIT_FAILURES:
        numbers = f.failures.get(kind.value, [])
        item = s.texts("stats.failure", kind=s.texts(f"incident.marks.kind.{kind.value}"), n=len(numbers))
        if numbers:
            item += s.texts("stats.failure_numbers", numbers=s.texts("core.list_sep").join(dict.fromkeys(numbers)))
        parts.append(item)
    return s.texts("stats.failures", items=s.texts("core.list_sep").join(parts))


def summary(s: Services, report: Report) -> str:
    p = report.period
    lines: list[str] = [s.texts("stats.title", first=p.first.isoformat(), last=p.last.isoformat())]
    for f in report.figures:
        lines.append(s.texts("stats.unit", unit=esc(s.unit_name(f.unit))))
        if f.incidents:
            stage_parts = []
            for st in DEADLINE_STAGES:
                c = f.stages.get(st.value, {})
                stage_parts.append(s.texts("stats.stage", stage=s.texts(f"incident.stage.{st.value}"),
                                           on_time=c.get("on_time", 0), late=c.get("late", 0),
                                           missed=c.get("missed", 0)))
            lines.append(s.texts("stats.incidents", n=f.incidents, stages=s.texts("core.list_sep").join(stage_parts),
                                 rate=pct(f.on_time_rate)))
            lines.append(s.texts("stats.times", first=minutes(s, f.first_report_minutes),
                                 forward=minutes(s, f.forward_minutes)))
        else:
            lines.append(s.texts("stats.no_incidents"))
        if f.incidents or f.failures:
            lines.append(failures_line(s, f))
        if f.leave_days or f.away_now:
            lines.append(s.texts("stats.leave", days=f.leave_days, away=f.away_now))
        if f.receipts_due:
            lines.append(s.texts("stats.receipts", rate=pct(f.receipt_rate), done=f.receipts_done,
                                 due=f.receipts_due, mean=minutes(s, f.receipt_minutes)))
        if f.tasks_on_time or f.tasks_overdue or f.tasks_open:
            lines.append(s.texts("stats.tasks", on_time=f.tasks_on_time, overdue=f.tasks_overdue, open=f.tasks_open))
        if f.info_submitted:
            lines.append(s.texts("stats.info", submitted=f.info_submitted, adopted=f.info_adopted, score=f.info_score))
    lines += report.documents
    return clip("\n".join(lines))
