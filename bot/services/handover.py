"""交接班 at every shift change: the outgoing officers get a handover draft (pending log entries,
open incidents and their next deadlines, unsigned urgent notices, what is not yet forwarded to the
city), add notes and press 交班; the incoming officers then press 接班. Both times are kept; a shift
change nobody took over within `[roster] takeover_within` is alerted to the directors.

The shift changes are recurring rows of the deadline table (kind roster.handover, stage = the
crontab line of a shift's start, "30 8 * * *"): each firing plants its next occurrence in the same
transaction.
"""

from __future__ import annotations

from datetime import datetime

from bot import callbacks as cb
from bot.domain import cron as crontab
from bot.domain import duty_log as rules
from bot.domain import roster as duty
from bot.domain.duty_log import Handover
from bot.domain.members import Action, Member, Role, can
from bot.fmt import esc
from bot.services import incident_text
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError, Stale
from bot.services.roster import roster_rules
from storage import deadlines, incidents, members, outbox, roster
from storage import duty_log as store
from storage.deadlines import Deadline
from storage.uow import Tx

REF = "handover"
PREFIX = cb.HANDOVER
NOTE, HAND, TAKE = "note", "hand", "take"
ACTIONS = (NOTE, HAND, TAKE)
RECURRING_REF = 0


# --- when -------------------------------------------------------------------------------------


def change_times(s: Services) -> list[str]:
    """The configured handover moments as crontab lines: every shift's start ("shifts"), the
    configured crontab, or none ("")."""
    want = s.config.roster.handover
    if want == "shifts":
        return [f"{t.minute} {t.hour} * * *" for t in duty.shift_changes(roster_rules(s))]
    return [want] if want else []


def schedule_of(stage: str) -> str:
    """A row's crontab line (rows planted before the crontab notation say "08:30")."""
    return crontab.legacy(stage) or stage


def next_at(s: Services, after: datetime, line: str) -> datetime:
    """The first time of the crontab `line` ([general] timezone) strictly after `after`."""
    return crontab.parse(line).after(after, s.config.tz)


# --- what is handed over ---------------------------------------------------------------------


async def items_text(s: Services, tx: Tx) -> str:
    """The handover draft's body: every open matter the next shift inherits, by kind."""
    now, t = tx.now, s.texts
    pending = [t("duty.item_pending", id=e.id, time=s.fmt.dt(e.at), kind=t(f"duty.kind.{e.kind}"),
                 source=esc(e.source), pending=esc(e.pending)) for e in await store.open_pending(tx.conn)]
    open_incidents = await incidents.list_open(tx.conn)
    inc_lines = [t("duty.item_incident", number=i.number, unit=esc(s.unit_name(i.unit_code)),
                   category=t(f"incident.cat.{i.category}"), next=incident_text.next_deadline_text(s, i, now))
                 for i in open_incidents]
    notices = [t("duty.item_notice", title=esc(title), missing=missing, due=s.fmt.dt(due))
               for _id, title, missing, due in await store.unsigned_urgent_notices(tx.conn)]
    unforwarded = [t("duty.item_unforwarded", number=i.number, unit=esc(s.unit_name(i.unit_code)),
                     since=s.fmt.dur(now - i.created_at)) for i in open_incidents if i.forwarded_at is None]
    none = t("duty.item_none")
    return t("duty.items", pending="\n".join(pending) or none, incidents="\n".join(inc_lines) or none,
             notices="\n".join(notices) or none, unforwarded="\n".join(unforwarded) or none)


async def _names(tx: Tx, ids: tuple[int, ...], s: Services) -> str:
    found = [m.name for i in ids if (m := await members.by_id(tx.conn, i)) is not None]
    return esc(s.texts("core.list_sep").join(found)) or s.texts("duty.nobody")


def _keyboard(s: Services, h: Handover, *actions: str) -> dict[str, object]:
    labels = {NOTE: "duty.btn.note", HAND: "duty.btn.hand", TAKE: "duty.btn.take"}
    return cb.keyboard([[(s.texts(labels[a]), f"{PREFIX}:{a}:{h.id}") for a in actions]])


async def _send(tx: Tx, ids: tuple[int, ...], text: str, h: Handover, tag: str,
                markup: dict[str, object] | None = None) -> None:
    for member_id in ids:
        m = await members.by_id(tx.conn, member_id)
        if m is not None and m.active:
            await tx.send_text(m.telegram_id, text, markup=markup, ref_kind=REF, ref_id=h.id, tag=tag)


async def _take_card(s: Services, tx: Tx, h: Handover) -> None:
    """The incoming officers: what they inherit, the notes, and 接班."""
    handed = s.texts("duty.handed_line", name=await _names(tx, (h.handed_by,) if h.handed_by else (), s),
                     time=s.fmt.dt(h.handed_at)) if h.handed_at else s.texts("duty.no_outgoing")
    text = s.texts("duty.take_card", time=s.fmt.dt(h.at), handed=handed,
                   notes=esc(h.notes) or s.texts("duty.item_none"), items=await items_text(s, tx))
    await _send(tx, h.incoming, text, h, "take", _keyboard(s, h, TAKE))


# --- the shift change fires ---------------------------------------------------------------------


async def _plant_next(s: Services, tx: Tx, d: Deadline) -> None:
    if (line := schedule_of(d.stage)) in change_times(s):
        await tx.add_deadline(duty.HANDOVER, RECURRING_REF, next_at(s, max(d.due_at, tx.now), line), line)


async def takeover_due(s: Services, tx: Tx, d: Deadline) -> datetime | None:
    """What a shift change's handover draft is for: 接班 by `takeover_within` after the change."""
    return d.due_at + s.config.roster.takeover_within


async def skip(s: Services, tx: Tx, d: Deadline) -> None:
    """A shift change the bot slept through, past its takeover window: no draft, no check; the next one."""
    await _plant_next(s, tx, d)


async def fire(s: Services, tx: Tx, d: Deadline) -> None:
    """At a shift change: plant the next one, record the handover, send the draft (or the 接班 card)."""
    await _plant_next(s, tx, d)
    at = d.due_at
    outgoing, incoming = duty.handover_pairs(await roster.ending_or_covering(tx.conn, at), at)
    out_ids = tuple(dict.fromkeys(x.member_id for x in outgoing))
    in_ids = tuple(dict.fromkeys(x.member_id for x in incoming if x.starts_at == at))
    if not out_ids and not in_ids:
        return
    h = await store.create_handover(tx.conn, at, out_ids, in_ids, tx.now)
    if h is None:
        return
    if out_ids:
        text = s.texts("duty.draft", time=s.fmt.dt(at), outgoing=await _names(tx, out_ids, s),
                       incoming=await _names(tx, in_ids, s), items=await items_text(s, tx))
        await _send(tx, out_ids, text, h, "draft", _keyboard(s, h, NOTE, HAND))
    else:
        await _take_card(s, tx, h)
    await tx.add_deadline(rules.HANDOVER_CHECK, h.id, at + s.config.roster.takeover_within)


async def check(s: Services, tx: Tx, d: Deadline) -> None:
    """No 接班 within the delay: the directors are told, once."""
    h = await store.handover(tx.conn, d.ref_id)
    if h is None or not rules.needs_alert(h) or not await store.set_alerted(tx.conn, h.id, tx.now):
        return
    state = s.texts("duty.alert_handed", name=await _names(tx, (h.handed_by,), s), time=s.fmt.dt(h.handed_at)) \
        if h.handed_at and h.handed_by else s.texts("duty.alert_not_handed")
    text = s.texts("duty.alert", time=s.fmt.dt(h.at), state=state, outgoing=await _names(tx, h.outgoing, s),
                   incoming=await _names(tx, h.incoming, s), delay=s.fmt.dur(tx.now - h.at))
    directors = await members.with_roles(tx.conn, [Role.DIRECTOR])
    await tx.send_text_all([m.telegram_id for m in directors], text, ref_kind=REF, ref_id=h.id, tag="alert")


# --- 交班说明, 交班, 接班 --------------------------------------------------------------------------


async def _load(s: Services, conn: object, member: Member, handover_id: int) -> Handover:
    if not can(member, Action.KEEP_DUTY_LOG):
        raise NotAllowed()
    h = await store.handover(conn, handover_id)  # type: ignore[arg-type]
    if h is None:
        raise Stale()
    return h


def _refusal(s: Services, why: rules.HandoverRefusal, h: Handover) -> ServiceError:
    return ServiceError(f"duty.refuse.{why.value}", time=s.fmt.dt(h.at))


async def check_can_note(s: Services, member: Member, handover_id: int) -> Handover:
    """Before asking for the notes: an outgoing officer of a handover not yet handed over."""
    h = await _load(s, s.db.read, member, handover_id)
    if (why := rules.may_hand(h, member.id)) is not None:
        raise _refusal(s, why, h)
    return h


async def add_note(s: Services, member: Member, handover_id: int, note: str) -> Handover:
    async with s.uow() as tx:
        h = await _load(s, tx.conn, member, handover_id)
        if (why := rules.may_hand(h, member.id)) is not None:
            raise _refusal(s, why, h)
        await store.add_notes(tx.conn, h.id, s.texts("duty.note_line", name=member.name, note=note))
        fresh = await store.handover(tx.conn, h.id)
        assert fresh is not None
        return fresh


async def _close_cards(s: Services, tx: Tx, h: Handover, tag: str, key: str, who: Member, at: datetime) -> None:
    """Every copy of a card loses its buttons and says who acted, when (`at`)."""
    for row in await outbox.sent_messages(tx.conn, REF, h.id, tag):
        await tx.send(row.chat_id, outbox.EDIT_MARKUP, {"edit_of": row.id, "reply_markup": {"inline_keyboard": []}},
                      ref_kind=REF, ref_id=h.id, tag="card_edit")
    done = s.texts(key, name=esc(who.name), time=s.fmt.dt(at))
    for member_id in (h.outgoing if tag == "draft" else h.incoming):
        if member_id != who.id and (m := await members.by_id(tx.conn, member_id)) is not None and m.active:
            await tx.send_text(m.telegram_id, done, ref_kind=REF, ref_id=h.id, tag="done")


async def hand_over(s: Services, member: Member, handover_id: int, *, at: datetime) -> str:
    """交班, pressed `at`: recorded once, by an outgoing officer, at the press (however late the bot
    got to it); the incoming officers get the handover and 接班."""
    async with s.uow() as tx:
        h = await _load(s, tx.conn, member, handover_id)
        if (why := rules.may_hand(h, member.id)) is not None:
            raise _refusal(s, why, h)
        pressed = rules.pressed_within(at, h.at, tx.now)
        if not await store.set_handed(tx.conn, h.id, member.id, pressed):
            raise _refusal(s, rules.HandoverRefusal.ALREADY_HANDED, h)
        fresh = await store.handover(tx.conn, h.id)
        assert fresh is not None
        await _close_cards(s, tx, fresh, "draft", "duty.handed_by_other", member, pressed)
        if fresh.incoming:
            await _take_card(s, tx, fresh)
        return s.texts("duty.handed", time=s.fmt.dt(pressed),
                       incoming=await _names(tx, fresh.incoming, s))


async def take_over(s: Services, member: Member, handover_id: int, *, at: datetime) -> str:
    """接班, pressed `at`: recorded once, by an incoming officer, after 交班, at the press; the outgoing
    officers are told. Pressed in time but handled after the directors were alerted (the bot got to
    it late): whoever got the alert hears it is withdrawn."""
    async with s.uow() as tx:
        h = await _load(s, tx.conn, member, handover_id)
        if (why := rules.may_take(h, member.id)) is not None:
            raise _refusal(s, why, h)
        pressed = rules.pressed_within(at, h.handed_at or h.at, tx.now)
        if not await store.set_taken(tx.conn, h.id, member.id, pressed):
            raise _refusal(s, rules.HandoverRefusal.ALREADY_TAKEN, h)
        await deadlines.cancel(tx.conn, rules.HANDOVER_CHECK, h.id, tx.now)
        await _close_cards(s, tx, h, "take", "duty.taken_by_other", member, pressed)
        told = s.texts("duty.taken_notice", name=esc(member.name), time=s.fmt.dt(pressed))
        await _send(tx, h.outgoing, told, h, "taken")
        if h.alerted_at is not None and pressed <= h.at + s.config.roster.takeover_within:
            await _withdraw_alert(s, tx, h, member, pressed)
        return s.texts("duty.taken", time=s.fmt.dt(pressed))


async def _withdraw_alert(s: Services, tx: Tx, h: Handover, member: Member, pressed: datetime) -> None:
    """The 'no 接班' alert went out before a 接班 pressed in time was handled: each chat that got it
    is told it no longer holds (the alert's time stays on record)."""
    text = s.texts("duty.alert_withdrawn", time=s.fmt.dt(h.at), name=esc(member.name), taken=s.fmt.dt(pressed))
    chats = dict.fromkeys(row.chat_id for row in await outbox.sent_messages(tx.conn, REF, h.id, "alert"))
    await tx.send_text_all(list(chats), text, ref_kind=REF, ref_id=h.id, tag="alert_withdrawn")


async def incoming_gone(s: Services, tx: Tx, gone: Member) -> None:
    """In the transaction that deactivates `gone`: a handover nobody active is left to take over (only
    the incoming officers of that shift change may) is told to the directors and the outgoing
    officers at once, instead of the 'no 接班' alert after takeover_within."""
    for h in await store.waiting_to_be_taken(tx.conn, gone.id):
        left = [m for i in h.incoming
                if i != gone.id and (m := await members.by_id(tx.conn, i)) is not None and m.active]
        if left or not await store.set_alerted(tx.conn, h.id, tx.now):
            continue
        await deadlines.cancel(tx.conn, rules.HANDOVER_CHECK, h.id, tx.now)
        text = s.texts("duty.incoming_gone", time=s.fmt.dt(h.at), name=esc(gone.name),
                       outgoing=await _names(tx, h.outgoing, s))
        directors = await members.with_roles(tx.conn, [Role.DIRECTOR])
        ids = dict.fromkeys([*(m.telegram_id for m in directors if m.active and m.id != gone.id),
                             *[m.telegram_id for i in h.outgoing if (m := await members.by_id(tx.conn, i)) is not None
                               and m.active and m.id != gone.id]])
        await tx.send_text_all(list(ids), text, ref_kind=REF, ref_id=h.id, tag="alert")


async def plant_change(s: Services, at: datetime) -> None:
    """A one-off shift change at `at` (stage "once": it plants no next one). `dutydesk demo` shows a
    handover this way without waiting for 17:30."""
    async with s.uow() as tx:
        await tx.add_deadline(duty.HANDOVER, RECURRING_REF, at, "once")


HANDLERS = {duty.HANDOVER: fire, rules.HANDOVER_CHECK: check}
