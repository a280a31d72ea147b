"""Small helpers every handler uses: who is asking, may they, and how to answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import callbacks as cb
from bot.context import DeskContext
from bot.desk_bot import DeskBot, Markup
from bot.domain.members import Action, Member, can
from bot.domain.sent_time import credible, pressed_at, sent_at
from bot.fmt import esc
from bot.i18n import plain
from bot.services import registration
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
    """The toast (or alert box) under a pressed button: `text` is a catalog text (HTML), shown
    as Telegram shows a toast — plain, so a name's `&` reads `&`, not `&amp;`."""
    q = update.callback_query
    if q is None:
        return
    text = plain(text) if text else None
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
    if member is None or not member.active:
        await tell_outsider(update, ctx, key)
        return None
    text = ctx.t(key, district=ctx.services.config.general.district)
    if update.callback_query:
        await answer_query(update, text, alert=True)
    else:
        await say(update, ctx, text)
    return None


async def tell_outsider(update: Update, ctx: DeskContext, key: str) -> None:
    """Someone who is not (or no longer) an active member: `key` (core.unknown_user or
    core.deactivated) in a private chat or as a button's toast; in a group at most one short line a
    day per person and group, so an outsider's commands neither flood it nor post the registration
    text there."""
    text = ctx.t(key, district=ctx.services.config.general.district)
    chat, user = update.effective_chat, update.effective_user
    if update.callback_query:
        await answer_query(update, text, alert=True)
    elif chat is not None and chat.type == "private":
        await say(update, ctx, text)
    elif chat is not None and user is not None:
        short = ctx.t("core.group_unknown") if key == "core.unknown_user" else text
        await registration.hint_in_group(ctx.services, chat.id, user.id, short)


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


class Stop(Enum):
    """What `use_button` gives when the use case did not run or was refused: the person was answered."""

    ANSWERED = "answered"


ANSWERED = Stop.ANSWERED
T = TypeVar("T")


async def use_button(update: Update, ctx: DeskContext, prefix: str, actions: tuple[str, ...],
                     use: Callable[[Member, str, int], Awaitable[T]], *, action: Action | None = None) -> T | Stop:
    """A button naming one thing (`<prefix>:<action>:<id>`): the person may act (`guard`, with
    `action`), the data is well formed (`cb.parse_id`), then `use(member, action, id)`. Whatever
    stops it is answered here — not a member, not allowed, stale data, the use case's refusal
    (`ServiceError`) — and gives ANSWERED. Data is never trusted: `use` re-checks against the database."""
    member = await guard(update, ctx, action)
    if member is None:
        return ANSWERED
    parsed = cb.parse_id(callback_data(update), prefix, actions)
    if parsed is None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return ANSWERED
    try:
        return await use(member, *parsed)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return ANSWERED


@dataclass(frozen=True)
class Answer:
    """What a step that offers buttons and also takes typed text got: a press, or the text typed."""

    pressed: bool
    data: str = ""  # the button's callback data
    text: str = ""  # the typed text, read_text's checks passed


async def button_or_text(update: Update, ctx: DeskContext, *, limit: int = MAX_TEXT, hint: str = "") -> Answer | None:
    """One of the step's buttons (the press acknowledged) or typed text (`read_text`). None after
    telling the person what is wrong with the text: the caller stays on the step."""
    if update.callback_query is not None:
        await answer_query(update)
        return Answer(pressed=True, data=update.callback_query.data or "")
    text = await read_text(update, ctx, limit=limit, hint=hint)
    return None if text is None else Answer(pressed=False, text=text)


def sent_time(ctx: DeskContext) -> datetime:
    """What the update itself says of when the person acted: a message's own date (Telegram's server
    stamps it), or for a button press the latest moment it is known to have come after (see
    bot/domain/sent_time.py). `acted_at` adds what the database knows."""
    now = ctx.services.now()
    update = ctx.incoming
    if update is None:
        return now
    q = update.callback_query
    if q is None:
        msg = update.effective_message
        date = (msg.edit_date or msg.date) if msg is not None else None
        if date is not None and not credible(date, now):
            log.warning("update %s dated %s, more than a day before now (%s): taken as sent now",
                        update.update_id, date, now)
        return sent_at(date, now)
    if not ctx.bot.queued:
        return now  # it reached the bot as it was pressed
    shown = q.message.date if isinstance(q.message, Message) else None  # the button's message
    return pressed_at((shown, ctx.bot.queued_since), now)


async def acted_at(update: Update, ctx: DeskContext) -> datetime:
    """When the person did what `update` carries — what every "on time" is judged by. A button press
    that waited in Telegram's queue also came after every answer the person gave in their dialogues
    (recorded with the drafts)."""
    moment = sent_time(ctx)
    user = update.effective_user
    if update.callback_query is None or user is None or not ctx.bot.queued:
        return moment
    answered = await drafts.last_answer(ctx.services.db.read, user.id)
    return pressed_at((moment, answered), ctx.services.now())


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
    """Several drafts of the person (kind → payload), together or not at all; stamped with when the
    person sent the answer (`sent_time`), which a later button press is judged by."""
    s = ctx.services
    ctx.drafts_read.clear()
    async with s.db.single() as conn:  # one statement: commits by itself, one trip to the DB thread
        await drafts.save_many(conn, user_id, payloads, sent_time(ctx))


async def drop_drafts(ctx: DeskContext, user_id: int) -> None:
    ctx.drafts_read.clear()
    async with ctx.services.db.single() as conn:
        await drafts.drop(conn, user_id)


class Draft(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


D = TypeVar("D", bound=Draft)


def stray_handler(answer_above_key: str) -> Callable[[Update, DeskContext], Coroutine[Any, Any, None]]:
    """A dialogue's catch-all: a button from elsewhere is stale; anything else gets what is expected."""
    async def stray(update: Update, ctx: DeskContext) -> None:
        if update.callback_query is not None:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
        else:
            await say(update, ctx, ctx.t(answer_above_key))

    return stray


Rows = Sequence[Sequence[tuple[str, str]]]  # an inline keyboard as (label, callback data) rows


@dataclass
class ButtonStep:
    """What a step that takes only a button shows: its keyboard, and (for a list of people, units
    or groups) who can appear there and how they get registered, or what else the step takes."""

    rows: Rows
    note: str = ""


StepButtons = Callable[[Update, DeskContext], Awaitable[ButtonStep]]
MAX_NAMED_BUTTONS = 16


def button_hint(ctx: DeskContext, step: ButtonStep) -> str:
    """Says typing does not work here and names the step's buttons (escaped: names are user text)."""
    labels = [label for row in step.rows for label, _ in row]
    named = [ctx.t("core.button_label", label=esc(label)) for label in labels[:MAX_NAMED_BUTTONS]]
    if len(labels) > MAX_NAMED_BUTTONS:
        named.append(ctx.t("core.buttons_more", n=len(labels) - MAX_NAMED_BUTTONS))
    text = ctx.t("core.buttons_only", buttons=ctx.t("core.buttons_sep").join(named))
    return text + ("\n" + step.note if step.note else "")


def buttons_only(step: StepButtons) -> Callable[[Update, DeskContext], Coroutine[Any, Any, None]]:
    """The catch-all of a step that takes only a button: another button is stale; typed text or
    media gets `button_hint`, built from the same `step` the question's keyboard is built from."""
    async def hint(update: Update, ctx: DeskContext) -> None:
        if update.callback_query is not None:
            await answer_query(update, ctx.t("core.stale_button"), alert=True)
            return
        await say(update, ctx, button_hint(ctx, await step(update, ctx)))

    hint.button_step = step  # type: ignore[attr-defined]  # tests find the button-only steps by it
    return hint


DraftRows = dict[str, dict[str, Any]]  # a dialogue's draft rows: kind → payload


def _no_step(rows: DraftRows) -> int | None:
    return None


def _not_mine(rows: DraftRows) -> bool:
    return False


@dataclass(frozen=True)
class DialogKind:
    """What a dialogue tells the one dialogue map (handlers/dialogs.py) about itself, so an
    answer not yet submitted is never dropped when another dialogue starts."""

    name: str  # catalog: dialog.name.<name>, dialog.go.<name> (the 继续 button), dialog.back.<name>
    states: frozenset[int]
    drafts: tuple[str, ...]  # its rows in the drafts table
    starts: tuple[Callable[..., Awaitable[Any]], ...]  # the callbacks of its entry points
    answered: Callable[[DraftRows], int]  # answers the rows hold that were not submitted yet
    resume: Callable[[Update, DeskContext, int], Awaitable[int]]  # asks a step's question again
    urgent: bool = False  # emergency answers: never set aside; the person is asked first
    step_of: Callable[[DraftRows], int | None] = _no_step  # the step from the rows alone (state lost)
    # Steps of another dialogue this one goes on to (/record asks /report's questions after its
    # own): in one of them, the rows say whose dialogue it is (`mine`).
    borrows: frozenset[int] = frozenset()
    mine: Callable[[DraftRows], bool] = _not_mine


def count_set(payload: dict[str, Any], *fields: str) -> int:
    """How many of `fields` hold an answer (not None, "", [] or {})."""
    return sum(1 for f in fields if payload.get(f) not in (None, "", [], {}))


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
