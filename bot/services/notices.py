"""Use cases of notices with receipts: send, sign, chase, answer a meeting, post to groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import notices as rules
from bot.domain.documents import Classification
from bot.domain.members import Action, Member, Role, can
from bot.domain.notices import Attendance, Audience, AudienceSpec, NoticeKind, NoticePolicy, Receipt
from bot.fmt import esc
from bot.services import channel_messages, escalation
from bot.services import notice_text as txt
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError, Stale
from storage import drafts, members, notices, outbox
from storage.conn import Conn
from storage.notices import BoundGroup, Notice
from storage.uow import Tx

REF = "notice"
DRAFT_KIND = "notice"  # the /notice and /meeting dialogue's row in the drafts table
DELIVER, ATTACH, RESENT, STATUS, GROUP, TALLY = "deliver", "attach", "resend", "status", "group", "tally"


def notice_policy(s: Services) -> NoticePolicy:
    p = s.config.notice
    return NoticePolicy(receipt_deadline=p.receipt_deadline, urgent_deadline=p.urgent_deadline,
                        resend_throttle=p.resend_throttle, meeting_remind_before=p.meeting_remind_before)


@dataclass
class NoticeDraft:
    """What the /notice and /meeting dialogues collect before 发送."""

    kind: NoticeKind = NoticeKind.NOTICE
    title: str = ""
    body: str = ""
    attachments: list[tuple[str, str]] = field(default_factory=list)
    audience: AudienceSpec | None = None
    urgent: bool = False
    receipt_required: bool = True
    deadline: timedelta | None = None
    meeting_at: datetime | None = None
    place: str = ""
    classification: str = ""  # 密级, asked first; "" = not answered yet

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind.value, "classification": self.classification, "title": self.title, "body": self.body,
                "attachments": [list(a) for a in self.attachments],
                "audience": self.audience.to_dict() if self.audience else None, "urgent": self.urgent,
                "receipt_required": self.receipt_required,
                "deadline": self.deadline.total_seconds() if self.deadline else None,
                "meeting_at": self.meeting_at.isoformat() if self.meeting_at else None, "place": self.place}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> NoticeDraft:
        aud = d.get("audience")
        secs = d.get("deadline")
        when = d.get("meeting_at")
        atts = d.get("attachments") or []
        return cls(
            kind=NoticeKind(str(d.get("kind", "notice"))), title=str(d.get("title", "")), body=str(d.get("body", "")),
            attachments=[(str(a[0]), str(a[1])) for a in atts] if isinstance(atts, list) else [],
            audience=AudienceSpec.from_dict(aud) if isinstance(aud, dict) else None,
            urgent=bool(d.get("urgent")), receipt_required=bool(d.get("receipt_required", True)),
            deadline=timedelta(seconds=float(secs)) if isinstance(secs, (int, float)) else None,
            meeting_at=datetime.fromisoformat(when) if isinstance(when, str) else None, place=str(d.get("place", "")),
            classification=str(d.get("classification", "")),
        )


def classification(draft: NoticeDraft) -> Classification | None:
    """The draft's 密级; a draft kept from before notices asked for one is 非密."""
    try:
        return Classification(draft.classification or "none")
    except ValueError:
        return None


# --- who receives it --------------------------------------------------------------------


async def asked_for(conn: Conn, people: list[Member],
                    sender: Member) -> list[tuple[int, str, int, bool]]:
    """Recipient rows (member_id, unit_code, asked_id, on_leave): whoever is on approved leave
    is shown as such and their stand-in is asked instead (bot.services.routing.skip_away decides
    who that is); without a usable stand-in they are still asked themselves."""
    from bot.services import routing
    from storage import leave

    away = await leave.away_now(conn)
    rows = []
    for m in people:
        if m.id not in away:
            rows.append((m.id, m.unit_code, m.id, False))
            continue
        stand_ins = await routing.skip_away(conn, [m], exclude=[sender.id])
        rows.append((m.id, m.unit_code, stand_ins[0].id if stand_ins else m.id, True))
    return rows


async def audience_members(conn: Conn, sender: Member, spec: AudienceSpec) -> list[Member]:
    """The people a notice is addressed to (groups are posted to, not counted here)."""
    everyone = [m for m in await members.all_members(conn) if m.active and m.id != sender.id]
    own = None if sender.district_wide else sender.unit_code
    if spec.kind is Audience.ALL:
        return [m for m in everyone if own is None or m.unit_code == own]
    if spec.kind is Audience.UNITS:
        return [m for m in everyone if m.unit_code in spec.units]
    if spec.kind is Audience.ROLES:
        wanted = {Role(r) for r in spec.roles}
        return [m for m in everyone if m.roles & wanted and (own is None or m.unit_code == own)]
    if spec.kind is Audience.MEMBERS:
        chosen = set(spec.member_ids)
        return [m for m in everyone if m.id in chosen]
    return []


async def sendable_groups(conn: Conn, sender: Member) -> list[BoundGroup]:
    return await notices.groups(conn, None if sender.district_wide else sender.unit_code)


async def find_members(s: Services, sender: Member, names: list[str]) -> tuple[list[Member], list[str]]:
    """Members named in the dialogue (within the sender's reach), and names not found."""
    pool = [m for m in await members.all_members(s.db.read) if m.active
            and (sender.district_wide or m.unit_code == sender.unit_code)]
    found: dict[int, Member] = {}
    missing = []
    for name in names:
        hits = [m for m in pool if m.name == name] or [m for m in pool if name in m.name]
        if hits:
            for m in hits:
                found.setdefault(m.id, m)
        else:
            missing.append(name)
    return list(found.values()), missing


# --- sending ------------------------------------------------------------------------------


async def unreached_units(s: Services, sender: Member, spec: AudienceSpec) -> list[str]:
    """The chosen units where nobody registered would receive it — shown on the summary, before
    发送, so the sender can reach them another way (and the sender gets one message, not two)."""
    people = await audience_members(s.db.read, sender, spec)
    return rules.unreached_units(sender, spec, (u.code for u in s.config.units), (p.unit_code for p in people))


async def send_notice(s: Services, sender: Member, draft: NoticeDraft) -> Notice:
    """Store the notice and its recipients, queue every message and plan the chasing, in one transaction."""
    if not rules.may_send(sender):
        raise NotAllowed()
    spec = draft.audience
    if spec is None or not draft.title:
        raise ServiceError("notice.draft_lost")
    level = classification(draft)
    if level is None:
        raise ServiceError("notice.draft_lost")
    if not level.electronic:  # 机密 and above never leave through the bot, whatever the dialogue let through
        raise ServiceError("notice.classified_refused", level=s.texts(f"doc.level.{level}"))
    policy = notice_policy(s)
    async with s.uow() as tx:
        group_units = {g.chat_id: g.unit_code for g in await notices.groups(tx.conn)}
        problem = rules.audience_problem(sender, spec, await notices.member_units(tx.conn, list(spec.member_ids)),
                                         group_units)
        if problem is not None:
            raise ServiceError(f"notice.audience_{problem.value}")
        people = await audience_members(tx.conn, sender, spec)
        posts = [g for g in await sendable_groups(tx.conn, sender) if g.chat_id in spec.group_ids]
        if not people and not posts:
            raise ServiceError("notice.no_recipients")
        now = tx.now
        due = None
        if draft.receipt_required:
            due = now + rules.receipt_deadline(policy, draft.urgent, draft.deadline)
            if draft.meeting_at is not None:
                due = min(due, draft.meeting_at)
        nid = await notices.create(
            tx.conn, kind=draft.kind, sender_id=sender.id, unit_code=sender.unit_code, title=draft.title,
            body=draft.body, urgent=draft.urgent, receipt_required=draft.receipt_required, audience=spec, now=now,
            due_at=due, meeting_at=draft.meeting_at, meeting_place=draft.place or None, classification=level.value,
        )
        for kind, file_id in draft.attachments:
            await notices.add_attachment(tx.conn, nid, kind, file_id)
        rows = await asked_for(tx.conn, people, sender)
        await notices.add_recipients(tx.conn, nid, rows)
        n = await notices.get(tx.conn, nid)
        assert n is not None
        # The sender's status line goes first, so it exists before its progress edits.
        status_id = await tx.send_text(sender.telegram_id, txt.progress_text(s, n, 0, 0, len({r[2] for r in rows}),
                                                                            len(posts)),
                                       markup=txt.sender_keyboard(s, n), ref_kind=REF, ref_id=nid, tag=STATUS)
        await notices.set_status_message(tx.conn, nid, status_id)
        await _deliver(s, tx, n, sender.name, [r[2] for r in rows], tag=DELIVER)
        for g in posts:
            post_id = await tx.send_text(g.chat_id, txt.notice_text(s, n, sender.name, group=True),
                                         markup=txt.group_keyboard(s, n), ref_kind=REF, ref_id=nid, tag=GROUP)
            await notices.add_group_post(tx.conn, nid, g.chat_id, post_id)
            for kind, file_id in draft.attachments:
                await _send_attachment(tx, g.chat_id, nid, kind, file_id)
            if g.can_pin:
                await tx.send(g.chat_id, outbox.PIN, {"edit_of": post_id}, ref_kind=REF, ref_id=nid, tag="pin")
        for planned in rules.plan_deadlines(now, due, draft.meeting_at, policy):
            await tx.add_deadline(planned.kind, nid, planned.due_at)
        await members.audit(tx.conn, now, sender.id, "notice", f"{nid}:{len(rows)}")
        if level.to_other_platforms:  # a 秘密 notice is never mirrored to a robot group
            await channel_messages.mirror(
                s, tx, "notice", ref_kind=REF, ref_id=nid, tag="notice",
                title=s.texts("channels.robot.notice_title", title=n.title),
                summary=channel_messages.RobotText("channels.robot.notice",
                                                   {"title": n.title, "due": s.fmt.dt(due) if due else "-"}),
                full=txt.notice_text(s, n, sender.name, group=True))
        await drafts.mark_done(tx.conn, sender.telegram_id, DRAFT_KIND, nid, now)  # 发送 again: not twice
        return n


async def _send_attachment(tx: Tx, chat_id: int, nid: int, kind: str, file_id: str) -> None:
    method, key = (outbox.SEND_PHOTO, "photo") if kind == "photo" else (outbox.SEND_DOCUMENT, "document")
    await tx.send(chat_id, method, {key: file_id}, ref_kind=REF, ref_id=nid, tag=ATTACH)


async def _deliver(s: Services, tx: Tx, n: Notice, sender_name: str, asked_ids: list[int], *, tag: str,
                   reminder: bool = False) -> int:
    """One message per person asked (a stand-in signs for everyone they stand in for)."""
    receipts = {r.member_id: r for r in await notices.receipts(tx.conn, n.id)}
    attachments = await notices.attachments(tx.conn, n.id) if not reminder else []
    sent = 0
    for asked in dict.fromkeys(asked_ids):
        person = await members.by_id(tx.conn, asked)
        if person is None or not person.active:
            continue
        behalf = [r for r in receipts.values() if r.asked_id == asked and r.member_id != asked]
        text = txt.notice_text(s, n, sender_name, on_behalf=behalf)
        if reminder:
            text = s.texts("notice.reminder_prefix", due=s.fmt.dt(n.due_at)) + "\n" + text
        await tx.send_text(person.telegram_id, text, markup=txt.recipient_keyboard(s, n), ref_kind=REF,
                           ref_id=n.id, tag=tag)
        for kind, file_id in attachments:
            await _send_attachment(tx, person.telegram_id, n.id, kind, file_id)
        sent += 1
    return sent


async def deliver_to(s: Services, tx: Tx, n: Notice, asked_ids: list[int], *, tag: str) -> int:
    """The notice to people asked to sign it since it went out (for themselves or on behalf of others)."""
    return await _deliver(s, tx, n, await _sender_name(tx, n), asked_ids, tag=tag)


async def _sender_name(tx: Tx, n: Notice) -> str:
    who = await members.by_id(tx.conn, n.sender_id)
    return who.name if who else "?"


async def load_own(s: Services, conn: Conn, member: Member, notice_id: int) -> Notice:
    """A notice its sender (or a district-wide sender) may chase and view."""
    n = await notices.get(conn, notice_id)
    if n is None:
        raise Stale()
    if not rules.may_send(member):
        raise NotAllowed()
    if n.sender_id != member.id and not (member.district_wide and can(member, Action.SEND_NOTICE, n.unit_code)):
        raise NotAllowed()
    return n


async def resend_to_pending(s: Services, member: Member, notice_id: int) -> int:
    """再次提醒: only those who have not signed, at most once per `resend_throttle`."""
    policy = notice_policy(s)
    async with s.uow() as tx:
        n = await load_own(s, tx.conn, member, notice_id)
        if not n.receipt_required:
            raise ServiceError("notice.no_receipt_needed")
        wait = rules.resend_wait(n.last_resend_at, tx.now, policy)
        if wait is not None:
            raise ServiceError("notice.resend_too_soon", wait=s.fmt.dur(wait))
        count = await remind_pending(s, tx, n)
        if count == 0:
            raise ServiceError("notice.all_received")
        await notices.set_resent(tx.conn, n.id, tx.now)
        return count


async def remind_pending(s: Services, tx: Tx, n: Notice) -> int:
    pending = [r.asked_id for r in await notices.receipts(tx.conn, n.id) if not r.received]
    if not pending:
        return 0
    await notices.mark_reminded(tx.conn, n.id, pending)
    return await _deliver(s, tx, n, await _sender_name(tx, n), pending, tag=RESENT, reminder=True)


# --- receipts and answers ---------------------------------------------------------------


async def _load_asked(tx: Tx, member: Member, notice_id: int) -> Notice:
    """The notice, if `member` is one of the people asked to sign it; a forged button is refused."""
    n = await notices.get(tx.conn, notice_id)
    if n is None or not member.active:
        raise Stale()
    if not await notices.is_asked(tx.conn, notice_id, member.id):
        raise NotAllowed()
    return n


def _signed_text(s: Services, n: Notice, sender_name: str, behalf: list[Receipt], footer: str) -> str:
    return txt.notice_text(s, n, sender_name, on_behalf=behalf) + "\n" + footer


def _pressed(n: Notice, at: datetime, now: datetime) -> datetime:
    """When a receipt button was pressed: `at`, but not before the notice existed nor after now."""
    return min(max(at, n.created_at), now)


async def acknowledge(s: Services, member: Member, notice_id: int, message_id: int | None = None, *,
                      at: datetime) -> bool:
    """已阅/收到, pressed `at` (the receipt's time, however late the bot got to it): signs for this
    person (and whoever they stand in for). False if already signed."""
    async with s.uow() as tx:
        n = await _load_asked(tx, member, notice_id)
        pressed = _pressed(n, at, tx.now)
        newly = await notices.acknowledge(tx.conn, n.id, member.id, pressed)
        if newly and all(r.received for r in await notices.receipts(tx.conn, n.id)):
            await escalation.stop_subject(tx, "notice", n.id)  # the last signature: no escalation step after it
        if newly and message_id is not None:
            behalf = [r for r in await notices.receipts(tx.conn, n.id)
                      if r.asked_id == member.id and r.member_id != member.id]
            footer = s.texts("notice.signed", time=s.fmt.dt(pressed))
            await tx.send(member.telegram_id, outbox.EDIT_TEXT,
                          {"message_id": message_id, "text": _signed_text(s, n, await _sender_name(tx, n), behalf,
                                                                          footer), "parse_mode": "HTML"},
                          ref_kind=REF, ref_id=n.id, tag="signed")
        return bool(newly)


async def answer_meeting(s: Services, member: Member, notice_id: int, answer: Attendance, note: str | None = None,
                         message_id: int | None = None, *, at: datetime) -> Notice:
    """参加 / 请假 (with a reason) / 代会 (a stand-in name), sent `at` (before the meeting began, or
    refused); the organiser is told of absences."""
    async with s.uow() as tx:
        n = await _load_asked(tx, member, notice_id)
        if not n.is_meeting:
            raise Stale()
        pressed = _pressed(n, at, tx.now)
        if n.meeting_at is not None and pressed >= n.meeting_at:
            raise ServiceError("notice.meeting_over")
        await notices.answer_attendance(tx.conn, n.id, member.id, answer.value, note, pressed)
        mark = s.texts(f"notice.attendance_mark.{answer.value}", note=esc(note or ""))
        if message_id is not None:
            footer = s.texts("notice.answered", answer=mark, time=s.fmt.dt(pressed))
            await tx.send(member.telegram_id, outbox.EDIT_TEXT,
                          {"message_id": message_id,
                           "text": _signed_text(s, n, await _sender_name(tx, n), [], footer), "parse_mode": "HTML",
                           "reply_markup": txt.recipient_keyboard(s, n)},
                          ref_kind=REF, ref_id=n.id, tag="signed")
        if answer is not Attendance.ATTEND:
            organiser = await members.by_id(tx.conn, n.sender_id)
            if organiser is not None and organiser.active:
                await tx.send_text(organiser.telegram_id, s.texts(
                    "notice.attendance_told", title=esc(n.title), name=esc(member.name),
                    unit=esc(s.unit_name(member.unit_code)), answer=mark), ref_kind=REF, ref_id=n.id, tag="attendance")
        return n


async def group_acknowledge(s: Services, chat_id: int, telegram_id: int, name: str, notice_id: int, *,
                            at: datetime) -> bool:
    """收到 pressed `at` under a group post: recorded once per person; only where the notice was posted."""
    async with s.uow() as tx:
        n = await notices.get(tx.conn, notice_id)
        if n is None or not await notices.posted_to(tx.conn, notice_id, chat_id):
            raise Stale()
        pressed = _pressed(n, at, tx.now)
        member = await members.by_telegram_id(tx.conn, telegram_id)
        member_id = member.id if member is not None and member.active else None
        fresh = await notices.add_group_receipt(tx.conn, notice_id, chat_id, telegram_id,
                                                member.name if member is not None and member_id else name, member_id,
                                                pressed)
        if fresh and member_id is not None and await notices.is_asked(tx.conn, notice_id, member_id):
            await notices.acknowledge(tx.conn, notice_id, member_id, pressed)
        return fresh


# --- groups -------------------------------------------------------------------------------


async def bind_group(s: Services, member: Member, chat_id: int, title: str, unit_code: str | None,
                     can_pin: bool) -> str | None:
    """An admin binds a group to any unit or the district; a unit head to their own unit."""
    if not can(member, Action.BIND_GROUP):
        raise NotAllowed()
    if unit_code is not None and s.config.unit(unit_code) is None:
        raise ServiceError("notice.group.bad_unit", code=esc(unit_code),
                           units=", ".join(u.code for u in s.config.units))
    if not member.has(Role.ADMIN):
        if unit_code not in (None, member.unit_code):
            raise ServiceError("core.not_your_unit")
        unit_code = member.unit_code
    async with s.uow() as tx:
        bound = await notices.group(tx.conn, chat_id)
        if bound is not None and bound.unit_code != unit_code and not member.has(Role.ADMIN):
            # a unit head may not take over another unit's (or the district's) group
            where = s.unit_name(bound.unit_code) if bound.unit_code else s.texts("notice.group.district")
            raise ServiceError("notice.group.bound_elsewhere", unit=esc(where))
        await notices.bind_group(tx.conn, chat_id, title, unit_code, can_pin, member.id, tx.now)
        await members.audit(tx.conn, tx.now, member.id, "bind_group", f"{chat_id}:{unit_code or '*'}")
    return unit_code


async def group_migrated(s: Services, old_chat_id: int, new_chat_id: int) -> bool:
    """Telegram turned a group into a supergroup (a new chat id): its binding, its posts' receipts
    and messages still waiting to go out follow it. False when nothing was bound there (or it
    already moved: both the old and the new chat report the move)."""
    async with s.uow() as tx:
        moved = await notices.move_group(tx.conn, old_chat_id, new_chat_id)
        if moved:
            await outbox.retarget(tx.conn, old_chat_id, new_chat_id)
            await members.audit(tx.conn, tx.now, None, "group_migrated", f"{old_chat_id}->{new_chat_id}")
        return moved


async def unbind_group(s: Services, member: Member, chat_id: int) -> bool:
    async with s.uow() as tx:
        g = await notices.group(tx.conn, chat_id)
        if g is None:
            return False
        if not can(member, Action.BIND_GROUP) or not (member.has(Role.ADMIN) or g.unit_code == member.unit_code):
            raise NotAllowed()
        await members.audit(tx.conn, tx.now, member.id, "unbind_group", str(chat_id))
        return await notices.unbind_group(tx.conn, chat_id)


# --- views ----------------------------------------------------------------------------------


async def group_lines(s: Services, conn: Conn, n: Notice) -> list[str]:
    posted = await notices.group_posts(conn, n.id)
    if not posted:
        return []
    titles = {g.chat_id: g.title for g in await notices.groups(conn)}
    pressed = await notices.group_receipts(conn, n.id)
    lines: list[str] = []
    for chat_id in posted:
        names = [esc(name) for cid, name, _at in pressed if cid == chat_id]
        lines.append(s.texts("notice.tally_group", group=esc(titles.get(chat_id, str(chat_id))), count=len(names),
                             names=s.texts("core.list_sep").join(names) or s.texts("core.none")))
    return lines


async def tally(s: Services, member: Member, notice_id: int) -> tuple[Notice, str]:
    conn = s.db.read
    n = await load_own(s, conn, member, notice_id)
    return n, txt.tally_text(s, n, await notices.receipts(conn, n.id), await group_lines(s, conn, n))


async def list_notices(s: Services, member: Member, limit: int = 5) -> list[tuple[Notice, int, int]]:
    """The member's latest notices (directors and duty: everyone's) with (received, total)."""
    if not rules.may_send(member):
        raise NotAllowed()
    conn = s.db.read
    found = await notices.recent(conn, None if member.has(Role.DIRECTOR, Role.DUTY) else member.id, limit)
    out = []
    for n in found:
        rs = await notices.receipts(conn, n.id)
        out.append((n, sum(1 for r in rs if r.received), len(rs)))
    return out
