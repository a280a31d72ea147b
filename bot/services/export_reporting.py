"""The export's sheets of the office's side of emergency reporting: per-unit failures (the
通报's figures), every finding with its notes, the current facts of each incident, and every
version of the facts (who, when, through which stage, old → new)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.accountability import UNIT_FAILURES
from bot.domain.fact_versions import Version, revisions
from bot.domain.stats import Period
from bot.fmt import plain
from bot.services.base import Services
from bot.services.incident_versions import facts_of, field_value, via_text
from bot.services.reporting_bulletin import collect
from bot.services.stats_export import _local, _sheet
from storage import incident_marks, incident_versions, incidents, members
from storage import stats as stat_rows

if TYPE_CHECKING:
    from openpyxl import Workbook


async def add_sheets(s: Services, wb: Workbook, period: Period) -> None:
    conn, now, t = s.db.read, s.now(), s.texts
    names = {m.id: m.name for m in await members.all_members(conn)}

    bulletin = await collect(s, conn, period, now)
    body = []
    for u in bulletin.units:
        row: list[object] = [s.unit_name(u.unit), u.incidents]
        row += [u.count(k) for k in UNIT_FAILURES]
        row += [len(u.unreported)]
        row += ["、".join(dict.fromkeys(m.number for m in u.failures.get(k.value, []))) for k in UNIT_FAILURES]
        row += [round(u.first_minutes, 1) if u.first_minutes is not None else None,
                round(u.forward_minutes, 1) if u.forward_minutes is not None else None]
        body.append(row)
    _sheet(wb, t("stats.x.sheet_failures"), [t(f"stats.x.failure_h{i}") for i in range(13)], body,
           [14, 8, 7, 7, 7, 7, 7, 18, 18, 18, 18, 12, 12])

    body = [[m.number, s.unit_name(m.unit), t(f"incident.marks.kind.{m.kind}"),
             t(f"incident.stage.{m.stage}") if m.stage else "", m.minutes, _local(s, m.at), "；".join(m.notes)]
            for m in await incident_marks.rows(conn, period.start, period.end)]
    _sheet(wb, t("stats.x.sheet_marks"), [t(f"stats.x.mark_h{i}") for i in range(7)], body,
           [11, 14, 10, 14, 8, 17, 30])

    versions: dict[int, list[Version]] = {}
    for inc_id, v in await incident_versions.in_window(conn, period.start, period.end):
        versions.setdefault(inc_id, []).append(v)
    facts_body, versions_body = [], []
    for listed in await stat_rows.incidents(conn, period):
        inc = await incidents.get(conn, listed.id)
        if inc is None:
            continue
        f = facts_of(inc)
        facts_body.append([inc.number, s.unit_name(inc.unit_code), t(f"incident.cat.{f.category}"),
                           _local(s, f.occurred_at), _local(s, f.learnt_at), f.place,
                           f.casualties.deaths, f.casualties.injured, f.casualties.missing, f.description,
                           t(f"record.source.{inc.source}"), len(versions.get(inc.id, []))])
        for rev in revisions(versions.get(inc.id, [])):
            v = rev.version
            base = [inc.number, v.no, _local(s, v.at), names.get(v.actor_id or 0, ""), plain(via_text(s, v.via))]
            if not rev.changes:
                versions_body.append([*base, plain(t("incident.versions.first")), "", ""])
            for c in rev.changes:
                versions_body.append([*base, plain(t(f"incident.versions.field.{c.field}")),
                                      plain(field_value(s, c.field, c.old)), plain(field_value(s, c.field, c.new))])
    _sheet(wb, t("stats.x.sheet_facts"), [t(f"stats.x.facts_h{i}") for i in range(12)], facts_body,
           [11, 14, 12, 17, 17, 24, 6, 6, 6, 40, 12, 8])
    _sheet(wb, t("stats.x.sheet_versions"), [t(f"stats.x.version_h{i}") for i in range(8)], versions_body,
           [11, 6, 17, 10, 12, 10, 30, 30])

