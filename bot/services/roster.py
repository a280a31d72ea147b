"""Use cases of the duty roster: import a table, edit one day, show today and the week."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta

from bot.domain import roster as rules
from bot.domain.members import Action, Member, can
from bot.domain.roster import LEADER, DayEdit, Parsed, RosterRules, Slot
from bot.fmt import Fmt, esc
from bot.i18n import Texts
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError
from storage import members, roster

MAX_FILE = 2_000_000
MAX_ERRORS = 10


def day_label(t: Texts, fmt: Fmt, day: date) -> str:
    """`11月25日（周三）`; the year too when not this year."""
    return t("roster.day_label", date=fmt.day(day, long=True), weekday=t(f"roster.weekday.{day.weekday()}"))


def roster_rules(s: Services) -> RosterRules:
    r = s.config.roster
    return rules.rules_from(s.config.tz, [(x.name, x.label, x.start, x.end) for x in r.shifts], r.posts)


def read_table(file_name: str, data: bytes) -> list[list[object]]:
    """The rows of a .csv (UTF-8 or GBK, as Excel in China saves it) or the first sheet of an .xlsx."""
    name = file_name.lower()
    if len(data) > MAX_FILE:
        raise ServiceError("roster.err.too_big")
    if name.endswith(".csv"):
        for enc in ("utf-8-sig", "gbk"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ServiceError("roster.err.bad_file")
        return [list(r) for r in csv.reader(io.StringIO(text))]
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise ServiceError("roster.err.bad_file") from None
        ws = wb.worksheets[0]
        rows: list[list[object]] = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
        return rows
    raise ServiceError("roster.err.bad_type")


def _errors_text(s: Services, parsed: Parsed) -> str:
    lines = [s.texts("roster.import_failed", count=len(parsed.errors))]
    for row, key, kw in parsed.errors[:MAX_ERRORS]:
        lines.append(s.texts("roster.err_line", row=row, problem=s.texts(key, **{k: esc(v) for k, v in kw.items()})))
    if len(parsed.errors) > MAX_ERRORS:
        lines.append(s.texts("roster.err_more", n=len(parsed.errors) - MAX_ERRORS))
    return "\n".join(lines)


def _parsed(s: Services, rows: list[list[object]], r: RosterRules, people: list[Member], today: date) -> Parsed:
    parsed = rules.parse_rows(rows, r, people, today)
    if parsed.errors:
        raise ServiceError("roster.raw", text=_errors_text(s, parsed))
    return parsed


def _slots(r: RosterRules, day: date, shift: str, holders: Sequence[tuple[int, int]]) -> list[Slot]:
    start, end = rules.window(day, shift, r)
    return [Slot(day, shift, post, member_id, start, end) for post, member_id in holders]


async def import_table(s: Services, by: Member | None, file_name: str, data: bytes) -> str:
    """All or nothing: every day in the table replaces that day's roster. `by=None` is the CLI."""
    if by is not None and not can(by, Action.MANAGE_ROSTER):
        raise NotAllowed()
    rows = read_table(file_name, data)
    r = roster_rules(s)
    today = s.now().astimezone(s.config.tz).date()
    people = await members.all_members(s.db.read)
    parsed = _parsed(s, rows, r, people, today)  # outside the lock: a big table takes a while
    async with s.uow() as tx:
        # Names were resolved against committed rows read before this transaction: if a member was
        # deactivated or a namesake registered since, resolve again against what it sees.
        now_people = await members.all_members(tx.conn)
        if now_people != people:
            parsed = _parsed(s, rows, r, now_people, today)
        for day in parsed.days:
            await roster.clear_day(tx.conn, day)
            shifts = [sh.name for sh in r.shifts] + [LEADER]
            for shift in shifts:
                holders = [(e.post, e.member_id) for e in parsed.entries if e.day == day and e.shift == shift]
                await roster.replace_shift(tx.conn, day, shift, _slots(r, day, shift, holders), tx.now,
                                           by.id if by else None)
        await members.audit(tx.conn, tx.now, by.id if by else None, "roster_import",
                            f"{min(parsed.days)}..{max(parsed.days)}")
    return s.texts("roster.imported", days=len(parsed.days), first=min(parsed.days).isoformat(),
                   last=max(parsed.days).isoformat(), slots=len(parsed.entries))


async def set_shift(s: Services, by: Member, edit: DayEdit) -> str:
    """`/duty set`: the named people hold that shift (or lead) that day; no names clears it."""
    if not can(by, Action.MANAGE_ROSTER):
        raise NotAllowed()
    r = roster_rules(s)
    async with s.uow() as tx:
        # Names resolve in the transaction that writes them: a member deactivated (or a namesake
        # registered) by an admin a moment ago must be refused as it would be a moment later.
        people = await members.all_members(tx.conn)
        holders: list[tuple[int, int]] = []
        for post, word in enumerate(edit.names, 1):
            member, problem = rules.resolve(word, edit.shift, people)
            if problem is not None or member is None:
                raise ServiceError(problem or "roster.err.unknown_name", name=esc(word))
            if any(mid == member.id for _, mid in holders):
                raise ServiceError("roster.err.twice", name=esc(word))
            holders.append((post, member.id))
        await roster.replace_shift(tx.conn, edit.day, edit.shift, _slots(r, edit.day, edit.shift, holders),
                                   tx.now, by.id)
        await members.audit(tx.conn, tx.now, by.id, "roster_set", f"{edit.day} {edit.shift}")
    return s.texts("roster.set_done", day=day_label(s.texts, s.fmt, edit.day),
                   shift=shift_label(s, r, edit.shift),
                   names=esc(s.texts("core.list_sep").join(edit.names)) or s.texts("roster.nobody"))


def shift_label(s: Services, r: RosterRules, shift: str) -> str:
    if shift == LEADER:
        return s.texts("roster.leader")
    sh = next((x for x in r.shifts if x.name == shift), None)
    return esc(sh.label) if sh else shift


async def week_text(s: Services, viewer: Member) -> str:
    """/duty: who is on now, then today and the next six days."""
    if not can(viewer, Action.VIEW_ROSTER):
        raise NotAllowed()
    r = roster_rules(s)
    now = s.now()
    today = rules.duty_day(now, r)
    slots = await roster.between(s.db.read, today, today + timedelta(days=6))
    names = {m.id: m.name for m in await members.all_members(s.db.read)}
    sep = s.texts("core.list_sep")

    def who(ss: list[Slot]) -> str:
        return esc(sep.join(names.get(x.member_id, "?") for x in sorted(ss, key=lambda x: x.post))) \
            or s.texts("roster.nobody")

    on = rules.on_at(slots, now)
    lead = rules.leader_at(slots, now)
    lines: list[str] = [s.texts("roster.now", who=who(on), leader=who([lead] if lead else []))]
    for i in range(7):
        day = today + timedelta(days=i)
        day_slots = [x for x in slots if x.day == day]
        lines.append(s.texts("roster.day_title" if i else "roster.today_title",
                             day=day_label(s.texts, s.fmt, day)))
        if not day_slots:
            lines.append(s.texts("roster.day_empty"))
            continue
        for sh in r.shifts:
            lines.append(s.texts("roster.shift_line", shift=esc(sh.label), start=sh.start.strftime("%H:%M"),
                                 end=sh.end.strftime("%H:%M"), who=who([x for x in day_slots if x.shift == sh.name])))
        lines.append(s.texts("roster.leader_line", who=who([x for x in day_slots if x.shift == LEADER])))
    lines.append(s.texts("roster.hint_set") if can(viewer, Action.MANAGE_ROSTER) else "")
    return "\n".join(x for x in lines if x)
