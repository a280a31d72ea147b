"""How documents (办文) read in messages: the card, the trail, keyboards. Pure rendering.

Callback data `dc:<action>:<id>` (≤ 64 bytes), never trusted: every use case re-checks role,
the person the document names (批办 leader, handler) and the state, in the writing transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import callbacks as cb
from bot.domain.documents import DocState, Document
from bot.fmt import esc
from bot.services.base import Services

PREFIX = cb.DOCUMENT
PROPOSE, ASSIGN, BACK, PHONE, SIGN, DONE, FILES, VIEW = "prop", "ok", "back", "phone", "sign", "done", "file", "view"
DIALOG_ACTIONS = (PROPOSE, DONE, FILES)
BUTTON_ACTIONS = (ASSIGN, BACK, PHONE, SIGN, VIEW)


def data(action: str, doc_id: int) -> str:
    return f"{PREFIX}:{action}:{doc_id}"


def pattern(actions: tuple[str, ...]) -> str:
    return cb.pattern(PREFIX, actions)


def label(s: Services, d: Document) -> str:
    """A file's caption: which document it belongs to."""
    return s.texts("doc.file_caption", number=d.number)


def keyboard(s: Services, d: Document, *actions: str) -> dict[str, object]:
    return cb.keyboard([[(s.texts(f"doc.btn.{a}"), data(a, d.id)) for a in actions]])


def office_keyboard(s: Services, d: Document) -> dict[str, object]:
    """What the office can do next on a registered document: 拟办, and files for a non-classified one."""
    actions = [PROPOSE] if d.state is DocState.REGISTERED else []
    if d.classification.attachments and d.open:
        actions.append(FILES)
    return keyboard(s, d, *actions, VIEW)


def card(s: Services, d: Document, names: dict[int, str], now: datetime) -> str:
    """Registration, routing and where it stands; never any content of a 机密/绝密 document."""
    t = s.texts

    def name(i: int | None) -> str:
        return esc(names.get(i, "?")) if i else "—"

    lines = [t("doc.card_head", number=d.number, title=esc(d.title), issuer=esc(d.issuer),
               doc_no=esc(d.doc_no) or t("doc.no_doc_no"), level=t(f"doc.level.{d.classification}"),
               urgency=t(f"doc.urgency.{d.urgency}"), received=s.fmt.dt(d.received_at),
               registrar=name(d.registered_by), due=s.fmt.dt(d.due_at))]
    if not d.classification.electronic:
        lines.append(t("doc.card_offline"))
    elif d.summary:
        lines.append(t("doc.card_summary", summary=esc(d.summary)))
    if d.files:
        lines.append(t("doc.card_files", n=d.files))
    if d.proposal:
        lines.append(t("doc.card_proposal", proposal=esc(d.proposal), proposer=name(d.proposed_by),
                       handler=name(d.handler_id), unit=esc(s.unit_name(d.handler_unit or "")),
                       leader=name(d.leader_id)))
    if d.phone_at is not None:
        signed = t("doc.card_signed", time=s.fmt.dt(d.signed_at)) if d.signed_at else \
            t("doc.card_sign_due", due=s.fmt.dt(d.sign_due_at))
        lines.append(t("doc.card_phone", leader=name(d.leader_id), time=s.fmt.dt(d.phone_at), signed=signed))
    elif d.assigned_at is not None:
        lines.append(t("doc.card_assigned", leader=name(d.assigned_by), time=s.fmt.dt(d.assigned_at)))
    if d.state is DocState.DONE:
        how = t("doc.late" if d.late else "doc.on_time")
        lines.append(t("doc.card_done", handler=name(d.done_by), time=s.fmt.dt(d.done_at), how=how,
                       result=t("doc.card_result", result=esc(d.result)) if d.result else ""))
    state: str = t(f"doc.state.{d.state}")
    if d.is_overdue(now):
        state += t("doc.overdue_mark", delay=s.fmt.dur(now - d.due_at)) if d.due_at else ""
    lines.append(t("doc.card_state", state=state))
    return "\n".join(lines)


def event_text(s: Services, kind: str, detail: dict[str, Any]) -> str:
    kw = {k: esc(v) for k, v in detail.items()}
    key = f"doc.event.{kind}"
    try:
        return s.texts(key, **kw) if s.texts.has(key) else esc(kind)
    except KeyError:
        return esc(kind)
