"""The duty log (值班记录): /log adds an entry, `/log done N` closes its pending item, `/duty log
[date]` shows a duty day's log — written entries and what reached the duty room by itself, with
the handovers — and the export gets it as a sheet."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from typing import Any

from bot.domain import duty_log as rules
from bot.domain import roster as duty
from bot.domain.duty_log import AutoKind, EntryKind, LogDraft, LogLine
from bot.domain.members import Action, Member, can
from bot.domain.stats import Period
from bot.fmt import clip_timeline, esc
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError
from bot.services.roster import day_label, roster_rules
from storage import drafts, members
from storage import duty_log as store
from storage.duty_log import Entry


def entry_time(s: Services, text: str, *, at: datetime | None = None) -> datetime:
    """A typed time (`14:20`, `11-24 14:20`) as of `at` (when the person typed it; default now),
    or ServiceError with what is wrong."""
    try:
        return rules.parse_entry_time(text[:40], at or s.now(), s.config.tz)
    except rules.EntryTimeError as err:
        raise ServiceError(f"duty.err_{err.code}") from None


DRAFT_KIND = "duty_log"  # the /log dialogue's draft (handlers/duty_log.py)


async def add_entry(s: Services, member: Member, draft: LogDraft) -> Entry:
    if not can(member, Action.KEEP_DUTY_LOG):
        raise NotAllowed()
    when = draft.when
    if not draft.complete() or when is None or draft.kind is None:
        raise ServiceError("duty.draft_lost")
    async with s.uow() as tx:
        entry_id = await store.add_entry(
            tx.conn, at=when, kind=draft.kind, source=draft.source, content=draft.content, action=draft.action,
            pending=draft.pending, author_id=member.id, photos=draft.photos[:rules.MAX_PHOTOS], now=tx.now)
        found = await store.entry(tx.conn, entry_id)
        assert found is not None
        await drafts.mark_done(tx.conn, member.telegram_id, DRAFT_KIND, entry_id, tx.now)  # 完成 again: not twice
        return found


async def mark_done(s: Services, member: Member, entry_id: int) -> str:
    if not can(member, Action.KEEP_DUTY_LOG):
        raise NotAllowed()
    async with s.uow() as tx:
        e = await store.entry(tx.conn, entry_id)
        if e is None:
            raise ServiceError("duty.err_no_entry", id=entry_id)
        if not e.pending:
            raise ServiceError("duty.err_nothing_pending", id=entry_id)
        if not await store.mark_done(tx.conn, e.id, member.id, tx.now):
            raise ServiceError("duty.err_already_done", id=entry_id)
        return s.texts("duty.done", id=e.id, pending=esc(e.pending))


# --- a duty day's log -----------------------------------------------------------------------


def day_of(s: Services, arg: str) -> date | None:
    """`` (the duty day now), 今天/today, 昨天/yesterday, 2026-11-24, 11-24; None if unreadable."""
    r = roster_rules(s)
    today = duty.duty_day(s.now(), r)
    word = arg.strip().lower()
    if word in ("", "今天", "today"):
        return today
    if word in ("昨天", "yesterday"):
        return today - timedelta(days=1)
    day = duty.parse_day(word, today)
    return day if day is not None and day <= today + timedelta(days=1) else None


def window(s: Services, day: date) -> tuple[datetime, datetime]:
    """The duty day: from the first shift's start to the same time the next day."""
    return duty.window(day, duty.LEADER, roster_rules(s))


def _written(e: Entry) -> LogLine:
    return LogLine(e.at, e.kind, {"entry": e}, e.id)


def line_text(s: Services, line: LogLine, names: dict[int, str], when: bool = True) -> str:
    t, d = s.texts, line.text
    at = s.fmt.dt(line.at) if when else ""
    if line.kind in {k.value for k in EntryKind}:
        e: Entry = d["entry"]  # type: ignore[assignment]
        pending = ""
        if e.pending:
            pending = t("duty.line_pending_done" if e.pending_done_at else "duty.line_pending", pending=esc(e.pending))
        return t("duty.line_entry", time=at, id=e.id, kind=t(f"duty.kind.{e.kind}"), source=esc(e.source),
                 content=esc(e.content), action=esc(e.action) or t("duty.no_action"), pending=pending,
                 photos=t("duty.line_photos", n=e.photos) if e.photos else "", author=esc(e.author))
    kw: dict[str, Any] = {k: esc(v) for k, v in d.items()}
    if "unit" in d:
        kw["unit"] = esc(s.unit_name(str(d["unit"])))
    if line.kind == AutoKind.INCIDENT:
        kw["category"] = t(f"incident.cat.{d['category']}")
    if line.kind == AutoKind.ESCALATION:
        kw["what"] = t(f"duty.escalation.{d['what']}")
        kw["stage"] = t(f"incident.stage.{d['stage']}") if d.get("stage") else ""
    if line.kind == AutoKind.NOTICE:
        kw["urgent"] = t("duty.urgent_mark") if d.get("urgent") else ""
    if line.kind in (AutoKind.HANDED, AutoKind.TAKEN):
        by = d.get("by")
        kw["name"] = esc(names.get(by if isinstance(by, int) else 0, "?"))
        kw["notes"] = t("duty.line_notes", notes=esc(d["notes"])) if d.get("notes") else ""
    return t(f"duty.auto.{line.kind}", time=at, **kw).strip()


async def lines_between(s: Services, start: datetime, end: datetime) -> list[LogLine]:
    conn = s.db.read
    return rules.merged([_written(e) for e in await store.entries_between(conn, start, end)],
                        await store.automatic(conn, start, end))


async def day_text(s: Services, member: Member, arg: str) -> str:
    """/duty log [date]."""
    if not can(member, Action.VIEW_DUTY_LOG):
        raise NotAllowed()
    day = day_of(s, arg)
    if day is None:
        raise ServiceError("duty.log_usage")
    start, end = window(s, day)
    lines = await lines_between(s, start, end)
    label = day_label(s.texts, s.fmt, day)
    if not lines:
        return s.texts("duty.log_empty", day=label)
    names = {m.id: m.name for m in await members.all_members(s.db.read)}
    shown = [line_text(s, line, names) for line in lines]
    return clip_timeline(lambda rows: s.texts("duty.log_title", day=label, count=len(lines), lines="\n".join(rows)),
                         shown, lambda n: s.texts("core.older_omitted", n=n))


async def export_rows(s: Services, period: Period) -> list[list[object]]:
    """The export's duty-log sheet: every line of the period, written or automatic (Beijing time)."""
    names = {m.id: m.name for m in await members.all_members(s.db.read)}
    rows: list[list[object]] = []
    for line in await lines_between(s, period.start, period.end):
        local = line.at.astimezone(s.config.tz).replace(tzinfo=None)
        if line.entry_id is not None:
            e: Entry = line.text["entry"]  # type: ignore[assignment]
            done = e.pending_done_at.astimezone(s.config.tz).replace(tzinfo=None) if e.pending_done_at else None
            rows.append([local, s.texts(f"duty.kind.{e.kind}"), e.source, e.content, e.action, e.pending, done,
                         e.author, e.photos, s.texts("duty.x.written")])
        else:
            text = html.unescape(re.sub(r"<[^>]+>", "", line_text(s, line, names, when=False)))
            rows.append([local, s.texts(f"duty.x.auto_{line.kind}"), "", text, "", "", None, "", 0,
                         s.texts("duty.x.automatic")])
    return rows
