"""The periodic 通报 of emergency reporting: per unit, its incidents and stages, its 迟报 / 漏报 /
误报 / 瞒报 with incident numbers and the directors' notes, its average first-report and forward
times; units with failures first. Sent on a crontab (monthly by default, weekly optionally) to
the directors and, if configured, a group; `/breaches` shows it for any period.

The recurring rows follow the supervision bulletin's pattern: ref 0, stage = "<cadence>|<crontab>",
each firing plans the next occurrence, so it fires once per occurrence across restarts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from bot.domain import cron as crontab
from bot.domain.accountability import UNIT_FAILURES, MarkRow
from bot.domain.members import Action, Member, Role, can
from bot.domain.reporting_bulletin import MONTHLY, WEEKLY, Bulletin, UnitRecord, bulletin_period, compile_bulletin
from bot.domain.stats import Period
from bot.fmt import esc
from bot.services import channel_messages
from bot.services.base import Services
from bot.services.errors import NotAllowed
from storage import deadlines, incident_forwards, incident_marks, members
from storage import stats as rows
from storage.conn import Conn
from storage.deadlines import Deadline
from storage.uow import Tx

KIND = "incident.bulletin"
REF = 0
REPORTING_KINDS = ("street", "bureau")


async def collect(s: Services, conn: Conn, period: Period, now: datetime) -> Bulletin:
    bulletin = compile_bulletin(
        [u.code for u in s.config.units], period, now,
        incidents=await rows.incidents(conn, period), stages=await rows.stages(conn, period),
        marks=await incident_marks.rows(conn, period.start, period.end),
        clocks=await incident_forwards.rows(conn, period.start, period.end),
    )
    kinds = {u.code: u.kind for u in s.config.units}
    # Streets and bureaus are always named; the district bodies only when they have something.
    shown = tuple(u for u in bulletin.units if kinds.get(u.unit) in REPORTING_KINDS or not u.empty)
    return Bulletin(bulletin.period, shown, bulletin.office)


def _minutes(s: Services, value: float | None) -> str:
    return "—" if value is None else s.fmt.dur(timedelta(minutes=value))


def _mark_item(s: Services, m: MarkRow) -> str:
    item = m.number
    if m.stage and m.stage in ("first", "written", "full", "corrected"):
        item += s.texts("reporting.stage_of", stage=s.texts(f"incident.stage.{m.stage}"))
    if m.minutes and m.kind == "late":
        item += s.texts("reporting.late_by", delay=s.fmt.dur(timedelta(minutes=m.minutes)))
    if m.notes:
        item += s.texts("reporting.notes", notes=esc("；".join(m.notes)))
    return item


def _unit_block(s: Services, n: int, u: UnitRecord) -> str:
    sep = s.texts("reporting.sep")
    lines: list[str] = [s.texts("reporting.unit_head", n=n, unit=esc(s.unit_name(u.unit)))]
    for kind in UNIT_FAILURES:
        found = u.failures.get(kind.value, [])
        if found:
            lines.append(s.texts("reporting.failure", kind=s.texts(f"incident.marks.kind.{kind.value}"),
                                 count=len(found), items=sep.join(_mark_item(s, m) for m in found)))
    if u.unreported:
        lines.append(s.texts("reporting.unreported", count=len(u.unreported),
                             items=sep.join(s.texts("reporting.unreported_item", number=m.number,
                                                    gap=s.fmt.dur(timedelta(minutes=m.minutes or 0)))
                                            for m in u.unreported)))
    lines.append(_figures(s, u))
    return "\n".join(lines)


def _figures(s: Services, u: UnitRecord) -> str:
    if not u.incidents:
        return s.texts("reporting.no_incidents_line")
    return s.texts("reporting.figures", incidents=u.incidents, on_time=u.on_time, late=u.late, missed=u.missed,
                   first=_minutes(s, u.first_minutes), forward=_minutes(s, u.forward_minutes))


def bulletin_text(s: Services, b: Bulletin, *, title_key: str = "reporting.title") -> str:
    """The 通报, in the order an office writes one: totals, units with failures (most first),
    the units without, and the office's own forwarding to the city."""
    p = b.period
    units = b.units
    totals = {k.value: sum(u.count(k) for u in units) for k in UNIT_FAILURES}
    parts: list[str] = [s.texts(title_key, first=p.first.isoformat(), last=p.last.isoformat(),
                     district=esc(s.config.general.district))]
    parts.append(s.texts("reporting.overall", incidents=sum(u.incidents for u in units),
                         on_time=sum(u.on_time for u in units), late_stages=sum(u.late for u in units),
                         missed_stages=sum(u.missed for u in units), **totals))
    failing = [u for u in units if u.failure_total or u.unreported]
    if failing:
        parts.append(s.texts("reporting.failing_title") + "\n"
                     + "\n".join(_unit_block(s, i, u) for i, u in enumerate(failing, 1)))
    else:
        parts.append(s.texts("reporting.failing_none"))
    clean = [u for u in units if not (u.failure_total or u.unreported)]
    reported = [u for u in clean if u.incidents]
    quiet = [u for u in clean if not u.incidents]
    lines: list[str] = [s.texts("reporting.clean_unit", unit=esc(s.unit_name(u.unit)), figures=_figures(s, u))
             for u in reported]
    if quiet:
        lines.append(s.texts("reporting.quiet", units=s.texts("core.list_sep").join(
            esc(s.unit_name(u.unit)) for u in quiet)))
    parts.append(s.texts("reporting.clean_title") + "\n" + ("\n".join(lines) or s.texts("reporting.clean_none")))
    o = b.office
    breaches = s.texts("reporting.sep").join(
        s.texts("reporting.breach_item", number=c.number, stage=s.texts(f"incident.stage.{c.stage}"))
        for c in o.breaches)
    parts.append(s.texts("reporting.office", forwarded=o.forwarded, mean=_minutes(s, o.mean_minutes),
                         breaches=len(o.breaches),
                         items=s.texts("reporting.breach_items", items=breaches) if o.breaches else ""))
    parts.append(s.texts("reporting.closing"))
    return "\n\n".join(parts)


async def on_demand(s: Services, member: Member, period: Period) -> str:
    """/breaches [period]: the 通报 for any period, for the office."""
    if not can(member, Action.VIEW_STATS):
        raise NotAllowed()
    return bulletin_text(s, await collect(s, s.db.read, period, s.now()), title_key="reporting.title_on_demand")


# --- the recurring rows -----------------------------------------------------------------


def schedules(s: Services) -> dict[str, str]:
    """stage → crontab of each configured bulletin ("monthly|0 9 1 * *")."""
    pol = s.config.incident
    out = {}
    for cadence, line in ((MONTHLY, pol.bulletin_cron), (WEEKLY, pol.bulletin_weekly_cron)):
        if line:
            out[f"{cadence}|{line}"] = line
    return out


def next_at(s: Services, line: str, after: datetime) -> datetime | None:
    return crontab.parse(line).after(after, s.config.tz).astimezone(after.tzinfo)


async def bulletin_chats(s: Services, tx: Tx) -> list[int]:
    """Directors, the configured group, and district-wide bound groups if asked for."""
    pol = s.config.incident
    chats = [m.telegram_id for m in await members.with_roles(tx.conn, [Role.DIRECTOR])]
    if pol.bulletin_chat_id:
        chats.append(pol.bulletin_chat_id)
    if pol.bulletin_bound_groups:
        from storage import notices  # bound groups belong to the notices feature (/bindgroup)

        chats += [g.chat_id for g in await notices.groups(tx.conn) if g.unit_code is None]
    return list(dict.fromkeys(chats))


async def send(s: Services, tx: Tx, d: Deadline) -> None:
    """The 通报 of the period before its scheduled time, then the next occurrence. A row of a
    crontab no longer configured only stops."""
    line = schedules(s).get(d.stage)
    if line is None:
        return
    cadence = d.stage.split("|", 1)[0]
    period = bulletin_period(cadence, d.due_at, s.config.tz)
    text = bulletin_text(s, await collect(s, tx.conn, period, tx.now))
    for chat_id in await bulletin_chats(s, tx):
        await tx.send_text(chat_id, text, ref_kind="reporting_bulletin", ref_id=REF, tag="bulletin")
    await channel_messages.mirror(s, tx, "bulletin", ref_kind="reporting_bulletin", ref_id=d.id, tag="bulletin",
                                  title=s.texts("channels.robot.bulletin_title"), summary=text)
    await _plan(s, tx, d.stage, line, max(d.due_at, tx.now))


async def _plan(s: Services, tx: Tx, stage: str, line: str, after: datetime) -> None:
    nxt = next_at(s, line, after)
    if nxt is None or (KIND, stage) in await deadlines.pending_recurring(tx.conn, [KIND]):
        return
    await tx.add_deadline(KIND, REF, nxt, stage)


async def ensure_recurring(s: Services) -> None:
    """At start-up: one pending row per configured bulletin; rows of crontabs no longer configured dropped."""
    wanted = schedules(s)
    async with s.uow() as tx:
        for _kind, stage in await deadlines.pending_recurring(tx.conn, [KIND]):
            if stage not in wanted:
                await deadlines.cancel(tx.conn, KIND, REF, tx.now, stage)
        for stage, line in wanted.items():
            await _plan(s, tx, stage, line, tx.now)


HANDLERS = {KIND: send}


def register(s: Services, on: Callable[[str, Callable[[Tx, Deadline], Awaitable[None]]], None]) -> None:
    for kind, fn in HANDLERS.items():
        on(kind, partial(fn, s))
