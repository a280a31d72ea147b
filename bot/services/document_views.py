"""Looking at documents (办文): /docs (open ones by state, overdue first), /doc N (the card and its
trail), and the counts of documents handled on time per handler and unit for /stats and /export."""

from __future__ import annotations

from datetime import datetime

from bot.domain import documents as rules
from bot.domain.documents import DocState, Document, HandlerTally
from bot.domain.members import Action, Member, can
from bot.domain.stats import Period
from bot.fmt import clip, clip_timeline, esc
from bot.services import document_text as txt
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError
from storage import documents as store
from storage import members


def may_view(member: Member, d: Document) -> bool:
    """The office and the leaders see every document; others the ones that name them."""
    return can(member, Action.VIEW_DOCUMENTS) or (member.active and member.id in (d.handler_id, d.leader_id))


async def list_text(s: Services, member: Member) -> str:
    """/docs: open documents, overdue first, then 待拟办, 待批办, 办理中; a handler sees their own."""
    everyone = can(member, Action.VIEW_DOCUMENTS)
    if not everyone and not can(member, Action.HANDLE_DOCUMENT):
        raise NotAllowed()
    conn, now = s.db.read, s.now()
    docs = rules.listing_order(await store.open_docs(conn, None if everyone else member.id), now)
    if not everyone:
        docs += [d for d in await store.open_docs(conn) if d.leader_id == member.id and d.state is DocState.PROPOSED
                 and d not in docs]
    if not docs:
        return s.texts("doc.list_none")
    names = {m.id: m.name for m in await members.all_members(conn)}
    lines = [s.texts("doc.list_title", count=len(docs))]
    section = None
    for d in docs:
        head = "overdue" if d.is_overdue(now) else d.state.value
        if head != section:
            section = head
            lines.append(s.texts(f"doc.list_section.{head}"))
        owner = {DocState.PROPOSED: d.leader_id, DocState.ASSIGNED: d.handler_id}.get(d.state)
        lines.append(s.texts(
            "doc.list_line", number=d.number, title=esc(d.title), level=s.texts(f"doc.level.{d.classification}"),
            urgency=s.texts(f"doc.urgency.{d.urgency}"), state=s.texts(f"doc.state.{d.state}"),
            owner=esc(names.get(owner, "")) if owner else "", due=s.fmt.dt(d.due_at)))
    return clip("\n".join(lines))


async def detail(s: Services, member: Member, number: str) -> tuple[str, Document]:
    """/doc N: the card and the trail (another person's document reads as absent)."""
    d = await store.by_number(s.db.read, number)
    if d is None or not may_view(member, d):
        raise ServiceError("doc.not_found", number=esc(number))
    names = {m.id: m.name for m in await members.all_members(s.db.read)}
    trail = [s.texts("doc.trail_line", time=s.fmt.dt(at), text=txt.event_text(s, kind, detail))
             for at, _actor, kind, detail in await store.events(s.db.read, d.id)]
    card = txt.card(s, d, names, s.now())
    return clip_timeline(lambda shown: s.texts("doc.detail", card=card, trail="\n".join(shown)), trail,
                         lambda n: s.texts("core.older_omitted", n=n)), d


def detail_keyboard(s: Services, member: Member, d: Document) -> dict[str, object] | None:
    """The next step the viewer may take on it."""
    if d.state is DocState.REGISTERED and can(member, Action.PROPOSE_DOCUMENT):
        return txt.office_keyboard(s, d)
    if d.state is DocState.PROPOSED and d.leader_id == member.id:
        return txt.keyboard(s, d, txt.ASSIGN, txt.BACK)
    if d.state is DocState.ASSIGNED and d.handler_id == member.id:
        return txt.keyboard(s, d, txt.DONE)
    if d.awaiting_signature and d.leader_id == member.id:
        return txt.keyboard(s, d, txt.SIGN)
    return None


# --- counting: on time per handler and unit --------------------------------------------------


async def tallies(s: Services, period: Period) -> tuple[list[Document], list[HandlerTally]]:
    docs = await store.registered_between(s.db.read, period.start, period.end)
    return docs, rules.tally(docs, s.now())


def tally_lines(s: Services, found: list[HandlerTally], names: dict[int, str]) -> list[str]:
    if not found:
        return []
    lines: list[str] = [s.texts("doc.stats_title")]
    for t in rules.by_unit(found):
        lines.append(s.texts("doc.stats_unit", unit=esc(s.unit_name(t.unit)), on_time=t.on_time, late=t.late,
                             open=t.open, overdue=t.overdue))
        for h in (x for x in found if x.unit == t.unit):
            lines.append(s.texts("doc.stats_handler", name=esc(names.get(h.handler_id, "?")), on_time=h.on_time,
                                 late=h.late, open=h.open, overdue=h.overdue))
    return lines


def _local(s: Services, when: datetime | None) -> datetime | None:
    return None if when is None else when.astimezone(s.config.tz).replace(tzinfo=None)


async def export_sheets(s: Services, period: Period) -> tuple[list[list[object]], list[list[object]]]:
    """The export's 办文 sheet (one row per document) and 办文统计 (per handler, then per unit)."""
    docs, found = await tallies(s, period)
    names = {m.id: m.name for m in await members.all_members(s.db.read)}
    t, now = s.texts, s.now()
    rows: list[list[object]] = []
    for d in docs:
        result = t("doc.x.open_overdue") if d.is_overdue(now) else t(f"doc.state.{d.state}") if d.late is None \
            else t("doc.late" if d.late else "doc.on_time")
        rows.append([d.number, d.title, d.issuer, d.doc_no, t(f"doc.level.{d.classification}"),
                     t(f"doc.urgency.{d.urgency}"), _local(s, d.received_at), _local(s, d.registered_at),
                     names.get(d.leader_id or 0, ""), names.get(d.handler_id or 0, ""),
                     s.unit_name(d.handler_unit) if d.handler_unit else "", _local(s, d.due_at),
                     _local(s, d.phone_at), _local(s, d.signed_at), _local(s, d.done_at), result])
    counts: list[list[object]] = [[names.get(h.handler_id, "?"), s.unit_name(h.unit), h.on_time, h.late, h.open,
                                   h.overdue] for h in found]
    counts += [[t("doc.x.unit_total"), s.unit_name(u.unit), u.on_time, u.late, u.open, u.overdue]
               for u in rules.by_unit(found)]
    return rows, counts
