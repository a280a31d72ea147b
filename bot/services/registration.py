"""Invitations, registration and member administration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.invites import Invite, InviteProblem, invite_problem, new_invite_code
from bot.domain.members import Action, Member, Role, can, parse_role, parse_roles
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError
from bot.services.member_gone import member_gone
from storage import group_hints, invites, members


@dataclass(frozen=True)
class Redeemed:
    member: Member | None
    problem: InviteProblem | None = None


async def create_invite(
    s: Services, *, unit_code: str, role: str, name: str | None = None,
    expires: timedelta | None = None, created_by: Member | None = None,
) -> Invite:
    """Admins only in chat; the CLI (created_by=None) is the server operator."""
    if created_by is not None and not can(created_by, Action.CREATE_INVITE):
        raise NotAllowed()
    if s.config.unit(unit_code) is None:
        raise ServiceError("core.admin.invite_bad_unit", code=unit_code,
                           units=", ".join(u.code for u in s.config.units))
    if parse_role(role) is None:
        raise ServiceError("core.admin.invite_bad_role", role=role, roles=", ".join(r.value for r in Role))
    if expires is not None and expires <= timedelta(0):  # never "0s" silently read as the default
        raise ServiceError("core.admin.invite_bad_expiry")
    now = s.now()
    invite = Invite(
        code=new_invite_code(), unit_code=unit_code, role=role, name=name, created_at=now,
        expires_at=now + (s.config.invites.default_expiry if expires is None else expires),
    )
    async with s.uow() as tx:
        await invites.create(tx.conn, invite, created_by.id if created_by else None)
        await members.audit(tx.conn, now, created_by.id if created_by else None, "invite", f"{unit_code}/{role}")
    return invite


async def redeem(
    s: Services, code: str, *, telegram_id: int, display_name: str, username: str | None,
) -> Redeemed:
    """Register the Telegram user with the invite's unit and role; single use, race-safe."""
    async with s.uow() as tx:
        invite = await invites.get(tx.conn, code)
        problem = invite_problem(invite, tx.now)
        if problem is not None or invite is None:
            return Redeemed(None, problem)
        existing = await members.by_telegram_id(tx.conn, telegram_id)
        if existing is not None:
            # A second invite for the same person adds the role, it never makes a twin.
            if existing.unit_code != invite.unit_code:
                return Redeemed(existing, InviteProblem.USED)
            await members.add_roles(tx.conn, existing.id, [Role(invite.role)])
            member = existing
        else:
            member = await members.create(
                tx.conn, telegram_id=telegram_id, name=invite.name or display_name, username=username,
                unit_code=invite.unit_code, roles=[Role(invite.role)], now=tx.now,
            )
        if not await invites.mark_used(tx.conn, code, member.id, tx.now):
            raise ServiceError("core.invite_used")
        await members.audit(tx.conn, tx.now, member.id, "register", f"{invite.unit_code}/{invite.role}")
        fresh = await members.by_id(tx.conn, member.id)
        return Redeemed(fresh)


async def set_active(s: Services, actor: Member, member_id: int, active: bool) -> Member:
    if not can(actor, Action.MANAGE_MEMBERS):
        raise NotAllowed()
    if actor.id == member_id and not active:
        raise ServiceError("core.admin.self_deactivate")
    async with s.uow() as tx:
        target = await members.by_id(tx.conn, member_id)
        if target is None:
            raise ServiceError("core.admin.member_missing", id=member_id)
        await members.set_active(tx.conn, member_id, active, tx.now)
        await members.audit(tx.conn, tx.now, actor.id, "activate" if active else "deactivate", str(member_id))
        fresh = await members.by_id(tx.conn, member_id)
        assert fresh is not None
        if target.active and not active:  # whatever waited on them moves on, in this transaction
            await member_gone(s, tx, fresh)
        return fresh


GROUP_HINT_EVERY = timedelta(days=1)


async def hint_in_group(s: Services, chat_id: int, telegram_id: int, text: str) -> bool:
    """Tell someone who is not an active member, in a group, `text` (one short line), unless they
    were told something there in the last GROUP_HINT_EVERY. False when it was not said."""
    async with s.uow() as tx:
        if not await group_hints.claim(tx.conn, chat_id, telegram_id, tx.now, GROUP_HINT_EVERY):
            return False
        await tx.send_text(chat_id, text, ref_kind="group_hint", tag="hint")
        return True


@dataclass(frozen=True)
class Reroled:
    member: Member
    before: frozenset[Role]


async def set_roles(s: Services, actor: Member | None, member_id: int, words: list[str]) -> Reroled:
    """`/role 12 unit_chief`: the member holds exactly the roles named. Admins only in chat; the CLI
    (actor=None) is the server operator. An admin cannot take their own admin role away."""
    if actor is not None and not can(actor, Action.MANAGE_MEMBERS):
        raise NotAllowed()
    roles, unknown = parse_roles(words)
    roles_list = ", ".join(r.value for r in Role)
    if unknown:
        raise ServiceError("core.admin.invite_bad_role", role=", ".join(unknown), roles=roles_list)
    if not roles:
        raise ServiceError("core.admin.role_usage", roles=roles_list)
    if actor is not None and actor.id == member_id and Role.ADMIN not in roles:
        raise ServiceError("core.admin.self_unadmin")
    async with s.uow() as tx:
        target = await members.by_id(tx.conn, member_id)
        if target is None:
            raise ServiceError("core.admin.member_missing", id=member_id)
        await members.set_roles(tx.conn, member_id, sorted(roles))
        await members.review_done(tx.conn, member_id)
        before = ",".join(sorted(target.roles))
        after = ",".join(sorted(roles))
        await members.audit(tx.conn, tx.now, actor.id if actor else None, "roles", f"#{member_id}: {before} → {after}")
        fresh = await members.by_id(tx.conn, member_id)
        assert fresh is not None
        return Reroled(fresh, target.roles)


# Commands and who may see them in /help and the command menu, in menu order.
# Feature modules add one line each.
_ALL = frozenset(Role)
_REPORTERS = frozenset({Role.OFFICER, Role.UNIT_HEAD})
_OFFICE = frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER})
_CHIEF = frozenset({Role.UNIT_CHIEF})
COMMANDS: list[tuple[str, frozenset[Role]]] = [
    ("report", _REPORTERS),
    ("record", frozenset({Role.DUTY, Role.DIRECTOR})),
    ("incidents", _REPORTERS | _OFFICE | _CHIEF),
    ("incident", _REPORTERS | _OFFICE | _CHIEF),
    ("leave", _ALL - {Role.ADMIN}),
    ("back", _ALL - {Role.ADMIN}),
    ("leave_history", _ALL - {Role.ADMIN}),
    ("leave_cancel", _ALL - {Role.ADMIN}),
    ("away", _OFFICE | {Role.UNIT_HEAD} | _CHIEF),
    ("holiday", frozenset({Role.LEADER})),
    ("task", frozenset({Role.DIRECTOR, Role.LEADER, Role.OFFICER, Role.UNIT_HEAD}) | _CHIEF),
    ("tasks", frozenset({Role.DIRECTOR, Role.LEADER, Role.OFFICER, Role.UNIT_HEAD}) | _CHIEF),
    ("progress", _REPORTERS),
    ("bulletin", frozenset({Role.DIRECTOR, Role.LEADER})),
    ("info", _REPORTERS),
    ("infostats", _REPORTERS | _OFFICE | _CHIEF | frozenset({Role.INFO_EDITOR})),
    ("notice", frozenset({Role.DIRECTOR, Role.DUTY, Role.UNIT_HEAD})),
    ("meeting", frozenset({Role.DIRECTOR, Role.DUTY, Role.UNIT_HEAD})),
    ("notices", frozenset({Role.DIRECTOR, Role.DUTY, Role.UNIT_HEAD})),
    ("bindgroup", frozenset({Role.ADMIN, Role.UNIT_HEAD})),
    ("duty", _ALL),
    ("log", frozenset({Role.DUTY, Role.DIRECTOR})),
    ("doc", frozenset({Role.DUTY, Role.DIRECTOR})),
    ("docs", _OFFICE),
    ("stats", _OFFICE),
    ("export", _OFFICE),
    ("breaches", _OFFICE),
    ("members", frozenset({Role.ADMIN})),
    ("phone", frozenset({Role.ADMIN})),
    ("invite", frozenset({Role.ADMIN})),
    ("role", frozenset({Role.ADMIN})),
    ("deactivate", frozenset({Role.ADMIN})),
    ("reactivate", frozenset({Role.ADMIN})),
    ("start", _ALL),
    ("help", _ALL),
    ("cancel", _ALL),
]


def commands_for(member: Member) -> list[str]:
    return [name for name, roles in COMMANDS if member.roles & roles]
