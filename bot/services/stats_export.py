"""/export: one Excel workbook for a period — incidents (stage times and lateness), leave,
notices and receipts, supervision items, information items, the duty log, documents (办文) and
how many each handler and unit handled on time. Chinese headers, Beijing times."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain import stats as rules
from bot.domain.incidents import DEADLINE_STAGES
from bot.domain.leave import whole_day_end
from bot.domain.members import Action, Member, can
from bot.domain.stats import Period
from bot.services.base import Services
from bot.services.errors import NotAllowed
from bot.services.info import scores as info_scores
from storage import stats as rows
from storage.db import from_db

if TYPE_CHECKING:  # openpyxl (and numpy under it) is imported on the first /export, not at start-up
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

TIME_FORMAT = "yyyy-mm-dd hh:mm"
HEAD_COLOUR = "DDEBF7"


def _local(s: Services, when: datetime | str | None) -> datetime | None:
    """Excel has no time zones: Beijing wall-clock time, without tzinfo."""
    if isinstance(when, str):
        when = from_db(when)
    return None if when is None else when.astimezone(s.config.tz).replace(tzinfo=None)


def _sheet(wb: Workbook, title: str, header: Sequence[str], body: Sequence[Sequence[object]],
           widths: Sequence[int]) -> Worksheet:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws: Worksheet = wb.create_sheet(title)
    ws.append(list(header))
    bold, fill = Font(bold=True), PatternFill("solid", fgColor=HEAD_COLOUR)
    centred = Alignment(horizontal="center", vertical="center")
    for cell in ws[1]:
        cell.font, cell.fill, cell.alignment = bold, fill, centred
    for row in body:
        ws.append(list(row))
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = TIME_FORMAT
            elif cell.data_type == "f":  # typed text such as "=…": openpyxl would store a live formula
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    return ws


def _leave_end(s: Services, end: str) -> datetime | None:
    """A whole-day leave shows its last day's 23:59 (it ends at the next midnight), as the chat shows that day."""
    when = from_db(end)
    if when is not None and whole_day_end(when, s.config.tz):
        when -= timedelta(minutes=1)
    return _local(s, when)


def _lateness(s: Services, st: rules.StageRow | None, now: datetime) -> str:
    if st is None:
        return ""
    status = rules.stage_status(st, now)
    if status == "late" and st.filed_at is not None:
        return s.texts("stats.x.late_by", minutes=int((st.filed_at - st.due_at).total_seconds() // 60))
    return s.texts(f"stats.x.{status}")


async def workbook(s: Services, member: Member, period: Period) -> bytes:
    if not can(member, Action.VIEW_STATS):
        raise NotAllowed()
    from openpyxl import Workbook

    conn, now, t = s.db.read, s.now(), s.texts
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]

    incs = await rows.incidents(conn, period)
    by_stage = {(st.incident_id, st.stage): st for st in await rows.stages(conn, period)}
    header = [t("stats.x.number"), t("stats.x.unit"), t("stats.x.category"), t("stats.x.status"),
              t("stats.x.learnt"), t("stats.x.reported"), t("stats.x.forwarded"), t("stats.x.forward_minutes")]
    for st in DEADLINE_STAGES:
        name = t(f"incident.stage.{st.value}")
        header += [t("stats.x.stage_due", stage=name), t("stats.x.stage_filed", stage=name),
                   t("stats.x.stage_state", stage=name)]
    body = []
    for i in incs:
        row: list[object] = [
            i.number, s.unit_name(i.unit), t(f"incident.cat.{i.category}"), t(f"stats.x.{i.status}"),
            _local(s, i.learnt_at), _local(s, i.created_at), _local(s, i.forwarded_at),
            round((i.forwarded_at - i.created_at).total_seconds() / 60, 1) if i.forwarded_at else None,
        ]
        for st in DEADLINE_STAGES:
            rec = by_stage.get((i.id, st.value))
            row += [_local(s, rec.due_at) if rec else None, _local(s, rec.filed_at) if rec else None,
                    _lateness(s, rec, now)]
        body.append(row)
    _sheet(wb, t("stats.x.sheet_incidents"), header, body, [11, 14, 12, 8, 17, 17, 17, 12] + [17, 17, 14] * 3)
    from bot.services import export_reporting  # the office's side: failures, findings, facts, versions

    await export_reporting.add_sheets(s, wb, period)

    body = [[r["id"], r["member_name"], s.unit_name(r["unit_code"]), t(f"leave.kind.{r['kind']}"),
             _local(s, r["start_at"]), _leave_end(s, r["end_at"]), r["destination"],
             t("stats.x.yes") if r["leaves_city"] else t("stats.x.no"), r["reason"], r["standin_name"] or "",
             t(f"leave.status.{r['status']}"),
             _local(s, r["returned_at"])] for r in await rows.leave_detail(conn, period)]
    _sheet(wb, t("stats.x.sheet_leave"),
           [t(f"stats.x.leave_h{i}") for i in range(12)], body, [7, 10, 14, 10, 17, 17, 14, 10, 24, 10, 10, 17])

    body = [[r["id"], r["title"], t(f"stats.x.notice_{r['kind']}"),
             t("stats.x.yes") if r["urgent"] else t("stats.x.no"), r["sender"], _local(s, r["created_at"]),
             _local(s, r["due_at"]), s.unit_name(r["unit_code"]),
             r["receiver"], _local(s, r["acked_at"]),
             round((from_db(r["acked_at"]) - from_db(r["created_at"])).total_seconds() / 60, 1)  # type: ignore[operator]
             if r["acked_at"] else None] for r in await rows.receipt_detail(conn, period)]
    _sheet(wb, t("stats.x.sheet_notices"), [t(f"stats.x.notice_h{i}") for i in range(11)], body,
           [7, 28, 8, 8, 10, 17, 17, 14, 10, 17, 12])

    body = []
    for r in await rows.task_detail(conn, period):
        due, done = from_db(r["due_at"]), from_db(r["done_at"])
        assert due is not None
        state = rules.task_status(rows.task_row(r), now)
        body.append([r["id"], r["title"], r["source"], s.unit_name(r["unit_code"]), _local(s, r["created_at"]),
                     _local(s, due), _local(s, r["accepted_at"]), _local(s, r["submitted_at"]), _local(s, done),
                     t(f"stats.x.task_{state}")])
    _sheet(wb, t("stats.x.sheet_tasks"), [t(f"stats.x.task_h{i}") for i in range(10)], body,
           [7, 28, 14, 14, 17, 17, 17, 17, 17, 10])

    sc = info_scores(s)
    body = [[r["id"], s.unit_name(r["unit_code"]), t(f"info.kind.{r['kind']}"), r["title"], r["author"],
             _local(s, r["submitted_at"]), t(f"info.mark.{r['mark']}"), sc.points(r["mark"]), _local(s, r["marked_at"])]
            for r in await rows.info_detail(conn, period)]
    _sheet(wb, t("stats.x.sheet_info"), [t(f"stats.x.info_h{i}") for i in range(9)], body,
           [7, 14, 12, 32, 10, 17, 10, 8, 17])

    from bot.services import duty_log

    _sheet(wb, t("duty.x.sheet"), [t(f"duty.x.h{i}") for i in range(10)], await duty_log.export_rows(s, period),
           [17, 10, 16, 40, 24, 24, 17, 10, 6, 10])

    from bot.services import document_views

    docs, counts = await document_views.export_sheets(s, period)
    _sheet(wb, t("doc.x.sheet"), [t(f"doc.x.h{i}") for i in range(16)], docs,
           [11, 32, 16, 18, 8, 8, 17, 17, 10, 10, 14, 17, 17, 17, 17, 12])
    _sheet(wb, t("doc.x.sheet_counts"), [t(f"doc.x.c{i}") for i in range(6)], counts, [14, 14, 10, 10, 10, 10])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
