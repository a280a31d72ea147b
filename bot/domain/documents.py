"""Document handling (办文) as plain rules.

An incoming document is registered (收文登记), the office proposes how to handle it (拟办: who
handles, by when), a leader assigns it with one tap (批办), the handler reports it done (办结) —
within three days of registration unless its urgency says otherwise (办文时间一般控制在3天之内).
Nothing is handled without a leader's signature (无签批不办); an urgent one may be approved by
phone (电话请示) and must then be signed within a configured time. Documents classified 机密 or
above never travel electronically (密级在机密以上的公文不得以电子公文的形式传输): the bot holds
their registration and routing only — no content, no attachments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum


class Classification(StrEnum):
    NONE = "none"  # 非密
    SECRET = "secret"  # 秘密
    CONFIDENTIAL = "confidential"  # 机密
    TOP_SECRET = "top_secret"  # 绝密

    @property
    def electronic(self) -> bool:
        """May its content travel through the bot at all? Not from 机密 up (the seed's 第十五条)."""
        return self in (Classification.NONE, Classification.SECRET)

    @property
    def to_other_platforms(self) -> bool:
        """May it be mirrored to a DingTalk/WeCom/Feishu group or sent by SMS? Only 非密: a 秘密 text stays
        on the one channel the office chose for it, never on a third platform."""
        return self is Classification.NONE

    @property
    def attachments(self) -> bool:
        """Files only for non-classified documents."""
        return self is Classification.NONE


class Urgency(StrEnum):
    NORMAL = "normal"  # 平件
    URGENT = "urgent"  # 急件
    VERY_URGENT = "very_urgent"  # 特急

    @property
    def by_phone(self) -> bool:
        """An urgent matter may be approved by phone (电话请示) and signed afterwards."""
        return self is not Urgency.NORMAL


class DocState(StrEnum):
    REGISTERED = "registered"  # 待拟办
    PROPOSED = "proposed"  # 待批办
    ASSIGNED = "assigned"  # 办理中 (批办 or 电话请示)
    DONE = "done"  # 已办结


OPEN_STATES = (DocState.REGISTERED, DocState.PROPOSED, DocState.ASSIGNED)


def due_for(registered_at: datetime, urgency: Urgency, limits: Mapping[str, timedelta]) -> datetime:
    """The default limit counts from registration, by urgency (3 days for a 平件)."""
    return registered_at + limits[urgency.value]


@dataclass(frozen=True)
class Document:
    id: int
    number: str
    title: str
    issuer: str
    doc_no: str
    classification: Classification
    urgency: Urgency
    received_at: datetime
    registered_by: int
    registered_at: datetime
    state: DocState
    summary: str = ""
    due_at: datetime | None = None
    proposal: str = ""
    proposed_by: int | None = None
    proposed_at: datetime | None = None
    leader_id: int | None = None
    handler_id: int | None = None
    handler_unit: str | None = None
    assigned_by: int | None = None
    assigned_at: datetime | None = None
    phone_at: datetime | None = None
    sign_due_at: datetime | None = None
    signed_at: datetime | None = None
    done_by: int | None = None
    done_at: datetime | None = None
    result: str = ""
    overdue_at: datetime | None = None
    files: int = 0

    @property
    def open(self) -> bool:
        return self.state is not DocState.DONE

    def is_overdue(self, now: datetime) -> bool:
        return self.open and self.due_at is not None and now > self.due_at

    @property
    def late(self) -> bool | None:
        """For a document handled: after its limit (or ever flagged overdue)? None while open."""
        if self.state is not DocState.DONE or self.done_at is None:
            return None
        return self.overdue_at is not None or (self.due_at is not None and self.done_at > self.due_at)

    @property
    def awaiting_signature(self) -> bool:
        """Approved by phone, not signed yet."""
        return self.phone_at is not None and self.signed_at is None


class DocRefusal(StrEnum):
    """Why an action on a document is refused; catalog keys doc.refuse.<value>."""

    NOT_REGISTERED = "not_registered"  # 拟办 on a document already proposed or further
    NOT_PROPOSED = "not_proposed"  # 批办 / 电话请示 on one not waiting for a leader
    NOT_THE_LEADER = "not_the_leader"  # 批办 by someone the proposal does not name
    NOT_URGENT = "not_urgent"  # 电话请示 on a 平件
    NOT_ASSIGNED = "not_assigned"  # 办结 before 批办 (无签批不办)
    NOT_THE_HANDLER = "not_the_handler"
    DONE = "done"
    NOTHING_TO_SIGN = "nothing_to_sign"  # 补签 without a phone approval pending
    NO_FILES = "no_files"  # a file for a 机密 or 绝密 document
    FILES_UNCLASSIFIED_ONLY = "files_unclassified_only"  # a file for a 秘密 document


def may_propose(d: Document) -> DocRefusal | None:
    return None if d.state is DocState.REGISTERED else (DocRefusal.DONE if not d.open else DocRefusal.NOT_REGISTERED)


def may_assign(d: Document, member_id: int) -> DocRefusal | None:
    if d.state is not DocState.PROPOSED:
        return DocRefusal.DONE if not d.open else DocRefusal.NOT_PROPOSED
    if d.leader_id != member_id:
        return DocRefusal.NOT_THE_LEADER
    return None


def may_phone(d: Document) -> DocRefusal | None:
    if d.state is not DocState.PROPOSED:
        return DocRefusal.DONE if not d.open else DocRefusal.NOT_PROPOSED
    if not d.urgency.by_phone:
        return DocRefusal.NOT_URGENT
    return None


def may_sign(d: Document, member_id: int) -> DocRefusal | None:
    if d.leader_id != member_id:
        return DocRefusal.NOT_THE_LEADER
    if not d.awaiting_signature:
        return DocRefusal.NOTHING_TO_SIGN
    return None


def may_finish(d: Document, member_id: int) -> DocRefusal | None:
    if d.state is DocState.DONE:
        return DocRefusal.DONE
    if d.state is not DocState.ASSIGNED:
        return DocRefusal.NOT_ASSIGNED  # 无签批不办
    if d.handler_id != member_id:
        return DocRefusal.NOT_THE_HANDLER
    return None


def may_attach(c: Classification) -> DocRefusal | None:
    if not c.electronic:
        return DocRefusal.NO_FILES
    if not c.attachments:
        return DocRefusal.FILES_UNCLASSIFIED_ONLY
    return None


# --- deadlines -------------------------------------------------------------------------------

REMIND = "doc.remind"  # before the limit: the handler
DUE = "doc.due"  # at the limit: overdue flagged, the handler, proposer and directors told
CHASE = "doc.chase"  # while overdue: the handler, on a cadence
SIGN_REMIND = "doc.sign_remind"  # 电话请示: the leader reminded to sign
SIGN_DUE = "doc.sign_due"  # 电话请示 not signed in time: the directors told
HANDLING_KINDS = (REMIND, DUE, CHASE)


def plan_reminders(due_at: datetime, now: datetime, before: Iterable[timedelta]) -> list[tuple[str, str, datetime]]:
    """(kind, stage, when): the reminders still ahead, then the due check (at once if already past)."""
    plan = [(REMIND, str(int(b.total_seconds())), due_at - b) for b in sorted(set(before), reverse=True)
            if due_at - b > now]
    plan.append((DUE, "", max(due_at, now)))
    return plan


# --- counting ---------------------------------------------------------------------------------


@dataclass
class HandlerTally:
    handler_id: int
    unit: str
    on_time: int = 0
    late: int = 0
    open: int = 0
    overdue: int = 0

    @property
    def handled(self) -> int:
        return self.on_time + self.late


def tally(docs: Iterable[Document], now: datetime) -> list[HandlerTally]:
    """Per handler (and the unit they belong to): handled on time, late, still open, overdue now."""
    out: dict[int, HandlerTally] = {}
    for d in docs:
        if d.handler_id is None or d.state in (DocState.REGISTERED, DocState.PROPOSED):
            continue
        t = out.setdefault(d.handler_id, HandlerTally(d.handler_id, d.handler_unit or ""))
        if d.late is None:
            t.open += 1
            t.overdue += int(d.is_overdue(now))
        elif d.late:
            t.late += 1
        else:
            t.on_time += 1
    return sorted(out.values(), key=lambda t: (t.unit, t.handler_id))


def by_unit(tallies: Iterable[HandlerTally]) -> list[HandlerTally]:
    """The same counts summed per unit (handler_id 0)."""
    out: dict[str, HandlerTally] = {}
    for t in tallies:
        u = out.setdefault(t.unit, HandlerTally(0, t.unit))
        u.on_time, u.late, u.open, u.overdue = u.on_time + t.on_time, u.late + t.late, u.open + t.open, \
            u.overdue + t.overdue
    return [out[k] for k in sorted(out)]


def listing_order(docs: Iterable[Document], now: datetime) -> list[Document]:
    """/docs: overdue first, then by state (待拟办, 待批办, 办理中), then by limit."""
    rank = {s: i for i, s in enumerate(OPEN_STATES)}
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted((d for d in docs if d.open),
                  key=lambda d: (not d.is_overdue(now), rank[d.state], d.due_at or far, d.id))


# --- drafts -------------------------------------------------------------------------------------


@dataclass
class DocDraft:
    """The registration being written (the drafts table)."""

    title: str = ""
    issuer: str = ""
    doc_no: str = ""
    classification: str = ""
    urgency: str = ""
    received_at: str = ""  # ISO UTC
    summary: str = ""
    files: list[list[str]] = field(default_factory=list)  # [kind, file_id, name]

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DocDraft:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def level(self) -> Classification | None:
        try:
            return Classification(self.classification)
        except ValueError:
            return None

    def complete(self) -> bool:
        try:
            Urgency(self.urgency)
        except ValueError:
            return False
        return bool(self.title and self.issuer and self.level is not None and self.received_at)


@dataclass
class ProposalDraft:
    """拟办 being written: the proposal, who handles, which leader signs, by when."""

    doc_id: int = 0
    proposal: str = ""
    handler_id: int | None = None
    leader_id: int | None = None
    due_at: str = ""  # ISO UTC; "" = the default from registration and urgency

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ProposalDraft:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
