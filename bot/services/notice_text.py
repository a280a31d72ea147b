"""How a notice reads: to recipients, in groups, in the sender's progress line and tally."""

from __future__ import annotations

from bot import callbacks as cb
from bot.domain.notices import Receipt, tally_by_unit
from bot.fmt import clip, esc
from bot.services.base import Services
from storage.notices import Notice

# Callback data: nt:<action>:<notice id> in private chats, ng:ack:<notice id> in groups.
# ("n:" belongs to routine information's review buttons, bot/services/info.py.)
PREFIX = cb.NOTICE
GROUP_PREFIX = cb.NOTICE_GROUP
ACK, ATTEND, LEAVE, PROXY, RESEND, VIEW = "ack", "go", "lv", "px", "re", "v"
ACTIONS = (ACK, ATTEND, LEAVE, PROXY, RESEND, VIEW)
GROUP_ACTIONS = (ACK,)


def data(action: str, notice_id: int) -> str:
    return f"{PREFIX}:{action}:{notice_id}"


def group_data(notice_id: int) -> str:
    return f"{GROUP_PREFIX}:{ACK}:{notice_id}"


def _header(s: Services, n: Notice) -> str:
    key = "notice.meeting_title" if n.is_meeting else "notice.title"
    urgent = s.texts("notice.urgent_mark") if n.urgent else ""
    if n.classification != "none":  # 秘密: marked where it is read
        urgent += s.texts("notice.level_mark", level=s.texts(f"doc.level.{n.classification}"))
    return s.texts(key, title=esc(n.title), urgent=urgent)


def notice_text(s: Services, n: Notice, sender_name: str, *, on_behalf: list[Receipt] | None = None,
                group: bool = False) -> str:
    """The message a recipient (or a bound group) reads. Only the notice itself: no incident details.
    `on_behalf`: the receipts of others this person signs for — as their stand-in while they are on
    leave, or as their unit's head once they were deactivated (bot/services/member_gone.py)."""
    lines = [_header(s, n)]
    if n.is_meeting:
        lines.append(s.texts("notice.meeting_facts", time=s.fmt.dt(n.meeting_at), place=esc(n.meeting_place or "")))
    if n.body:
        lines.append(esc(n.body))
    lines.append(s.texts("notice.from", name=esc(sender_name), unit=esc(s.unit_name(n.unit_code)),
                         time=s.fmt.dt(n.created_at)))
    if n.receipt_required and n.due_at is not None:
        key = "notice.group_receipt_hint" if group else \
            "notice.meeting_receipt_hint" if n.is_meeting else "notice.receipt_hint"
        lines.append(s.texts(key, due=s.fmt.dt(n.due_at)))
    for key, rows in (("notice.on_behalf", [r for r in on_behalf or () if r.on_leave]),
                      ("notice.on_behalf_gone", [r for r in on_behalf or () if not r.on_leave])):
        if rows:
            lines.append(s.texts(key, names=esc(s.texts("core.list_sep").join(r.name for r in rows))))
    return "\n".join(lines)


def recipient_keyboard(s: Services, n: Notice) -> dict[str, object] | None:
    if n.is_meeting:
        return cb.keyboard([[(s.texts("notice.btn.attend"), data(ATTEND, n.id)),
                             (s.texts("notice.btn.leave"), data(LEAVE, n.id)),
                             (s.texts("notice.btn.proxy"), data(PROXY, n.id))]])
    if not n.receipt_required:
        return None
    return cb.keyboard([[(s.texts("notice.btn.ack"), data(ACK, n.id))]])


def group_keyboard(s: Services, n: Notice) -> dict[str, object] | None:
    if not n.receipt_required:
        return None
    return cb.keyboard([[(s.texts("notice.btn.group_ack"), group_data(n.id))]])


def sender_keyboard(s: Services, n: Notice) -> dict[str, object]:
    return cb.keyboard([[(s.texts("notice.btn.view"), data(VIEW, n.id)),
                         (s.texts("notice.btn.resend"), data(RESEND, n.id))]])


def progress_text(s: Services, n: Notice, sent: int, failed: int, total: int, groups: int) -> str:
    done = sent + failed >= total
    if total == 0 and groups:  # posted to groups only: nobody to count privately
        text = s.texts("notice.progress_groups_only", title=esc(n.title), groups=groups)
    else:
        key = "notice.progress_done" if done else "notice.progress"
        text = s.texts(key, title=esc(n.title), sent=sent, total=total)
        if failed:
            text += s.texts("notice.progress_failed", failed=failed)
        if groups:
            text += s.texts("notice.progress_groups", groups=groups)
    if n.receipt_required and n.due_at is not None:
        text += s.texts("notice.progress_due", due=s.fmt.dt(n.due_at))
    return text


def _who(s: Services, r: Receipt) -> str:
    name = esc(r.name)
    if r.on_leave and r.asked_id != r.member_id:
        name += s.texts("notice.tally_on_leave", stand_in=esc(r.asked_name))
    elif r.on_leave:
        name += s.texts("notice.tally_on_leave_alone")
    if r.attendance:
        name += s.texts(f"notice.attendance_mark.{r.attendance}",
                        note=esc(r.attendance_note or ""))
    return name


def tally_text(s: Services, n: Notice, receipts: list[Receipt], group_lines: list[str]) -> str:
    """Per unit: received / not yet, with names; meeting answers; group receipts."""
    done = sum(1 for r in receipts if r.received)
    lines = [_header(s, n), s.texts("notice.tally_head", done=done, total=len(receipts),
                                    created=s.fmt.dt(n.created_at), due=s.fmt.dt(n.due_at))]
    sep = s.texts("core.list_sep")
    for t in tally_by_unit(receipts):
        lines.append(s.texts("notice.tally_unit", unit=esc(s.unit_name(t.unit_code)),
                             done=len(t.received), total=len(t.received) + len(t.pending)))
        if t.pending:
            lines.append(s.texts("notice.tally_pending", names=sep.join(_who(s, r) for r in t.pending)))
        if t.received:
            lines.append(s.texts("notice.tally_received", names=sep.join(_who(s, r) for r in t.received)))
    lines += group_lines
    return clip("\n".join(lines))
