"""Administration in chat: /members, /invite, /role, /deactivate, /reactivate (admins only)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import DeskContext, set_member_commands
from bot.domain import parse
from bot.domain.invites import deep_link
from bot.domain.members import Action, Role
from bot.fmt import clip, esc
from bot.services import phones, registration
from bot.services.errors import ServiceError
from bot.services.phones import masked_phones
from handlers.common import guard, is_private, refuse, say
from storage import members


def _roles_help(ctx: DeskContext) -> str:
    """`unit_chief（单位主要负责人）, …`: the codes to type, with what they mean."""
    return ctx.t("core.list_sep").join(ctx.t("core.admin.role_code", code=r.value, label=ctx.t(f"core.roles.{r.value}"))
                                       for r in Role)


async def list_members(update: Update, ctx: DeskContext) -> None:
    """Members by unit, with roles and whether active."""
    admin = await guard(update, ctx, Action.MANAGE_MEMBERS)
    if admin is None or not is_private(update):
        return
    s = ctx.services
    everyone = await members.all_members(s.db.read)
    phones = await masked_phones(s, [m.id for m in everyone])  # masked even here: the list may be forwarded
    lines: list[str] = [ctx.t("core.admin.members_title", count=len(everyone))]
    unit = None
    for m in everyone:
        if m.unit_code != unit:
            unit = m.unit_code
            lines.append(ctx.t("core.admin.members_unit", unit=esc(s.unit_name(unit))))
        lines.append(ctx.t("core.admin.member_line", id=m.id, name=esc(m.name), roles=s.fmt.roles(m.roles),
                           inactive="" if m.active else ctx.t("core.admin.inactive_mark"))
                     + (ctx.t("channels.phone.mark", phone=phones[m.id]) if m.id in phones else ""))
    await say(update, ctx, clip("\n".join(lines)))


async def set_phone(update: Update, ctx: DeskContext) -> None:
    """/phone ID NUMBER (or "-"): the member's phone number for SMS alerts."""
    admin = await guard(update, ctx, Action.MANAGE_MEMBERS)
    if admin is None or not is_private(update):
        return
    args = ctx.args or []
    member_id = parse.record_id(args[0]) if len(args) >= 2 else None
    if member_id is None:
        await say(update, ctx, ctx.t("channels.phone.usage"))
        return
    try:
        done = await phones.set_phone(ctx.services, admin, member_id, " ".join(args[1:]))
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    if done.phone is None:
        await say(update, ctx, ctx.t("channels.phone.cleared", name=esc(done.member.name)))
    else:
        await say(update, ctx, ctx.t("channels.phone.set", name=esc(done.member.name), phone=done.phone))


async def invite(update: Update, ctx: DeskContext) -> None:
    """/invite UNIT ROLE [NAME]: a single-use deep link."""
    admin = await guard(update, ctx, Action.CREATE_INVITE)
    if admin is None or not is_private(update):
        return
    s = ctx.services
    args = ctx.args or []
    if len(args) < 2:
        await say(update, ctx, ctx.t("core.admin.invite_usage", units=", ".join(u.code for u in s.config.units),
                                     roles=_roles_help(ctx)))
        return
    name = " ".join(args[2:])[:50] or None
    try:
        inv = await registration.create_invite(s, unit_code=args[0], role=args[1], name=name, created_by=admin)
    except ServiceError as err:
        await refuse(update, ctx, ServiceError(err.key, **{k: esc(v) for k, v in err.kw.items()}))
        return
    username = ctx.bot.username or s.config.telegram.bot_username
    await say(update, ctx, ctx.t(
        "core.admin.invite_created", unit=esc(s.unit_name(inv.unit_code)), role=ctx.t(f"core.roles.{inv.role}"),
        name=esc(f"，{name}") if name else "", expires=s.fmt.dt(inv.expires_at), link=deep_link(username, inv.code),
        code=inv.code,
    ))


async def set_roles(update: Update, ctx: DeskContext) -> None:
    """/role ID ROLE [ROLE…]: the member holds exactly these roles (e.g. unit_head → unit_chief)."""
    admin = await guard(update, ctx, Action.MANAGE_MEMBERS)
    if admin is None or not is_private(update):
        return
    s = ctx.services
    args = ctx.args or []
    roles = _roles_help(ctx)
    number = parse.record_id(args[0]) if len(args) >= 2 else None
    if number is None:
        await say(update, ctx, ctx.t("core.admin.role_usage", roles=roles))
        return
    try:
        done = await registration.set_roles(s, admin, number, args[1:])
    except ServiceError as err:
        await refuse(update, ctx, ServiceError(err.key, **{k: esc(v) for k, v in err.kw.items()}))
        return
    m = done.member
    await say(update, ctx, ctx.t("core.admin.role_done", id=m.id, name=esc(m.name), unit=esc(s.unit_name(m.unit_code)),
                                 before=s.fmt.roles(done.before) or ctx.t("core.none"), after=s.fmt.roles(m.roles)))
    await set_member_commands(ctx.application, m)  # type: ignore[arg-type]


async def _set_active(update: Update, ctx: DeskContext, active: bool) -> None:
    admin = await guard(update, ctx, Action.MANAGE_MEMBERS)
    if admin is None:
        return
    usage = "core.admin.reactivate_usage" if active else "core.admin.deactivate_usage"
    args = ctx.args or []
    member_id = parse.record_id(args[0]) if len(args) == 1 else None
    if member_id is None:
        await say(update, ctx, ctx.t(usage))
        return
    try:
        target = await registration.set_active(ctx.services, admin, member_id, active)
    except ServiceError as err:
        await refuse(update, ctx, err)
        return
    key = "core.admin.reactivated_ok" if active else "core.admin.deactivated_ok"
    await say(update, ctx, ctx.t(key, name=esc(target.name), unit=esc(ctx.services.unit_name(target.unit_code))))


async def deactivate(update: Update, ctx: DeskContext) -> None:
    """Stop a member from using the bot (kept for history)."""
    await _set_active(update, ctx, False)


async def reactivate(update: Update, ctx: DeskContext) -> None:
    """Let a deactivated member back in."""
    await _set_active(update, ctx, True)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("members", list_members))
    app.add_handler(CommandHandler("phone", set_phone))
    app.add_handler(CommandHandler("invite", invite))
    app.add_handler(CommandHandler("role", set_roles))
    app.add_handler(CommandHandler("deactivate", deactivate))
    app.add_handler(CommandHandler("reactivate", reactivate))
