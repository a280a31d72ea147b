"""Use cases of document handling (办文): register, propose (拟办), assign with one tap (批办) or by
phone (电话请示, then 补签), send back, handle (办结), add files. Each commits the state change, the
messages and the deadlines it causes in one transaction, and re-checks role, the person the
document names and its state there."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import documents as rules
from bot.domain.documents import (
    Classification,
    DocDraft,
    DocRefusal,
    DocState,
    Document,
    ProposalDraft,
    Urgency,
)
from bot.domain.members import Action, Member, Role, can
from bot.fmt import esc
from bot.services import document_text as txt
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError, Stale
from storage import deadlines, drafts, members, outbox
from storage import documents as store
from storage.conn import Conn
from storage.uow import Tx

REF = "document"
MAX_FILES = 10


def limits(s: Services) -> dict[str, timedelta]:
    lim = s.config.documents.limits
    return {"normal": lim.normal, "urgent": lim.urgent, "very_urgent": lim.very_urgent}


def refusal(s: Services, why: DocRefusal, d: Document | None = None, **kw: object) -> ServiceError:
    return ServiceError(f"doc.refuse.{why.value}", number=d.number if d else "", **kw)


async def load(conn: Conn, member: Member, doc_id: int, action: Action) -> Document:
    if not can(member, action):
        raise NotAllowed()
    d = await store.get(conn, doc_id)
    if d is None:
        raise Stale()
    return d


async def names(conn: Conn) -> dict[int, str]:
    return {m.id: m.name for m in await members.all_members(conn)}


async def card_text(s: Services, tx: Tx, d: Document) -> str:
    return txt.card(s, d, await names(tx.conn), tx.now)


async def _tell(tx: Tx, people: list[Member | None], text: str, d: Document, tag: str,
                markup: dict[str, object] | None = None, exclude: int | None = None) -> set[int]:
    told: set[int] = set()
    for m in people:
        if m is None or not m.active or m.id == exclude or m.id in told:
            continue
        told.add(m.id)
        await tx.send_text(m.telegram_id, text, markup=markup, ref_kind=REF, ref_id=d.id, tag=tag)
    return told


async def _member(tx: Tx, member_id: int | None) -> Member | None:
    return await members.by_id(tx.conn, member_id) if member_id else None


async def _send_files(s: Services, tx: Tx, d: Document, who: Member | None) -> None:
    """A non-classified document's files go with it to the leader and the handler."""
    if who is None or not d.classification.attachments:
        return
    for kind, file_id, _name in await store.files(tx.conn, d.id):
        method = outbox.SEND_PHOTO if kind == "photo" else outbox.SEND_DOCUMENT
        await tx.send(who.telegram_id, method, {kind: file_id, "caption": txt.label(s, d)}, ref_kind=REF, ref_id=d.id)


async def _close(tx: Tx, d: Document, tag: str) -> None:
    """Cards of a step that is over lose their buttons."""
    for row in await outbox.sent_messages(tx.conn, REF, d.id, tag):
        await tx.send(row.chat_id, outbox.EDIT_MARKUP, {"edit_of": row.id, "reply_markup": {"inline_keyboard": []}},
                      ref_kind=REF, ref_id=d.id, tag="card_edit")


async def _replan(s: Services, tx: Tx, d: Document) -> None:
    """The limit's reminders and due check, from the document's state now (owner: see deadlines)."""
    for kind in rules.HANDLING_KINDS:
        await deadlines.cancel(tx.conn, kind, d.id, tx.now)
    if d.due_at is None or not d.open:
        return
    if d.overdue_at is not None and d.due_at <= tx.now:
        await tx.add_deadline(rules.CHASE, d.id, tx.now + s.config.documents.overdue_chase_every)
        return
    for kind, stage, when in rules.plan_reminders(d.due_at, tx.now, s.config.documents.remind_before):
        await tx.add_deadline(kind, d.id, when, stage)


def file_refusal(s: Services, level: Classification) -> ServiceError | None:
    """A file for a classified document: refused with why (机密 and above: never electronically)."""
    why = rules.may_attach(level)
    return None if why is None else ServiceError(f"doc.refuse.{why.value}", level=s.texts(f"doc.level.{level}"))


# --- 收文登记 -----------------------------------------------------------------------------------


DRAFT_KIND = "document"  # the /doc dialogue's draft (handlers/documents.py)


async def register(s: Services, member: Member, draft: DocDraft) -> Document:
    """Record the document; its limit runs from now by urgency. The office is asked to 拟办."""
    if not can(member, Action.REGISTER_DOCUMENT):
        raise NotAllowed()
    level = draft.level
    if not draft.complete() or level is None:
        raise ServiceError("doc.draft_lost")
    if draft.files and (err := file_refusal(s, level)) is not None:
        raise err  # never stored, whatever the dialogue let through
    async with s.uow() as tx:
        urgency = Urgency(draft.urgency)
        doc_id = await store.create(
            tx.conn, year=tx.now.astimezone(s.config.tz).year, title=draft.title, issuer=draft.issuer,
            doc_no=draft.doc_no, classification=level, urgency=urgency,
            received_at=datetime.fromisoformat(draft.received_at), summary=draft.summary if level.electronic else "",
            registered_by=member.id, due_at=rules.due_for(tx.now, urgency, limits(s)), now=tx.now)
        await store.add_files(tx.conn, doc_id, [(k, f, n) for k, f, n in draft.files[:MAX_FILES]])
        await store.add_event(tx.conn, doc_id, tx.now, member.id, "registered", name=member.name)
        d = await store.get(tx.conn, doc_id)
        assert d is not None
        text = s.texts("doc.registered", card=await card_text(s, tx, d))
        await tx.send_text(member.telegram_id, text, markup=txt.office_keyboard(s, d), ref_kind=REF, ref_id=d.id,
                           tag="office")
        directors = await members.with_roles(tx.conn, [Role.DIRECTOR])
        await _tell(tx, list(directors), s.texts("doc.new", card=await card_text(s, tx, d)), d, "office",
                    txt.office_keyboard(s, d), exclude=member.id)
        await _replan(s, tx, d)
        await drafts.mark_done(tx.conn, member.telegram_id, DRAFT_KIND, d.id, tx.now)  # 登记 again: not twice
        return d


async def add_files(s: Services, member: Member, doc_id: int, files: list[list[str]]) -> Document:
    """补充附件: only for a non-classified document, by the office."""
    async with s.uow() as tx:
        d = await load(tx.conn, member, doc_id, Action.REGISTER_DOCUMENT)
        if (err := file_refusal(s, d.classification)) is not None:
            raise err
        if not d.open:
            raise refusal(s, DocRefusal.DONE, d)
        room = MAX_FILES - d.files
        await store.add_files(tx.conn, d.id, [(k, f, n) for k, f, n in files[:max(room, 0)]])
        await store.add_event(tx.conn, d.id, tx.now, member.id, "files", name=member.name, n=min(len(files), room))
        fresh = await store.get(tx.conn, d.id)
        assert fresh is not None
        return fresh


# --- 拟办 -------------------------------------------------------------------------------------------


async def check_can_propose(s: Services, member: Member, doc_id: int) -> Document:
    d = await load(s.db.read, member, doc_id, Action.PROPOSE_DOCUMENT)
    if (why := rules.may_propose(d)) is not None:
        raise refusal(s, why, d)
    return d


async def leaders(s: Services) -> list[Member]:
    """Who may 批办: district leaders and office directors."""
    found = await members.with_roles(s.db.read, [Role.LEADER, Role.DIRECTOR])
    return [m for m in found if can(m, Action.ASSIGN_DOCUMENT)]


async def propose(s: Services, member: Member, draft: ProposalDraft) -> Document:
    """呈批: the leader named gets the card with 批办 / 退回; an urgent one may then go by phone."""
    if not draft.proposal or draft.handler_id is None or draft.leader_id is None:
        raise ServiceError("doc.draft_lost")
    async with s.uow() as tx:
        d = await load(tx.conn, member, draft.doc_id, Action.PROPOSE_DOCUMENT)
        if (why := rules.may_propose(d)) is not None:
            raise refusal(s, why, d)
        handler, leader = await _member(tx, draft.handler_id), await _member(tx, draft.leader_id)
        if handler is None or not handler.active or not can(handler, Action.HANDLE_DOCUMENT):
            raise ServiceError("doc.err_handler_gone")
        if leader is None or not can(leader, Action.ASSIGN_DOCUMENT):
            raise ServiceError("doc.err_leader_gone")
        due = datetime.fromisoformat(draft.due_at) if draft.due_at else d.due_at
        assert due is not None
        if not await store.propose(tx.conn, d.id, proposal=draft.proposal, handler_id=handler.id,
                                   handler_unit=handler.unit_code, leader_id=leader.id, due_at=due, by=member.id,
                                   now=tx.now):
            raise refusal(s, DocRefusal.NOT_REGISTERED, d)
        await store.add_event(tx.conn, d.id, tx.now, member.id, "proposed", name=member.name, leader=leader.name,
                              handler=handler.name, due=s.fmt.dt(due))
        fresh = await store.get(tx.conn, d.id)
        assert fresh is not None
        card = await card_text(s, tx, fresh)
        await _close(tx, fresh, "office")
        await tx.send_text(leader.telegram_id, s.texts("doc.ask_leader", card=card),
                           markup=txt.keyboard(s, fresh, txt.ASSIGN, txt.BACK), ref_kind=REF, ref_id=d.id, tag="leader")
        await _send_files(s, tx, fresh, leader)
        phone = [txt.PHONE] if fresh.urgency.by_phone else []
        await tx.send_text(member.telegram_id, s.texts("doc.proposed", number=fresh.number, leader=esc(leader.name)),
                           markup=txt.keyboard(s, fresh, *phone, txt.VIEW), ref_kind=REF, ref_id=d.id, tag="proposer")
        await _replan(s, tx, fresh)
        return fresh


async def _assigned(s: Services, tx: Tx, d: Document, by: Member, key: str) -> Document:
    """After 批办 or 电话请示: the handler gets the document with 办结; its limit is chased."""
    fresh = await store.get(tx.conn, d.id)
    assert fresh is not None
    handler = await _member(tx, fresh.handler_id)
    card = await card_text(s, tx, fresh)
    await _tell(tx, [handler], s.texts("doc.to_handler", card=card), fresh, "handler",
                txt.keyboard(s, fresh, txt.DONE, txt.VIEW))
    await _send_files(s, tx, fresh, handler)
    await _tell(tx, [await _member(tx, fresh.proposed_by), await _member(tx, fresh.registered_by)],
                s.texts(key, number=fresh.number, name=esc(by.name), handler=esc(handler.name if handler else "?")),
                fresh, "progress", exclude=by.id)
    await _replan(s, tx, fresh)
    return fresh


async def assign(s: Services, member: Member, doc_id: int) -> str:
    """批办, one tap: only the leader the proposal names, only while it waits for them."""
    async with s.uow() as tx:
        d = await load(tx.conn, member, doc_id, Action.ASSIGN_DOCUMENT)
        if (why := rules.may_assign(d, member.id)) is not None:
            raise refusal(s, why, d, leader=esc((await names(tx.conn)).get(d.leader_id or 0, "?")))
        if not await store.assign(tx.conn, d.id, member.id, tx.now):
            raise refusal(s, DocRefusal.NOT_PROPOSED, d)
        await store.add_event(tx.conn, d.id, tx.now, member.id, "assigned", name=member.name)
        await _close(tx, d, "leader")
        await _assigned(s, tx, d, member, "doc.assigned_notice")
        return s.texts("doc.assigned", number=d.number)


async def send_back(s: Services, member: Member, doc_id: int) -> str:
    """退回拟办: the leader returns the proposal; the office proposes again."""
    async with s.uow() as tx:
        d = await load(tx.conn, member, doc_id, Action.ASSIGN_DOCUMENT)
        if (why := rules.may_assign(d, member.id)) is not None:
            raise refusal(s, why, d, leader=esc((await names(tx.conn)).get(d.leader_id or 0, "?")))
        if not await store.send_back(tx.conn, d.id):
            raise refusal(s, DocRefusal.NOT_PROPOSED, d)
        await store.add_event(tx.conn, d.id, tx.now, member.id, "sent_back", name=member.name)
        await _close(tx, d, "leader")
        fresh = await store.get(tx.conn, d.id)
        assert fresh is not None
        await _tell(tx, [await _member(tx, d.proposed_by)], s.texts("doc.sent_back", number=d.number,
                                                                     name=esc(member.name)),
                    fresh, "office", txt.office_keyboard(s, fresh))
        await _replan(s, tx, fresh)
        return s.texts("doc.sent_back_done", number=d.number)


def _pressed(at: datetime, earliest: datetime | None, now: datetime) -> datetime:
    """When a step counts as done: the person's own time, never before the step could be taken nor after now."""
    return min(max(at, earliest or at), now)


async def by_phone(s: Services, member: Member, doc_id: int, *, at: datetime) -> str:
    """电话请示, pressed `at`: an urgent document the leader approved by phone is handled now and
    signed later, within sign_within of the press."""
    async with s.uow() as tx:
        d = await load(tx.conn, member, doc_id, Action.PROPOSE_DOCUMENT)
        if (why := rules.may_phone(d)) is not None:
            raise refusal(s, why, d)
        pol = s.config.documents
        phoned = _pressed(at, d.proposed_at, tx.now)
        sign_due = phoned + pol.sign_within
        if not await store.assign(tx.conn, d.id, member.id, phoned, sign_due_at=sign_due):
            raise refusal(s, DocRefusal.NOT_PROPOSED, d)
        leader = await _member(tx, d.leader_id)
        await store.add_event(tx.conn, d.id, tx.now, member.id, "by_phone", name=member.name,
                              leader=leader.name if leader else "?", due=s.fmt.dt(sign_due))
        await _close(tx, d, "leader")
        fresh = await _assigned(s, tx, d, member, "doc.phone_notice")
        await _tell(tx, [leader], s.texts("doc.ask_sign", number=d.number, due=s.fmt.dt(sign_due),
                                          card=await card_text(s, tx, fresh)), fresh, "sign",
                    txt.keyboard(s, fresh, txt.SIGN))
        if sign_due - pol.sign_remind_before > tx.now:
            await tx.add_deadline(rules.SIGN_REMIND, d.id, sign_due - pol.sign_remind_before)
        await tx.add_deadline(rules.SIGN_DUE, d.id, sign_due)
        return s.texts("doc.phoned", number=d.number, leader=esc(leader.name if leader else "?"),
                       due=s.fmt.dt(sign_due))


async def sign(s: Services, member: Member, doc_id: int, *, at: datetime) -> str:
    """补签 of a phone approval, by the leader who gave it, pressed `at`: late only if pressed after
    the limit for signing. Pressed in time but handled after the directors heard it was not signed
    (the bot got to it late): whoever heard that is told it was signed in time."""
    async with s.uow() as tx:
        d = await load(tx.conn, member, doc_id, Action.ASSIGN_DOCUMENT)
        if (why := rules.may_sign(d, member.id)) is not None:
            raise refusal(s, why, d, leader=esc((await names(tx.conn)).get(d.leader_id or 0, "?")))
        signed = _pressed(at, d.phone_at, tx.now)
        if not await store.sign(tx.conn, d.id, signed):
            raise refusal(s, DocRefusal.NOTHING_TO_SIGN, d)
        late = d.sign_due_at is not None and signed > d.sign_due_at
        await store.add_event(tx.conn, d.id, signed, member.id, "signed_late" if late else "signed", name=member.name)
        for kind in (rules.SIGN_REMIND, rules.SIGN_DUE):
            await deadlines.cancel(tx.conn, kind, d.id, tx.now)
        if not late:
            await _withdraw(s, tx, d, ("sign_overdue",), "doc.sign_overdue_withdrawn", signed, d.sign_due_at)
        await _close(tx, d, "sign")
        await _tell(tx, [await _member(tx, d.proposed_by)], s.texts("doc.signed_notice", number=d.number,
                                                                     name=esc(member.name)), d, "progress")
        return s.texts("doc.signed", number=d.number)


# --- someone named is gone (bot/services/member_gone.py) -----------------------------------------


async def member_gone(s: Services, tx: Tx, gone: Member) -> None:
    """In the transaction that deactivates `gone`: a document only they could move moves on. The leader
    named to 批办, or the handler named: the routing is void, the document is back at 拟办 (a new
    handler needs a leader's new 批办: 无签批不办) and the office is told, with 拟办 on the card. The
    leader who is to 补签 a phone approval: the office is told to complete the signature offline."""
    for d in await store.waiting_on(tx.conn, gone.id):
        office = [*await members.with_roles(tx.conn, [Role.DIRECTOR]), await _member(tx, d.proposed_by),
                  await _member(tx, d.registered_by)]
        if d.handler_id == gone.id or d.state is DocState.PROPOSED:
            why = "handler_gone" if d.handler_id == gone.id else "leader_gone"
            assigner = await _member(tx, d.assigned_by) if d.state is DocState.ASSIGNED else None
            if not await store.reopen(tx.conn, d.id):
                continue
            for kind in (rules.SIGN_REMIND, rules.SIGN_DUE):
                await deadlines.cancel(tx.conn, kind, d.id, tx.now)
            for tag in ("leader", "handler", "sign"):
                await _close(tx, d, tag)
            await store.add_event(tx.conn, d.id, tx.now, None, why, name=gone.name)
            fresh = await store.get(tx.conn, d.id)
            assert fresh is not None
            text = s.texts(f"doc.{why}_office", number=d.number, title=esc(d.title), name=esc(gone.name),
                           card=await card_text(s, tx, fresh))
            await _tell(tx, [*office, assigner], text, fresh, "office", txt.office_keyboard(s, fresh), exclude=gone.id)
            await _replan(s, tx, fresh)
        else:  # a phone approval its leader can no longer sign
            for kind in (rules.SIGN_REMIND, rules.SIGN_DUE):
                await deadlines.cancel(tx.conn, kind, d.id, tx.now)
            await _close(tx, d, "sign")
            await store.add_event(tx.conn, d.id, tx.now, None, "sign_leader_gone", name=gone.name)
            text = s.texts("doc.sign_leader_gone", number=d.number, title=esc(d.title), name=esc(gone.name))
            await _tell(tx, office, text, d, "sign_leader_gone", exclude=gone.id)


# --- 办结 ---------------------------------------------------------------------------------------


async def check_can_finish(s: Services, member: Member, doc_id: int) -> Document:
    d = await load(s.db.read, member, doc_id, Action.HANDLE_DOCUMENT)
    if (why := rules.may_finish(d, member.id)) is not None:
        raise refusal(s, why, d)
    return d


async def _withdraw(s: Services, tx: Tx, d: Document, tags: tuple[str, ...], key: str, sent: datetime,
                    due: datetime | None) -> None:
    """An alert that a step was not done in time went out before the step, done in time, was handled:
    every chat that got it (`tags`) hears it no longer holds. The alert's event stays on record."""
    chats = [row.chat_id for tag in tags for row in await outbox.sent_messages(tx.conn, REF, d.id, tag)]
    if not chats:
        return
    await store.add_event(tx.conn, d.id, tx.now, None, key.removeprefix("doc."))
    await tx.send_text_all(list(dict.fromkeys(chats)), s.texts(key, number=d.number, title=esc(d.title),
                                                               sent=s.fmt.dt(sent), due=s.fmt.dt(due)),
                           ref_kind=REF, ref_id=d.id, tag="withdrawn")


async def finish(s: Services, member: Member, doc_id: int, result: str, *, at: datetime) -> str:
    """办结 by the handler the 批办 names, never before a leader's signature (无签批不办), sent `at`:
    on time if sent by the limit, however late the bot got to it. Sent in time though the overdue
    flag was raised meanwhile: the flag goes, and whoever was told hears it."""
    async with s.uow() as tx:
        d = await load(tx.conn, member, doc_id, Action.HANDLE_DOCUMENT)
        if (why := rules.may_finish(d, member.id)) is not None:
            raise refusal(s, why, d)
        done = _pressed(at, d.assigned_at, tx.now)
        if not await store.finish(tx.conn, d.id, member.id, result, done):
            raise refusal(s, DocRefusal.DONE, d)
        if d.overdue_at is not None and d.due_at is not None and done <= d.due_at:
            await store.withdraw_overdue(tx.conn, d.id)
            await _withdraw(s, tx, d, ("overdue", "chase"), "doc.overdue_withdrawn", done, d.due_at)
        fresh = await store.get(tx.conn, d.id)
        assert fresh is not None
        how = s.texts("doc.late" if fresh.late else "doc.on_time")
        await store.add_event(tx.conn, d.id, done, member.id, "done", name=member.name, how=how)
        for kind in rules.HANDLING_KINDS:
            await deadlines.cancel(tx.conn, kind, d.id, tx.now)
        await _close(tx, d, "handler")
        text = s.texts("doc.done_notice", number=d.number, title=esc(d.title), name=esc(member.name), how=how)
        await _tell(tx, [await _member(tx, d.proposed_by), await _member(tx, d.leader_id),
                         await _member(tx, d.registered_by)], text, fresh, "done", exclude=member.id)
        return s.texts("doc.done", number=d.number, how=how)
