"""Telegram-facing handlers, one module per feature; `register_all` combines them.

Order matters and is spelled out here: what a group or channel may not use is refused first
(`chat_scope`), then the one dialogue ConversationHandler (so a
member in the middle of a dialogue gets their answers read by it), then standalone
commands and buttons, then the catch-all fallback; in group 99 the conversation
states are flushed to SQLite after every update and the update is marked handled; in
group -1 an update Telegram delivers again after a kill -9 is skipped.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    TypeHandler,
)

from handlers import (
    admin,
    answers,
    breaches,
    chat_scope,
    dialogs,
    document_work,
    documents,
    duty_log,
    fact_review,
    fallback,
    groups,
    handover,
    holiday,
    incident_actions,
    incident_docs,
    info,
    leave,
    marks,
    notices,
    record,
    report,
    roster,
    stages,
    start,
    stats,
    supervision,
    views,
)
from storage import updates

log = logging.getLogger(__name__)

DIALOG_NAME = "dialog"
PERSIST_GROUP = 99
REDELIVERY_GROUP = -1

# Feature modules that contribute entry points and states to the one dialogue.
DIALOG_MODULES = (report, record, stages, fact_review, marks, incident_actions, info, leave, holiday, notices,
                  supervision, duty_log, handover, documents, document_work)


def build_dialog() -> ConversationHandler[Any]:
    """All multi-step dialogues in one map; starting one never drops another's unsaved answers
    (handlers/dialogs.py asks first, or sets them aside and says how to come back)."""
    entries: list[BaseHandler[Any, Any, Any]] = []
    states: dict[object, list[BaseHandler[Any, Any, Any]]] = {}
    for module in DIALOG_MODULES:
        entries += module.entry_points()
        for state, handlers in module.states().items():
            if state in states:
                raise RuntimeError(f"dialogue state {state!r} defined twice")
            states[state] = handlers
    return dialogs.DialogMap(
        [kind for module in DIALOG_MODULES for kind in module.dialogs()],
        entry_points=entries,
        states=states,
        fallbacks=[CommandHandler("cancel", start.cancel)],
        name=DIALOG_NAME,
        persistent=True,
        allow_reentry=True,
        per_chat=True,
        per_user=True,
        per_message=False,
    )


async def skip_redelivered(update: object, ctx: Any) -> None:
    """Before anything else: an update handled before a kill -9, that Telegram delivers again
    because the poll confirming it never went out, is not handled twice (an answer taken twice
    would be read as the next question's: the casualties filed as the description)."""
    if not isinstance(update, Update):
        return
    if update.update_id in ctx.deps.handled:
        log.info("update %s was handled before the restart; skipped", update.update_id)
        raise ApplicationHandlerStop
    chat, user = update.effective_chat, update.effective_user
    key = (chat.id, user.id) if chat is not None and user is not None else None
    updates.begin(update.update_id, key)  # its first commit marks it handled (storage/updates.py)
    await answers.refuse_crossed(update, ctx, DIALOG_NAME)  # typed before its question: not an answer


async def flush_persistence(update: object, ctx: Any) -> None:
    """After every update: write the dialogue states it moved now, not in 60 s, and mark it
    handled in the same commit (if nothing it did has committed a change yet)."""
    try:
        await ctx.application.update_persistence()  # hands the changed states to the persistence
        handling = updates.current()
        if handling is not None:
            await ctx.application.persistence.write_for(handling)
    finally:
        updates.end()


def register_all(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    import warnings

    from telegram.warnings import PTBUserWarning

    with warnings.catch_warnings():
        # per_message=False with button steps is intended: one dialogue per chat and user.
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        # First: in a group or channel, whatever the group features do not offer there is refused
        # before the dialogue or any feature sees it (buttons, commands, chatter).
        app.add_handler(chat_scope.ChatScope())
        app.add_handler(build_dialog())
    start.register(app)
    admin.register(app)
    views.register(app)
    incident_actions.register(app)
    incident_docs.register(app)
    breaches.register(app)
    info.register(app)
    leave.register(app)
    notices.register(app)
    groups.register(app)
    supervision.register(app)
    roster.register(app)
    handover.register(app)
    documents.register(app)
    document_work.register(app)
    stats.register(app)
    start.register_late(app)  # type: ignore[arg-type]
    fallback.register(app)
    app.add_handler(TypeHandler(Update, skip_redelivered), group=REDELIVERY_GROUP)
    app.add_handler(TypeHandler(Update, flush_persistence), group=PERSIST_GROUP)
    app.add_error_handler(fallback.on_error)
