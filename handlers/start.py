"""/start (registration by invite), /help, /cancel and the main menu."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, ConversationHandler, filters

from bot.context import DeskApplication, DeskContext, set_member_commands
from bot.domain.invites import InviteProblem
from bot.domain.members import Member, Role
from bot.services import registration
from handlers.common import current_member, drop_drafts, guard, say


def help_text(ctx: DeskContext, member: Member) -> str:
    lines: list[str] = [ctx.t("core.help_title")]
    lines += [ctx.t.help_line(c) for c in registration.commands_for(member)]
    return "\n".join(lines)


def main_menu(ctx: DeskContext, member: Member) -> ReplyKeyboardMarkup | None:
    """Big buttons for the phone: reporters get 上报突发事件 first."""
    rows: list[list[KeyboardButton]] = []
    if member.has(Role.OFFICER, Role.UNIT_HEAD):
        rows.append([KeyboardButton(ctx.t("core.menu.report"))])
    if member.has(Role.DUTY, Role.DIRECTOR):  # 代报/登记: a phone report, the hotline, the media …
        rows.append([KeyboardButton(ctx.t("core.menu.record"))])
    if member.has(Role.OFFICER, Role.UNIT_HEAD, Role.DUTY, Role.DIRECTOR, Role.LEADER):
        rows.append([KeyboardButton(ctx.t("core.menu.incidents"))])
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True) if rows else None


async def start(update: Update, ctx: DeskContext) -> None:
    """Register with an invite code (deep link), or greet a known member."""
    user = update.effective_user
    if user is None:
        return
    s = ctx.services
    member = await current_member(update, ctx)
    code = (ctx.args[0].strip() if ctx.args else "")[:64]
    if member is not None and not member.active:
        await say(update, ctx, ctx.t("core.deactivated"))
        return
    if not code:
        if member is None:
            await say(update, ctx, ctx.t("core.unknown_user", district=s.config.general.district))
            return
        await say(update, ctx, ctx.t("core.welcome_back", name=member.name, unit=s.unit_name(member.unit_code),
                                     roles=s.fmt.roles(member.roles)), main_menu(ctx, member))
        return
    result = await registration.redeem(
        s, code.upper(), telegram_id=user.id, display_name=user.full_name or str(user.id), username=user.username,
    )
    if result.problem is not None:
        if result.problem is InviteProblem.USED and member is not None:
            await say(update, ctx, ctx.t("core.already_registered", unit=s.unit_name(member.unit_code),
                                         roles=s.fmt.roles(member.roles)))
        else:
            await say(update, ctx, ctx.t(f"core.invite_{result.problem.value}"))
        return
    registered = result.member
    assert registered is not None
    await say(update, ctx, ctx.t("core.welcome", name=registered.name, unit=s.unit_name(registered.unit_code),
                                 roles=s.fmt.roles(registered.roles), help=help_text(ctx, registered)),
              main_menu(ctx, registered))
    await set_member_commands(ctx.application, registered)  # type: ignore[arg-type]


async def help_command(update: Update, ctx: DeskContext) -> None:
    """List what this member's roles may use."""
    member = await guard(update, ctx)
    if member is None:
        return
    private = update.effective_chat is not None and update.effective_chat.type == "private"
    await say(update, ctx, help_text(ctx, member), main_menu(ctx, member) if private else None)


async def cancel(update: Update, ctx: DeskContext) -> int:
    """Leave any dialogue; drop its draft so nothing half-written is kept."""
    user = update.effective_user
    if user is not None:
        await drop_drafts(ctx, user.id)
    await say(update, ctx, ctx.t("core.cancelled"))
    return ConversationHandler.END


async def cancel_idle(update: Update, ctx: DeskContext) -> None:
    """/cancel outside any dialogue."""
    await say(update, ctx, ctx.t("core.nothing_to_cancel"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("help", help_command))


def register_late(app: DeskApplication) -> None:
    app.add_handler(CommandHandler("cancel", cancel_idle))
