"""Members' phone numbers, for SMS alerts: set by admins (chat /phone, CLI `dutydesk phone`), shown to
admins only, and never written in full to the audit trail or the log."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.channels import mask_phone, normalise_phone
from bot.domain.members import Action, Member, can
from bot.domain.parse import normalise
from bot.services.base import Services
from bot.services.errors import NotAllowed, ServiceError
from storage import channels, members

CLEAR = ("-", "无", "none")


@dataclass(frozen=True)
class PhoneSet:
    member: Member
    phone: str | None  # None: removed


async def set_phone(s: Services, actor: Member | None, member_id: int, text: str) -> PhoneSet:
    """`text` a phone number ("138 0000 1234"), or "-" to remove it. `actor` None: the CLI."""
    if actor is not None and not can(actor, Action.MANAGE_MEMBERS):
        raise NotAllowed()
    phone: str | None = None
    if normalise(text).lower() not in CLEAR:  # "－" (fullwidth) clears too
        try:
            phone = normalise_phone(text)
        except ValueError:
            raise ServiceError("channels.phone.bad") from None
    async with s.uow() as tx:
        target = await members.by_id(tx.conn, member_id)
        if target is None:
            raise ServiceError("channels.phone.not_found", id=member_id)
        await channels.set_phone(tx.conn, member_id, phone)
        await members.audit(tx.conn, tx.now, actor.id if actor else None, "phone",
                            f"#{member_id}: {mask_phone(phone) or '-'}")
    return PhoneSet(target, phone)


async def masked_phones(s: Services, member_ids: list[int]) -> dict[int, str]:
    return {k: mask_phone(v) for k, v in (await channels.phones(s.db.read, member_ids)).items()}
