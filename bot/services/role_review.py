"""After the unit chief role split (migration 0013): the admins are shown, once, the members
registered as a street's or bureau's office head (`unit_head`), any of whom may in fact be the
unit's chief (`unit_chief`), with the one command that re-roles them. Nothing is changed for them.

Runs at start-up (listed with the recurring modules); a list with no admin registered yet waits
for the next start."""

from __future__ import annotations

from bot.domain.members import Role
from bot.fmt import esc
from bot.services.base import Services
from storage import members


async def ensure_recurring(s: Services) -> None:
    async with s.uow() as tx:
        listed = await members.review_untold(tx.conn)
        found = [(m, why) for m, why in listed if m.active and m.has(Role.UNIT_HEAD)]
        admins = await members.with_roles(tx.conn, [Role.ADMIN])
        if not admins:
            return
        await members.review_told(tx.conn, [m.id for m, _ in listed], tx.now)
        if not found:
            return
        lines = [s.texts("core.admin.review_line", id=m.id, name=esc(m.name), unit=esc(s.unit_name(m.unit_code)))
                 for m, _why in found]
        text = s.texts("core.admin.review", count=len(found), members="\n".join(lines), example=found[0][0].id)
        await tx.send_text_all([a.telegram_id for a in admins], text, ref_kind="members", ref_id=0, tag="review")
