"""Invitations, registration and member administration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.invites import Invite, InviteProblem, invite_problem, new_invite_code
from bot.domain.members import Action, Member, Role, can, parse_role
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError
from storage import invites, members


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
        raise ServiceError("core.admin.invite_bad_unit", code=unit_code, units=", ".join(u.code for u in s.config.units))
    if parse_role(role) is None:
        raise ServiceError("core.admin.invite_bad_role", role=role, roles=", ".join(r.value for r in Role))
    now = s.now()
    invite = Invite(
        code=new_invite_code(), unit_code=unit_code, role=role, name=name, created_at=now,
        expires_at=now + (expires or s.config.invites.default_expiry),
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
        return fresh


# Commands and who may see them in /help and the command menu, in menu order.
# Feature modules add one line each.
_ALL = frozenset(Role)
_REPORTERS = frozenset({Role.OFFICER, Role.UNIT_HEAD})
_OFFICE = frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER})
COMMANDS: list[tuple[str, frozenset[Role]]] = [
    ("report", _REPORTERS),
    ("record", frozenset({Role.DUTY, Role.DIRECTOR})),
    ("incidents", _REPORTERS | _OFFICE),
    ("incident", _REPORTERS | _OFFICE),
    ("leave", _ALL - {Role.ADMIN}),
    ("back", _ALL - {Role.ADMIN}),
    ("leave_history", _ALL - {Role.ADMIN}),
    ("leave_cancel", _ALL - {Role.ADMIN}),
    ("away", _OFFICE | {Role.UNIT_HEAD}),
    ("task", frozenset({Role.DIRECTOR, Role.LEADER, Role.OFFICER, Role.UNIT_HEAD})),
    ("tasks", frozenset({Role.DIRECTOR, Role.LEADER, Role.OFFICER, Role.UNIT_HEAD})),
    ("progress", _REPORTERS),
    ("bulletin", frozenset({Role.DIRECTOR, Role.LEADER})),
    ("info", _REPORTERS),
    ("infostats", _REPORTERS | _OFFICE | frozenset({Role.INFO_EDITOR})),
    ("notice", frozenset({Role.DIRECTOR, Role.DUTY, Role.UNIT_HEAD})),
    ("meeting", frozenset({Role.DIRECTOR, Role.DUTY, Role.UNIT_HEAD})),
    ("notices", frozenset({Role.DIRECTOR, Role.DUTY, Role.UNIT_HEAD})),
    ("bindgroup", frozenset({Role.ADMIN, Role.UNIT_HEAD})),
    ("duty", _ALL),
    ("stats", _OFFICE),
    ("export", _OFFICE),
    ("breaches", _OFFICE),
    ("members", frozenset({Role.ADMIN})),
    ("invite", frozenset({Role.ADMIN})),
    ("deactivate", frozenset({Role.ADMIN})),
    ("reactivate", frozenset({Role.ADMIN})),
    ("start", _ALL),
    ("help", _ALL),
    ("cancel", _ALL),
]


def commands_for(member: Member) -> list[str]:
    return [name for name, roles in COMMANDS if member.roles & roles]
