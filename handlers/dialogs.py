"""The one dialogue map, and what happens to answers not yet submitted when another dialogue starts.

Every multi-step dialogue lives in ONE persistent ConversationHandler (built in handlers/__init__.py),
so any dialogue's entry point is reachable from inside any other. Each dialogue describes itself as a `DialogKind`
(handlers/common.py): its states, draft rows, entry callbacks, how many answers it holds and how to
ask a step's question again. Every entry point passes through `DialogMap._gate` first:

* the open dialogue holds no answers: the new one starts, nothing is lost;
* it holds emergency answers (`DialogKind.urgent`: /report, the written, full and follow-up
  reports), or the entry starts the same dialogue again: the person is asked — 「继续上报」 resumes
  at the step with every answer kept, 「放弃草稿」 drops the draft and starts what was pressed.
  Emergency answers hold the floor: a report set aside could be forgotten past its deadline
  (首报 within the hour), so the person decides now, and nothing is dropped unless they say so;
* it holds other answers (leave, notice, task, info …): the new dialogue opens at once (an
  emergency report never waits for a leave request), the answers are set aside (a `parked:` row
  with the step) and the person is told how to come back; starting that dialogue again asks
  「继续…」 / 「放弃草稿」 the same way;
* the entry opens no dialogue (refused: not the person's role; or it only lists choices): the
  open dialogue carries on where it was, nothing set aside;
* no dialogue is open but a dialogue's rows say which step it was on (the report's step note: a
  kill -9 between the question and the saved state): it counts as open.

The two buttons carry only a token; the press is checked against the token stored with the question
(`dialog.switch` row), the chat, the member, and the draft is looked up again before anything happens.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, ConversationHandler

from bot import callbacks as cb
from bot.context import DeskContext
from handlers.common import (
    DialogKind,
    DraftRows,
    answer_query,
    current_member,
    drop_drafts,
    save_draft,
    say,
)
from storage import drafts

SWITCH = "dialog.switch"  # drafts row: the open question about a draft (token, chat, target, entry)
END = ConversationHandler.END
_CHOICE = re.compile(rf"^{cb.DRAFT}:(go|drop):([0-9a-f]{{8}})$")

Entry = Callable[[Update, DeskContext], Coroutine[Any, Any, object]]
Loaded = dict[str, tuple[dict[str, Any], datetime]]


def _own(rows: Loaded, kind: DialogKind) -> DraftRows:
    return {k: rows[k][0] for k in kind.drafts if k in rows}


def _parked(rows: Loaded, kind: DialogKind) -> tuple[DraftRows, int | None]:
    """A parked dialogue's rows and the step it was on ({} and None when none is parked)."""
    payload = rows.get(drafts.parked_kind(kind.name), ({}, None))[0]
    state = payload.get("state")
    return dict(payload.get("rows") or {}), state if isinstance(state, int) else None


def _since(rows: Loaded, kinds: Sequence[str]) -> datetime | None:
    times = [rows[k][1] for k in kinds if k in rows]
    return max(times) if times else None


class DialogMap(ConversationHandler[Any]):
    """The ConversationHandler of every dialogue, whose entry points never drop unsaved answers."""

    def __init__(self, kinds: Sequence[DialogKind], *, entry_points: list[BaseHandler[Any, Any, Any]],
                 **kw: Any) -> None:
        self.kinds = {k.name: k for k in kinds}
        self._of_state = {s: k for k in kinds for s in k.states}
        by_start = {fn: k for k in kinds for fn in k.starts}
        for handler in entry_points:
            kind = by_start.get(handler.callback)
            if kind is None:
                raise RuntimeError(f"entry point {handler.callback.__qualname__} belongs to no DialogKind")
            handler.callback = self._gated(kind, handler.callback)
        self.gated = entry_points
        # First: the 继续/放弃 buttons work whatever the dialogue's state (and with none open).
        choice = CallbackQueryHandler(self.choose, pattern=_CHOICE.pattern)
        super().__init__(entry_points=[choice, *entry_points], **kw)

    async def handle_update(self, update: Update, application: Application[Any, Any, Any, Any, Any, Any],
                            check_result: Any, context: Any) -> object | None:
        # The gate and the buttons need the person's current step: PTB hands it over here
        # (check_result is the state, key, handler and the handler's own check).
        context.dialog_state = check_result[0]
        return await super().handle_update(update, application, check_result, context)

    def kind_of(self, state: object) -> DialogKind | None:
        return self._of_state.get(state) if isinstance(state, int) else None

    # --- the gate before every entry point --------------------------------------------------

    def _gated(self, kind: DialogKind, enter: Entry) -> Entry:
        async def gate(update: Update, ctx: DeskContext) -> object:
            return await self._gate(update, ctx, kind, enter)

        gate.__doc__, gate.__qualname__ = enter.__doc__, f"gate({enter.__qualname__})"
        gate.enters = enter  # type: ignore[attr-defined]
        return gate

    def _owner(self, kind: DialogKind, step: int, rows: Loaded) -> DialogKind:
        """`kind`, or the dialogue that borrows its step `step` and whose rows these are."""
        for other in self.kinds.values():
            if step in other.borrows and other.mine(_own(rows, other)):
                return other
        return kind

    def _open(self, ctx: DeskContext, rows: Loaded) -> tuple[DialogKind, int] | None:
        """The dialogue the person is in and its step: the conversation's state or, when the
        state was lost, a dialogue whose rows tell their step."""
        kind = self.kind_of(ctx.dialog_state)
        if kind is not None:
            assert isinstance(ctx.dialog_state, int)
            return self._owner(kind, ctx.dialog_state, rows), ctx.dialog_state
        for kind in self.kinds.values():
            own = _own(rows, kind)
            step = kind.step_of(own) if own else None
            if step is not None and kind.answered(own) > 0:
                return self._owner(kind, step, rows), step
        return None

    async def _gate(self, update: Update, ctx: DeskContext, kind: DialogKind, enter: Entry) -> object:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.type != "private":
            return await enter(update, ctx)  # drafts are private; the entry's own checks answer groups
        rows = await drafts.load_all(ctx.services.db.read, user.id)
        if rows:  # answers to keep, for an active member only (the entry refuses anyone else)
            member = await current_member(update, ctx)
            if member is None or not member.active:
                return await enter(update, ctx)
        opened = self._open(ctx, rows)
        holding = opened is not None and opened[0].answered(_own(rows, opened[0])) > 0
        if opened is not None and holding and (opened[0].urgent or opened[0] is kind):
            await self._ask(update, ctx, rows, opened[0], "open", opened[1], kind)
            return None  # the dialogue stays on its step
        parked, step = _parked(rows, kind)
        if step is not None and kind.answered(parked) > 0:
            await self._ask(update, ctx, rows, kind, "parked", step, kind)
            return opened[1] if opened is not None else None  # what is open carries on meanwhile
        if SWITCH in rows:
            await _drop_row(ctx, user.id, SWITCH)  # a question left unanswered is void once a dialogue starts
        result = await enter(update, ctx)
        if opened is None:
            return result
        if self.kind_of(result) is None:
            return opened[1]  # the entry opened no dialogue (refused, or only listed choices): the open one carries on
        if holding:
            await self._park(update, ctx, rows, *opened)  # told after the new dialogue's first question
        return result

    async def _park(self, update: Update, ctx: DeskContext, rows: Loaded, kind: DialogKind, step: int) -> None:
        """Set `kind`'s answers aside with their step, and say how to come back to them."""
        assert update.effective_user is not None
        s = ctx.services
        count = kind.answered(_own(rows, kind))
        async with s.db.tx() as conn:
            await drafts.park(conn, update.effective_user.id, kind.name, kind.drafts, step, s.clock.now())
        ctx.drafts_read.clear()
        await say(update, ctx, ctx.t("dialog.parked", name=ctx.t(f"dialog.name.{kind.name}"), count=count,
                                     back=ctx.t(f"dialog.back.{kind.name}")))

    async def _ask(self, update: Update, ctx: DeskContext, rows: Loaded, kind: DialogKind, how: str, step: int,
                   new: DialogKind) -> None:
        """继续… / 放弃草稿 about `kind`'s draft (open or parked); `update` is what was pressed."""
        assert update.effective_user is not None and update.effective_chat is not None
        if how == "parked":
            own, since = _parked(rows, kind)[0], _since(rows, [drafts.parked_kind(kind.name)])
        else:
            own, since = _own(rows, kind), _since(rows, kind.drafts)
        token = secrets.token_hex(4)
        await save_draft(ctx, update.effective_user.id, SWITCH, {
            "token": token, "chat": update.effective_chat.id, "name": kind.name, "how": how, "step": step,
            "entry": update.to_dict()})
        await answer_query(update)
        go, drop = ctx.t(f"dialog.go.{kind.name}"), ctx.t("dialog.drop")
        then = (ctx.t("dialog.then_same") if new is kind
                else ctx.t("dialog.then_new", new=ctx.t(f"dialog.name.{new.name}")))
        text = ctx.t("dialog.ask", icon=ctx.t("dialog.urgent_mark") if kind.urgent else "",
                     name=ctx.t(f"dialog.name.{kind.name}"), since=ctx.services.fmt.dt(since),
                     count=kind.answered(own), go=go, drop=drop, then=then)
        buttons = [(go, f"{cb.DRAFT}:go:{token}"), (drop, f"{cb.DRAFT}:drop:{token}")]
        await say(update, ctx, text, cb.keyboard([buttons]))

    # --- 继续 / 放弃草稿 ---------------------------------------------------------------------

    async def choose(self, update: Update, ctx: DeskContext) -> object:
        """继续… resumes the draft at its step; 放弃草稿 drops it and starts what had been pressed."""
        q, user, chat = update.callback_query, update.effective_user, update.effective_chat
        m = _CHOICE.fullmatch(q.data or "") if q is not None else None
        if m is None or user is None or chat is None or chat.type != "private":
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
            return None
        member = await current_member(update, ctx)
        if member is None or not member.active:
            await answer_query(update, ctx.t("core.deactivated" if member else "core.stale_button"), alert=True)
            return None
        rows = await drafts.load_all(ctx.services.db.read, user.id)
        switch = rows.get(SWITCH, ({}, None))[0]
        if switch.get("token") != m.group(2) or switch.get("chat") != chat.id:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)  # forged, or an older question
            return None
        target = self._still_there(ctx, rows, switch)
        await _drop_row(ctx, user.id, SWITCH)  # one answer per question
        if target is None:
            await answer_query(update, ctx.t("dialog.gone"), alert=True)
            return None
        kind, how, step = target
        if m.group(1) == "go":
            if how == "parked" and not await self._make_room(update, ctx, rows):
                return None
            await answer_query(update)
            if how == "parked":
                async with ctx.services.db.tx() as conn:
                    await drafts.unpark(conn, user.id, kind.name, ctx.services.clock.now())
                ctx.drafts_read.clear()
            return await kind.resume(update, ctx, step)
        if how == "parked":
            await _drop_row(ctx, user.id, drafts.parked_kind(kind.name))
        else:
            await drop_drafts(ctx, user.id)  # the open dialogue's rows (parked ones stay)
            ctx.dialog_state = None  # it is over: what was pressed starts in its place, or nothing does
        await say(update, ctx, ctx.t("dialog.dropped", name=ctx.t(f"dialog.name.{kind.name}")))
        entered = await self._enter_again(update, ctx, switch.get("entry"))
        return END if how == "open" and self.kind_of(entered) is None else entered

    async def _make_room(self, update: Update, ctx: DeskContext, rows: Loaded) -> bool:
        """Before a parked draft comes back: the dialogue open now is set aside if it holds answers
        (emergency answers are not: the person finishes or discards them first)."""
        opened = self._open(ctx, rows)
        if opened is None or opened[0].answered(_own(rows, opened[0])) == 0:
            return True
        if opened[0].urgent:
            await answer_query(update, ctx.t("dialog.finish_first", name=ctx.t(f"dialog.name.{opened[0].name}")),
                               alert=True)
            return False
        await self._park(update, ctx, rows, *opened)
        return True

    def _still_there(self, ctx: DeskContext, rows: Loaded,
                     switch: dict[str, Any]) -> tuple[DialogKind, str, int] | None:
        """The draft the question was about, if it is still where the question found it."""
        kind, how, step = self.kinds.get(str(switch.get("name"))), switch.get("how"), switch.get("step")
        if kind is None or not isinstance(how, str) or not isinstance(step, int):
            return None
        if how == "parked":
            parked, at = _parked(rows, kind)
            return (kind, how, at) if at is not None and kind.answered(parked) > 0 else None
        opened = self._open(ctx, rows)
        if opened is None or opened[0] is not kind or kind.answered(_own(rows, kind)) == 0:
            return None
        return kind, how, opened[1]  # the step it is on now (answers may have been typed since)

    async def _enter_again(self, update: Update, ctx: DeskContext, entry: object) -> object:
        """The entry point that was pressed when the question was asked, handled now. It re-checks
        everything itself (it is the same gated callback); the query answered is this press's."""
        if not isinstance(entry, dict):
            return END
        data = dict(entry)
        if isinstance(data.get("callback_query"), dict) and update.callback_query is not None:
            data["callback_query"] = {**data["callback_query"], "id": update.callback_query.id}
        again = Update.de_json(data, ctx.bot)
        if again is None:
            return END
        for handler in self.gated:
            check = handler.check_update(again)
            if check is not None and check is not False:
                handler.collect_additional_context(ctx, again, ctx.application, check)  # /command args
                result = await handler.callback(again, ctx)
                await answer_query(update)  # if the entry did not answer the press itself
                return result
        await answer_query(update)
        return END


async def _drop_row(ctx: DeskContext, telegram_id: int, kind: str) -> None:
    ctx.drafts_read.clear()
    async with ctx.services.db.single() as conn:
        await drafts.drop(conn, telegram_id, kind)
