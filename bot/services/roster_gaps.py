"""An alert found nobody rostered on shift: the admins hear of that duty day once.

Alert routing runs inside other features' transactions with only a connection, so the
notice is written to the outbox right there (it leaves with the alert it accompanies),
worded in the configured language and dated by the duty day, both taken from the
`roster_meta` row that start-up writes (`remember_config`).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import roster as rules
from bot.domain.members import Role
from bot.fmt import Fmt
from bot.i18n import Texts
from bot.services.base import Services
from bot.services.roster import day_label
from storage import members, outbox, roster
from storage.conn import Conn


async def remember_config(s: Services) -> None:
    r = s.config.roster
    async with s.uow() as tx:
        await roster.set_meta(tx.conn, {"lang": s.texts.lang, "tz": s.config.general.timezone,
                                        "day_start": r.shifts[0].start})


async def note(conn: Conn, at: datetime) -> None:
    meta = await roster.meta(conn)
    tz = ZoneInfo(meta.get("tz", "Asia/Shanghai"))
    day_rules = rules.rules_from(tz, [("day", "", meta.get("day_start", "00:00"), "23:59")], ["1"])
    day = rules.duty_day(at, day_rules)
    if not await roster.note_gap(conn, day, at):
        return
    t = Texts(meta.get("lang", "zh"))
    text = t("roster.gap", day=day_label(t, Fmt(t, tz, lambda: at), day))
    admins = [m.telegram_id for m in await members.with_roles(conn, [Role.ADMIN])]
    await outbox.enqueue_many(conn, admins, method=outbox.SEND_MESSAGE, payload={"text": text, "parse_mode": "HTML"},
                              now=at, ref_kind="roster", ref_id=0, tag="gap")
    await roster.mark_told(conn, day, at)
