"""Small helpers every handler uses: who is asking, may they, and how to answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.app import DeskContext
from bot.desk_bot import DeskBot, Markup
from bot.domain.members import Action, Member, can
from bot.services.errors import ServiceError
from storage import drafts, members, updates

log = logging.getLogger(__name__)

MAX_TEXT = 2000


async def say(update: Update, ctx: DeskContext, text: str, markup: Markup = None) -> int | None:
    """Answer in the chat the update came from (HTML; user text must already be escaped);
    the answer's message id."""
    chat = update.effective_chat
    if chat is None:
        return None
    message_id = await ctx.bot.send_text(chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
    updates.note_sent(chat.id, message_id)  # the question a dialogue step now waits on (handlers/answers.py)
    return message_id


async def say_key(update: Update, ctx: DeskContext, key: str, markup: Markup = None, **kw: object) -> int | None:
    return await say(update, ctx, ctx.t(key, **kw), markup)


async def answer_query(update: Update, text: str | None = None, alert: bool = False) -> None:
    q = update.callback_query
    if q is None:
        return
    bot = q.get_bot()
    try:
        if isinstance(bot, DeskBot):
            await bot.answer_query(q.id, text[:200] if text else None, show_alert=alert)
        else:
            await q.answer(text[:200] if text else None, show_alert=alert)
    except TelegramError as exc:  # an old query cannot be answered; nothing to do
        log.debug("answerCallbackQuery failed: %s", exc)


async def refuse(update: Update, ctx: DeskContext, err: ServiceError) -> None:
    text = ctx.t(err.key, **err.kw)
    if update.callback_query:
        await answer_query(update, text, alert=True)
    else:
        await say(update, ctx, text)


async def current_member(update: Update, ctx: DeskContext) -> Member | None:
    user = update.effective_user
    if user is None:
        return None
    return await members.by_telegram_id(ctx.services.db.read, user.id)


async def guard(update: Update, ctx: DeskContext, action: Action | None = None) -> Member | None:
    """The registered, active member allowed to do `action`, or None after telling them why not."""
    member = await current_member(update, ctx)
    key = None
    if member is None:
        key = "core.unknown_user"
    elif not member.active:
        key = "core.deactivated"
    elif action is not None and not can(member, action):
        key = "core.not_allowed"
    if key is None:
        return member
    text = ctx.t(key, district=ctx.services.config.general.district)
    if update.callback_query:
        await answer_query(update, text, alert=True)
    else:
        await say(update, ctx, text)
    return None


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == "private"


async def private_only(update: Update, ctx: DeskContext) -> bool:
    """True in a private chat; elsewhere says the command works only there and returns False."""
    if is_private(update):
        return True
    await say(update, ctx, ctx.t("core.private_only"))
    return False


async def guard_private(update: Update, ctx: DeskContext, action: Action | None = None) -> Member | None:
    """`guard`, then `private_only`: the member, or None after telling them why not."""
    member = await guard(update, ctx, action)
    if member is None or not await private_only(update, ctx):
        return None
    return member


async def read_text(update: Update, ctx: DeskContext, *, limit: int = MAX_TEXT, hint: str = "") -> str | None:
    """The message's text if it is usable; otherwise tell the user what is wrong and return None."""
    msg = update.effective_message
    text = msg.text if msg is not None else None
    if text is None:
        await say(update, ctx, ctx.t("core.text_expected", hint=hint))
        return None
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
    if not text:
        await say(update, ctx, ctx.t("core.empty"))
        return None
    if len(text) > limit:
        await say(update, ctx, ctx.t("core.too_long", limit=limit))
        return None
    return text


async def load_drafts(ctx: DeskContext, user_id: int, kinds: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Several drafts in one trip to the database thread. Each is kept for this update's next
    `load_draft` of its kind (once: read again after that, or after any save)."""
    found = await drafts.load_many(ctx.services.db.read, user_id, kinds)
    ctx.drafts_read = {(user_id, kind): payload for kind, payload in found.items()}
    return found


async def load_draft(ctx: DeskContext, user_id: int, kind: str) -> dict[str, Any]:
    read = ctx.drafts_read.pop((user_id, kind), None)
    return read if read is not None else await drafts.load(ctx.services.db.read, user_id, kind)


async def done_before(update: Update, ctx: DeskContext, kind: str) -> int | None:
    """What a dialogue's last step was done as, if this press repeats it: its use case committed
    (and made the draft "done as #id" in that transaction), then a crash came before the dialogue's
    end was saved. The caller says so instead of doing it twice."""
    user = update.effective_user
    return drafts.done_as(await load_draft(ctx, user.id, kind)) if user is not None else None


async def save_draft(ctx: DeskContext, user_id: int, kind: str, payload: dict[str, Any]) -> None:
    await save_drafts(ctx, user_id, {kind: payload})


async def save_drafts(ctx: DeskContext, user_id: int, payloads: dict[str, dict[str, Any]]) -> None:
    """Several drafts of the person (kind → payload), together or not at all."""
    s = ctx.services
    ctx.drafts_read.clear()
    async with s.db.single() as conn:  # one statement: commits by itself, one trip to the DB thread
        await drafts.save_many(conn, user_id, payloads, s.clock.now())


async def drop_drafts(ctx: DeskContext, user_id: int) -> None:
    ctx.drafts_read.clear()
    async with ctx.services.db.single() as conn:
        await drafts.drop(conn, user_id)


class Draft(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


D = TypeVar("D", bound=Draft)


def stray_handler(answer_above_key: str) -> Callable[[Update, DeskContext], Awaitable[None]]:
    """A dialogue's catch-all: a button from elsewhere is stale; anything else gets what is expected."""
    async def stray(update: Update, ctx: DeskContext) -> None:
        if update.callback_query is not None:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
        else:
            await say(update, ctx, ctx.t(answer_above_key))

    return stray


def callback_data(update: Update) -> str:
    """The pressed button's data; "" for any other update."""
    q = update.callback_query
    return (q.data or "") if q else ""


class DraftSlot(Generic[D]):
    """One dialogue's draft row (`kind`) for the person of the update, loaded and saved typed."""

    def __init__(self, kind: str, from_dict: Callable[[dict[str, Any]], D]) -> None:
        self.kind, self.from_dict = kind, from_dict

    async def load(self, update: Update, ctx: DeskContext) -> D:
        assert update.effective_user is not None
        return self.from_dict(await load_draft(ctx, update.effective_user.id, self.kind))

    async def save(self, update: Update, ctx: DeskContext, draft: D) -> None:
        assert update.effective_user is not None
        await save_draft(ctx, update.effective_user.id, self.kind, draft.to_dict())


async def text_into_draft(update: Update, ctx: DeskContext, slot: DraftSlot[D], field: str, *, limit: int) -> D | None:
    """One dialogue step: reads a text answer into `field` of the draft and saves it.
    None (after telling the user what is wrong) when the text is unusable; the caller stays."""
    text = await read_text(update, ctx, limit=limit)
    if text is None:
        return None
    draft = await slot.load(update, ctx)
    setattr(draft, field, text)
    await slot.save(update, ctx, draft)
    return draft
