"""Telegram groups: /bindgroup and /unbindgroup inside a group, and the group 收到 button.

Group messages carry notices only, never incident details; anything else said in a
group is left to the other handlers, which stay silent there.
"""

from __future__ import annotations

from telegram import Chat, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.members import Action, Member
from bot.fmt import esc
from bot.services import notice_text as txt
from bot.services import notices as svc
from bot.services.errors import ServiceError
from handlers.common import acted_at, answer_query, guard, refuse, say

DISTRICT_WORDS = ("all", "district", "全区")

# All that a group may use of the bot: what this module posts and answers there. Everything else is
# refused in groups and channels before any feature sees it (handlers/chat_scope.py).
GROUP_BUTTONS: frozenset[str] = frozenset({txt.GROUP_PREFIX})  # callback-data prefixes
GROUP_COMMANDS: frozenset[str] = frozenset({"bindgroup", "unbindgroup"})


async def _bot_can_pin(ctx: DeskContext, chat_id: int) -> bool:
    try:
        me = await ctx.bot.get_chat_member(chat_id, ctx.bot.id)
    except TelegramError:
        return False
    if me.status == ChatMemberStatus.OWNER:
        return True
    return me.status == ChatMemberStatus.ADMINISTRATOR and bool(getattr(me, "can_pin_messages", False))


async def _group_binder(update: Update, ctx: DeskContext) -> tuple[Chat, Member] | None:
    """The group and the member who may bind it; None after saying it works only in a group."""
    chat = update.effective_chat
    if chat is None or chat.type not in ("group", "supergroup"):
        await say(update, ctx, ctx.t("notice.group.group_only"))
        return None
    member = await guard(update, ctx, Action.BIND_GROUP)
    if member is None:
        return None
    return chat, member


async def bind_group(update: Update, ctx: DeskContext) -> None:
    """/bindgroup [unit code | 全区]: an admin binds to any unit or the district, a unit head to their unit."""
    asker = await _group_binder(update, ctx)
    if asker is None:
        return
    chat, member = asker
    arg = (ctx.args[0].strip().lower() if ctx.args else "")[:32]
    unit = None if arg in DISTRICT_WORDS or (not arg and member.district_wide) else arg or member.unit_code
    if unit is None and not member.district_wide:
        await say(update, ctx, ctx.t("core.not_your_unit"))
        return
    can_pin = await _bot_can_pin(ctx, chat.id)
    try:
        bound = await svc.bind_group(ctx.services, member, chat.id, chat.title or str(chat.id), unit, can_pin)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    where = esc(ctx.services.unit_name(bound)) if bound else ctx.t("notice.group.district")
    pin = ctx.t("notice.group.can_pin" if can_pin else "notice.group.cannot_pin")
    await say(update, ctx, ctx.t("notice.group.bound", unit=where, pin=pin))


async def unbind_group(update: Update, ctx: DeskContext) -> None:
    """/unbindgroup: notices stop being posted here."""
    asker = await _group_binder(update, ctx)
    if asker is None:
        return
    chat, member = asker
    try:
        done = await svc.unbind_group(ctx.services, member, chat.id)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await say(update, ctx, ctx.t("notice.group.unbound" if done else "notice.group.not_bound"))


async def group_ack(update: Update, ctx: DeskContext) -> None:
    """收到 under a group post: records this person (registered or not) once."""
    q, user, chat = update.callback_query, update.effective_user, update.effective_chat
    parsed = cb.parse_id(q.data if q else None, txt.GROUP_PREFIX, txt.GROUP_ACTIONS)
    if parsed is None or user is None or chat is None:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return
    try:
        fresh = await svc.group_acknowledge(ctx.services, chat.id, user.id, user.full_name or str(user.id), parsed[1],
                                            at=await acted_at(update, ctx))
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    await answer_query(update, ctx.t("notice.group.ack_done" if fresh else "notice.group.ack_already"))


async def group_migrated(update: Update, ctx: DeskContext) -> None:
    """Telegram upgraded a group to a supergroup (a new chat id): the binding moves with it. Both
    chats report it (migrate_to in the old, migrate_from in the new); the second finds it done."""
    msg = update.effective_message
    if msg is None or update.effective_chat is None:
        return
    if msg.migrate_to_chat_id:
        old, new = update.effective_chat.id, msg.migrate_to_chat_id
    elif msg.migrate_from_chat_id:
        old, new = msg.migrate_from_chat_id, update.effective_chat.id
    else:
        return
    await svc.group_migrated(ctx.services, old, new)


def register(app: Application) -> None:  # type: ignore[type-arg]
    # Not limited to groups: in a private chat they explain that they belong in a group.
    app.add_handler(CommandHandler("bindgroup", bind_group))
    app.add_handler(CommandHandler("unbindgroup", unbind_group))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group_migrated))
    app.add_handler(CallbackQueryHandler(group_ack, pattern=rf"^{txt.GROUP_PREFIX}:{txt.ACK}:\d{{1,12}}$"))
