"""Buttons on alerts: 已收到, 已上报市委, 详情; and the 要求补充 question-and-answer dialogue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.members import Member
from bot.services import incident_alerts, incident_forward
from bot.services.errors import ServiceError
from bot.services.incident_alerts import Outcome
from handlers.common import (
    ANSWERED,
    DialogKind,
    DraftRows,
    acted_at,
    answer_query,
    drop_drafts,
    guard,
    load_draft,
    read_text,
    refuse,
    save_draft,
    say,
    use_button,
)
from handlers.views import send_detail, send_versions

KIND = "question"


class S(IntEnum):
    QUESTION = 300
    ANSWER = 301


async def on_button(update: Update, ctx: DeskContext) -> None:
    """已收到 / 已上报市委 / 详情 on an alert. Re-checks role and unit; data is not trusted."""
    s = ctx.services

    async def use(member: Member, action: str, ident: int) -> Outcome | None:
        if action == cb.ACK:
            return await incident_alerts.acknowledge(s, member, ident, at=await acted_at(update, ctx))
        if action == cb.FORWARD:
            return await incident_forward.forward_first(s, member, ident, at=await acted_at(update, ctx))
        if action == cb.VERSIONS:
            await send_versions(update, ctx, member, ident)  # answers the query itself
        else:
            await send_detail(update, ctx, member, ident)  # answers the query itself
        return None

    out = await use_button(update, ctx, cb.INCIDENT, (cb.ACK, cb.FORWARD, cb.VERSIONS, cb.DETAIL), use)
    if out is not ANSWERED and out is not None:
        await answer_query(update, out.text, alert=not out.first)


async def _start(update: Update, ctx: DeskContext, state: S,
                 check: Callable[[Member, int], Awaitable[str]], draft: Callable[[int], dict[str, Any]]) -> S | int:
    """Entry from a button: `check` may this member do it (returns the prompt), note `draft`, ask."""
    async def use(member: Member, _action: str, ident: int) -> tuple[str, int]:
        return await check(member, ident), ident

    checked = await use_button(update, ctx, cb.INCIDENT, cb.INCIDENT_ACTIONS, use)
    if checked is ANSWERED:
        return ConversationHandler.END
    prompt, ident = checked
    await answer_query(update)
    assert update.effective_user is not None
    await save_draft(ctx, update.effective_user.id, KIND, draft(ident))
    await say(update, ctx, prompt)
    return state


async def _finish(update: Update, ctx: DeskContext, state: S, key: str,
                  act: Callable[[Member, dict[str, Any], str], Awaitable[str]]) -> S | int:
    """The typed text: `act` on it with the draft noted at the start (which must hold `key`)."""
    text = await read_text(update, ctx, limit=1000)
    if text is None:
        return state
    member = await guard(update, ctx)
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, KIND)
    if member is None or key not in draft:
        return ConversationHandler.END
    try:
        done = await act(member, draft, text)
    except ServiceError as err:
        await refuse(update, ctx, err)
    else:
        await say(update, ctx, done)
    await drop_drafts(ctx, update.effective_user.id)
    return ConversationHandler.END


async def start_ask(update: Update, ctx: DeskContext) -> S | int:
    """Entry from ❓ 要求补充: ask for the question text."""
    q = update.callback_query
    message_id = q.message.message_id if q and q.message else None
    return await _start(update, ctx, S.QUESTION,
                        lambda member, ident: incident_alerts.check_can_ask(ctx.services, member, ident),
                        lambda ident: {"incident_id": ident, "message_id": message_id})


async def got_question(update: Update, ctx: DeskContext) -> S | int:
    """Reads the question and sends it to the reporter."""
    return await _finish(
        update, ctx, S.QUESTION, "incident_id", lambda member, draft, text: incident_alerts.ask_reporter(
            ctx.services, member, draft["incident_id"], text, draft.get("message_id")))


async def start_answer(update: Update, ctx: DeskContext) -> S | int:
    """Entry from 💬 回复 on a question: ask for the answer text."""
    return await _start(update, ctx, S.ANSWER,
                        lambda member, ident: incident_alerts.check_can_answer(ctx.services, member, ident),
                        lambda ident: {"question_id": ident})


async def got_answer(update: Update, ctx: DeskContext) -> S | int:
    """Reads the answer; it goes back to the asker, threaded under their alert."""
    return await _finish(
        update, ctx, S.ANSWER, "question_id", lambda member, draft, text: incident_alerts.answer_question(
            ctx.services, member, draft["question_id"], text))


async def stray(update: Update, ctx: DeskContext) -> None:
    """Media or other input while a question or answer is expected."""
    await say(update, ctx, ctx.t("core.text_expected", hint=""))


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(start_ask, pattern=cb.pattern(cb.INCIDENT, (cb.ASK,))),
        CallbackQueryHandler(start_answer, pattern=cb.pattern(cb.INCIDENT, (cb.ANSWER,))),
    ]


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return {
        S.QUESTION: [MessageHandler(text, got_question), MessageHandler(~filters.COMMAND, stray)],
        S.ANSWER: [MessageHandler(text, got_answer), MessageHandler(~filters.COMMAND, stray)],
    }


async def resume(update: Update, ctx: DeskContext, state: int) -> int:
    """The question or answer asked for again (checked again: the incident may have moved on)."""
    member = await guard(update, ctx)
    assert update.effective_user is not None
    draft = await load_draft(ctx, update.effective_user.id, KIND)
    ident = draft.get("incident_id" if state == S.QUESTION else "question_id")
    if member is None or not isinstance(ident, int):
        return ConversationHandler.END
    check = incident_alerts.check_can_ask if state == S.QUESTION else incident_alerts.check_can_answer
    try:
        prompt = await check(ctx.services, member, ident)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return ConversationHandler.END
    await say(update, ctx, prompt)
    return state


def _nothing(rows: DraftRows) -> int:
    return 0  # the typed text is the only answer, and typing it sends it


def dialogs() -> list[DialogKind]:
    return [DialogKind("question", frozenset({S.QUESTION}), (KIND,), (start_ask,), _nothing, resume),
            DialogKind("answer", frozenset({S.ANSWER}), (KIND,), (start_answer,), _nothing, resume)]


async def on_forward_clock(update: Update, ctx: DeskContext) -> None:
    """已上报市委 under a later stage (fw:ok:<clock>): the office's clock for that stage stops."""
    async def use(member: Member, _ok: str, clock_id: int) -> Outcome:
        return await incident_forward.forward_clock(ctx.services, member, clock_id, at=await acted_at(update, ctx))

    out = await use_button(update, ctx, cb.FORWARD_CLOCK, (cb.FORWARD_OK,), use)
    if out is not ANSWERED:
        await answer_query(update, out.text, alert=not out.first)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(
        on_button, pattern=cb.pattern(cb.INCIDENT, (cb.ACK, cb.FORWARD, cb.DETAIL, cb.VERSIONS))))
    app.add_handler(CallbackQueryHandler(on_forward_clock, pattern=cb.pattern(cb.FORWARD_CLOCK, (cb.FORWARD_OK,))))
