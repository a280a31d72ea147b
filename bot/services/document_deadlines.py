"""What happens when a document's deadline row comes due (called by reminders/scheduler).

Before the limit the one who owes the next step is reminded (the office to 拟办, the leader to
批办, the handler to 办结); at the limit an open document is flagged overdue and the owner, the
proposer and the directors are told, then the owner is chased on a cadence, like supervision
items. A phone approval (电话请示) not signed in time is told to the directors and the proposer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from bot.domain import documents as rules
from bot.domain.documents import DocState, Document
from bot.domain.members import Member, Role
from bot.fmt import esc
from bot.services import document_text as txt
from bot.services.base import Services
from bot.services.documents import REF, card_text
from bot.services.supervision_deadlines import time_left
from reminders.kinds import On
from storage import documents as store
from storage import members
from storage.deadlines import Deadline
from storage.uow import Tx


async def owners(tx: Tx, d: Document) -> list[Member]:
    """Who owes the next step: the registrar (拟办), the leader named (批办), the handler (办结).
    拟办 is the office's work: with the registrar deactivated (or gone), the directors owe it, so a
    reminder or an overdue notice never goes to nobody. A leader or handler gone sends the document
    back to 拟办 (member_gone), so those two never stay unowned."""
    who = {DocState.REGISTERED: d.registered_by, DocState.PROPOSED: d.leader_id,
           DocState.ASSIGNED: d.handler_id}.get(d.state)
    m = await members.by_id(tx.conn, who) if who else None
    if m is not None and m.active:
        return [m]
    if d.state is DocState.REGISTERED:
        return [x for x in await members.with_roles(tx.conn, [Role.DIRECTOR]) if x.active]
    return []


async def _send(tx: Tx, people: list[Member], text: str, d: Document, tag: str,
                markup: dict[str, object] | None = None) -> int:
    seen: set[int] = set()
    for m in people:
        if m.active and m.id not in seen:
            seen.add(m.id)
            await tx.send_text(m.telegram_id, text, markup=markup, ref_kind=REF, ref_id=d.id, tag=tag)
    return len(seen)


def _owner_markup(s: Services, d: Document) -> dict[str, object] | None:
    if d.state is DocState.REGISTERED:
        return txt.office_keyboard(s, d)
    if d.state is DocState.ASSIGNED:
        return txt.keyboard(s, d, txt.DONE, txt.VIEW)
    return txt.keyboard(s, d, txt.VIEW)


async def remind(s: Services, tx: Tx, d_row: Deadline) -> None:
    d = await store.get(tx.conn, d_row.ref_id)
    if d is None or not d.open or d.due_at is None or d.due_at <= tx.now:
        return
    planned = timedelta(seconds=int(d_row.stage)) if d_row.stage.isdigit() else None
    left = s.fmt.dur(time_left(planned, d.due_at - tx.now))  # the true time left when it fires late
    text = s.texts("doc.remind", number=d.number, title=esc(d.title), due=s.fmt.dt(d.due_at), left=left,
                   state=s.texts(f"doc.state.{d.state}"))
    n = await _send(tx, await owners(tx, d), text, d, "remind", _owner_markup(s, d))
    await store.add_event(tx.conn, d.id, tx.now, None, "reminded", left=left, count=n)


async def due(s: Services, tx: Tx, d_row: Deadline) -> None:
    d = await store.get(tx.conn, d_row.ref_id)
    if d is None or not d.open or d.due_at is None or d.due_at > tx.now:
        return
    if not await store.flag_overdue(tx.conn, d.id, tx.now):
        return
    text = s.texts("doc.overdue", number=d.number, title=esc(d.title), due=s.fmt.dt(d.due_at),
                   state=s.texts(f"doc.state.{d.state}"))
    owner = await owners(tx, d)
    await _send(tx, owner, text, d, "overdue", _owner_markup(s, d))
    office = [m for m in await members.with_roles(tx.conn, [Role.DIRECTOR])]
    proposer = await members.by_id(tx.conn, d.proposed_by) if d.proposed_by else None
    rest = [m for m in (*office, *([proposer] if proposer else [])) if m.id not in {o.id for o in owner}]
    await _send(tx, rest, s.texts("doc.overdue_office", card=await card_text(s, tx, d)), d, "overdue")
    await store.add_event(tx.conn, d.id, tx.now, None, "overdue", state=s.texts(f"doc.state.{d.state}"))
    await tx.add_deadline(rules.CHASE, d.id, tx.now + s.config.documents.overdue_chase_every)


async def chase(s: Services, tx: Tx, d_row: Deadline) -> None:
    d = await store.get(tx.conn, d_row.ref_id)
    if d is None or not d.is_overdue(tx.now) or d.due_at is None:
        return
    text = s.texts("doc.chase", number=d.number, title=esc(d.title), due=s.fmt.dt(d.due_at),
                   delay=s.fmt.dur(tx.now - d.due_at), state=s.texts(f"doc.state.{d.state}"))
    n = await _send(tx, await owners(tx, d), text, d, "chase", _owner_markup(s, d))
    await store.add_event(tx.conn, d.id, tx.now, None, "chased", count=n)
    await tx.add_deadline(rules.CHASE, d.id, tx.now + s.config.documents.overdue_chase_every)


async def sign_remind(s: Services, tx: Tx, d_row: Deadline) -> None:
    d = await store.get(tx.conn, d_row.ref_id)
    if d is None or not d.awaiting_signature:
        return
    leader = await members.by_id(tx.conn, d.leader_id) if d.leader_id else None
    if leader is not None:
        await _send(tx, [leader], s.texts("doc.sign_remind", number=d.number, title=esc(d.title),
                                          due=s.fmt.dt(d.sign_due_at)), d, "sign", txt.keyboard(s, d, txt.SIGN))


async def sign_due(s: Services, tx: Tx, d_row: Deadline) -> None:
    d = await store.get(tx.conn, d_row.ref_id)
    if d is None or not d.awaiting_signature:
        return
    names = {m.id: m.name for m in await members.all_members(tx.conn)}
    text = s.texts("doc.sign_overdue", number=d.number, title=esc(d.title), due=s.fmt.dt(d.sign_due_at),
                   leader=esc(names.get(d.leader_id or 0, "?")))
    people = list(await members.with_roles(tx.conn, [Role.DIRECTOR]))
    if d.proposed_by and (p := await members.by_id(tx.conn, d.proposed_by)) is not None:
        people.append(p)
    await _send(tx, people, text, d, "sign_overdue")
    await store.add_event(tx.conn, d.id, tx.now, None, "sign_overdue")


HANDLERS = {rules.REMIND: remind, rules.DUE: due, rules.CHASE: chase, rules.SIGN_REMIND: sign_remind,
            rules.SIGN_DUE: sign_due}


async def limit_of(s: Services, tx: Tx, d_row: Deadline) -> datetime | None:
    """What a reminder before the limit warns of: the open document's (current) limit."""
    d = await store.get(tx.conn, d_row.ref_id)
    return d.due_at if d is not None and d.open else None


async def sign_limit_of(s: Services, tx: Tx, d_row: Deadline) -> datetime | None:
    """What the 补签 reminder warns of: the limit for signing a phone approval still unsigned."""
    d = await store.get(tx.conn, d_row.ref_id)
    return d.sign_due_at if d is not None and d.awaiting_signature else None


# Reminders that count down to a moment (scheduler `warns_of`): dropped once it has passed; the
# overdue alert and the chasing say how long it has been, true however late they fire.
WARNS_OF = {rules.REMIND: limit_of, rules.SIGN_REMIND: sign_limit_of}


def register(s: Services, on: On) -> None:
    for kind, fn in HANDLERS.items():
        warns = WARNS_OF.get(kind)
        on(kind, partial(fn, s), warns_of=partial(warns, s) if warns else None)
