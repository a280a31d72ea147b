"""Use cases of routine information (政务信息报送): submit, mark adoption, monthly statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import callbacks as cb
from bot.config import Unit
from bot.domain import cron
from bot.domain.info import (
    ADOPTED,
    REVIEW_MARKS,
    InfoDraft,
    InfoItem,
    Mark,
    QuotaPolicy,
    Ranked,
    Scores,
    UnitTally,
    month_bounds,
    quota_week,
    rank_units,
    still_due,
)
from bot.domain.members import Action, Member, Role, can
from bot.fmt import esc
from bot.services.base import Services
from bot.services.edits import still_told
from bot.services.errors import NotAllowed, ServiceError, Stale
from bot.services.routing import unit_reporters
from storage import drafts, info, members, outbox
from storage.conn import Conn
from storage.uow import Tx

REF = "info"
DRAFT_KIND = "info"  # the /info dialogue's row in the drafts table
REVIEW_TAG = "review"
PREFIX = cb.INFO_MARK  # callback data of the review buttons: n:<mark>:<item id>
DIALOG_PREFIX = cb.INFO_DRAFT  # the /info dialogue's buttons: nw:k:<kind>, nw:ok, nw:x, nw:new (start)
MARK_ACTIONS = tuple(m.value for m in REVIEW_MARKS)
QUOTA_UNIT_KINDS = ("street", "bureau")  # the office itself owes no quota


def scores(s: Services) -> Scores:
    p = s.config.info
    return Scores(p.score_district, p.score_city, p.score_province, p.score_instruction)


def quota_policy(s: Services) -> QuotaPolicy:
    p = s.config.info
    return QuotaPolicy(
        quota=p.weekly_quota, deadline=cron.parse(p.deadline),
        reminders=tuple(dict.fromkeys(cron.parse(r) for r in p.reminders)),
        scores=scores(s),
        bulletin=cron.parse(p.bulletin),
    )


def quota_units(s: Services) -> list[Unit]:
    return [u for u in s.config.units if u.kind in QUOTA_UNIT_KINDS]


async def reviewers(conn: Conn) -> list[Member]:
    """Who marks items: the office's directors and the info editors."""
    return await members.with_roles(conn, [Role.DIRECTOR, Role.INFO_EDITOR])


# --- texts ------------------------------------------------------------------------------


def mark_name(s: Services, mark: Mark) -> str:
    return s.texts(f"info.mark.{mark.value}")


def review_keyboard(s: Services, item_id: int) -> dict[str, object]:
    btn = [(s.texts(f"info.btn.{m.value}"), f"{PREFIX}:{m.value}:{item_id}") for m in REVIEW_MARKS]
    return cb.keyboard([btn[:3], btn[3:]])


async def review_text(s: Services, conn: Conn, item: InfoItem, files: int) -> str:
    author = await members.by_id(conn, item.author_id)
    text: str = s.texts(
        "info.review", id=item.id, unit=esc(s.unit_name(item.unit_code)), kind=s.texts(f"info.kind.{item.kind}"),
        author=esc(author.name if author else "?"), time=s.fmt.dt(item.submitted_at), title=esc(item.title),
        body=esc(item.body), files=files,
    )
    if item.mark is not Mark.PENDING and item.marked_by is not None:
        who = await members.by_id(conn, item.marked_by)
        text += "\n\n" + s.texts("info.review_marked", mark=mark_name(s, item.mark),
                                 name=esc(who.name if who else "?"), time=s.fmt.dt(item.marked_at))
    return text


def progress_line(s: Services, sent: int, quota: int, week_end: datetime) -> str:
    due = still_due(sent, quota)
    key = "info.progress_due" if due else "info.progress_met"
    return s.texts(key, sent=sent, quota=quota, due=due, deadline=s.fmt.dt(week_end))


# --- use cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    item: InfoItem
    receipt: str


async def submit(s: Services, member: Member, draft: InfoDraft, *, at: datetime) -> Submitted:
    """Store the item for the member's unit and tell the office, in one transaction. It counts for
    the week it was sent in (`at`), however late the bot got to it."""
    if not can(member, Action.SUBMIT_INFO):
        raise NotAllowed()
    if not draft.complete() or draft.kind is None:
        raise ServiceError("info.draft_lost")
    pol = quota_policy(s)
    async with s.uow() as tx:
        sent_at = min(at, tx.now)
        _, week_end = quota_week(sent_at, pol.deadline, s.config.tz)
        item_id = await info.create(tx.conn, unit_code=member.unit_code, author_id=member.id, kind=draft.kind,
                                    title=draft.title, body=draft.body, now=sent_at, week_end=week_end)
        await info.count_late_item(tx.conn, member.unit_code, week_end)
        await info.add_attachments(tx.conn, item_id, draft.files)
        item = await info.get(tx.conn, item_id)
        assert item is not None
        text = await review_text(s, tx.conn, item, len(draft.files))
        markup = review_keyboard(s, item_id)
        for m in await reviewers(tx.conn):
            if m.id == member.id:
                continue
            await tx.send_text(m.telegram_id, text, markup=markup, ref_kind=REF, ref_id=item_id, tag=REVIEW_TAG)
            for kind, file_id in draft.files:
                method, key = (outbox.SEND_PHOTO, "photo") if kind == "photo" else (outbox.SEND_DOCUMENT, "document")
                await tx.send(m.telegram_id, method, {key: file_id, "caption": f"#{item_id}"},
                              ref_kind=REF, ref_id=item_id, tag="file")
        await members.audit(tx.conn, tx.now, member.id, "info_submit", str(item_id))
        await drafts.mark_done(tx.conn, member.telegram_id, DRAFT_KIND, item_id, tx.now)  # 提交 again: not twice
        sent = (await info.count_for_week(tx.conn, week_end)).get(member.unit_code, 0)
    receipt = s.texts("info.submitted", id=item_id, title=esc(item.title)) + "\n" + progress_line(
        s, sent, pol.quota, week_end)
    return Submitted(item, receipt)


@dataclass(frozen=True)
class Marked:
    item: InfoItem
    answer: str


async def mark(s: Services, member: Member, item_id: int, value: str) -> Marked:
    """An office reviewer marks the item; the author and the unit's head are told."""
    try:
        new = Mark(value)
    except ValueError:
        raise Stale() from None
    if new not in REVIEW_MARKS:
        raise Stale()
    # Reviewing is district-wide by nature: info editors hold no district role, so no unit check.
    if not can(member, Action.REVIEW_INFO):
        raise NotAllowed()
    pol = quota_policy(s)
    async with s.uow() as tx:
        item = await info.get(tx.conn, item_id)
        if item is None:
            raise Stale()
        if not await info.set_mark(tx.conn, item.id, new, member.id, tx.now):
            raise ServiceError("info.same_mark", id=item.id, mark=mark_name(s, new))
        fresh = await info.get(tx.conn, item.id)
        assert fresh is not None
        await members.audit(tx.conn, tx.now, member.id, "info_mark", f"{item.id}:{new.value}")
        # Every reviewer's copy shows who marked what; the buttons stay for a later upgrade.
        files = len(await info.attachments(tx.conn, item.id))
        text = await review_text(s, tx.conn, fresh, files)
        markup = review_keyboard(s, item.id)
        copies = await outbox.sent_messages(tx.conn, REF, item.id, REVIEW_TAG)
        for row in await still_told(tx.conn, copies, lambda m: can(m, Action.REVIEW_INFO)):
            await tx.send(row.chat_id, outbox.EDIT_TEXT,
                          {"edit_of": row.id, "text": text, "parse_mode": "HTML", "reply_markup": markup},
                          ref_kind=REF, ref_id=item.id, tag="review_edit")
        points = pol.scores.points(new)
        key = "info.told_adopted" if new in ADOPTED else "info.told_rejected"
        told = s.texts(key, id=item.id, title=esc(item.title), unit=esc(s.unit_name(item.unit_code)),
                       mark=mark_name(s, new), points=points, name=esc(member.name))
        audience = await _author_and_heads(tx, item)
        for m in audience:
            if m.id != member.id:
                await tx.send_text(m.telegram_id, told, ref_kind=REF, ref_id=item.id, tag="marked")
    answer = s.texts("info.marked_ok", id=item.id, mark=mark_name(s, new))
    return Marked(fresh, answer)


async def _author_and_heads(tx: Tx, item: InfoItem) -> list[Member]:
    out: dict[int, Member] = {}
    author = await members.by_id(tx.conn, item.author_id)
    if author is not None and author.active:
        out[author.id] = author
    for head in await members.with_roles(tx.conn, [Role.UNIT_HEAD], item.unit_code):
        out.setdefault(head.id, head)
    return list(out.values())


# --- weekly quota -----------------------------------------------------------------------


async def short_units(s: Services, conn: Conn, week_end: datetime) -> list[tuple[Unit, int]]:
    """(unit, items still due) for every quota unit short of the quota of the week ending `week_end`."""
    quota = s.config.info.weekly_quota
    counts = await info.count_for_week(conn, week_end)
    out = []
    for unit in quota_units(s):
        due = still_due(counts.get(unit.code, 0), quota)
        if due:
            out.append((unit, due))
    return out


async def remind_short_units(s: Services, tx: Tx, week_end: datetime) -> int:
    """Ping the officers and head of each unit still short; returns how many units."""
    quota = s.config.info.weekly_quota
    markup = cb.keyboard([[(s.texts("info.btn.submit"), f"{DIALOG_PREFIX}:new")]])
    short = await short_units(s, tx.conn, week_end)
    for unit, due in short:
        text = s.texts("info.remind", unit=esc(s.unit_name(unit.code)), deadline=s.fmt.dt(week_end),
                       quota=quota, sent=quota - due, due=due)
        for m in await unit_reporters(tx.conn, unit.code):
            await tx.send_text(m.telegram_id, text, markup=markup, ref_kind=REF, ref_id=0, tag="quota_remind")
    return len(short)


async def close_week(s: Services, tx: Tx, week_end: datetime) -> list[str]:
    """Record every quota unit's week; returns the codes of the units that ended short."""
    quota = s.config.info.weekly_quota
    counts = await info.count_for_week(tx.conn, week_end)
    short = []
    for unit in quota_units(s):
        sent = counts.get(unit.code, 0)
        await info.record_week(tx.conn, unit.code, week_end, sent, quota, tx.now)
        if sent < quota:
            short.append(unit.code)
    return short


# --- monthly statistics -------------------------------------------------------------------


async def month_ranking(s: Services, conn: Conn, year: int, month: int) -> list[Ranked]:
    start, end = month_bounds(year, month, s.config.tz)
    sent = await info.submitted_between(conn, start, end)
    adopted = await info.adopted_between(conn, start, end)
    weeks = await info.weeks_between(conn, start, end)
    tallies = [
        UnitTally(u.code, sent.get(u.code, 0), adopted.get(u.code, {}), *weeks.get(u.code, (0, 0)))
        for u in quota_units(s)
    ]
    return rank_units(tallies, quota_policy(s).scores)


async def stats_text(s: Services, conn: Conn, year: int, month: int, *, bulletin: bool = False) -> str:
    ranking = await month_ranking(s, conn, year, month)
    sc = quota_policy(s).scores
    lines = [s.texts("info.stats_title_bulletin" if bulletin else "info.stats_title", year=year, month=month),
             s.texts("info.stats_rules", district=sc.district, city=sc.city, province=sc.province,
                     instruction=sc.instruction, quota=s.config.info.weekly_quota)]
    for r in ranking:
        t = r.tally
        lines.append(s.texts(
            "info.stats_line", rank=r.rank, unit=esc(s.unit_name(t.unit_code)), submitted=t.submitted,
            adopted=t.adopted_total, district=t.adopted.get(Mark.DISTRICT, 0), city=t.adopted.get(Mark.CITY, 0),
            province=t.adopted.get(Mark.PROVINCE, 0), instruction=t.adopted.get(Mark.INSTRUCTION, 0),
            score=r.score, met=t.weeks_met, weeks=t.weeks_total,
        ))
    if not ranking:
        lines.append(s.texts("info.stats_none"))
    total_sent = sum(r.tally.submitted for r in ranking)
    total_adopted = sum(r.tally.adopted_total for r in ranking)
    lines.append(s.texts("info.stats_total", submitted=total_sent, adopted=total_adopted))
    return "\n".join(lines)


async def send_bulletin(s: Services, tx: Tx, year: int, month: int) -> int:
    """The monthly bulletin to the directors and, if configured, the bound group."""
    text = await stats_text(s, tx.conn, year, month, bulletin=True)
    chats = [m.telegram_id for m in await members.with_roles(tx.conn, [Role.DIRECTOR])]
    if s.config.info.bulletin_chat_id:
        chats.append(s.config.info.bulletin_chat_id)
    for chat in dict.fromkeys(chats):
        await tx.send_text(chat, text, ref_kind=REF, ref_id=0, tag="bulletin")
    return len(chats)
