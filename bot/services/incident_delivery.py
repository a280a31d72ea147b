"""/incident N, for the office: per person and channel, when the alert went and whether it was taken,
and who acknowledged when."""

from __future__ import annotations

from datetime import datetime

from bot.domain.incidents import Incident
from bot.fmt import esc
from bot.services.base import Services
from storage import channels, members

ALERT_TAGS = ("alert", "escalation")


def _status(s: Services, status: str, at: datetime | None) -> str:
    if status == "sent":
        return s.texts("channels.tg.status_sent", time=s.fmt.dt(at))
    return s.texts(f"channels.tg.status_{status if status in ('failed', 'cancelled') else 'pending'}")


async def delivery_block(s: Services, inc: Incident) -> str:
    conn = s.db.read
    tg = await channels.telegram_deliveries(conn, "incident", inc.id, ALERT_TAGS)
    other = await channels.for_ref(conn, "incident", inc.id)
    if not tg and not other:
        return ""
    people = {m.telegram_id: m for m in await members.by_telegram_ids(conn, list({c for c, _st, _at in tg}))}
    lines: dict[tuple[str, str], str] = {}  # (who, channel) → the first message's status: when it reached them
    for chat_id, status, at in tg:
        who = people[chat_id].name if chat_id in people else str(chat_id)
        lines.setdefault((who, "tg"), _status(s, status, at))
    by_id = {}
    for member_id in {r.member_id for r in other if r.member_id is not None}:
        if (m := await members.by_id(conn, member_id)) is not None:
            by_id[member_id] = m
    for r in other:
        who = by_id[r.member_id].name if r.member_id in by_id else r.target
        lines.setdefault((who, "sms" if r.channel == channels.SMS else "robot"), _status(s, r.status, r.sent_at))
    out = [s.texts("channels.tg.delivery_title")]
    if inc.acked_by is not None:
        acker = await members.by_id(conn, inc.acked_by)
        out.append(s.texts("channels.tg.acked", name=esc(acker.name if acker else "?"), time=s.fmt.dt(inc.acked_at)))
    out += [s.texts("channels.tg.delivery_line", name=esc(who), channel=s.texts(f"channels.tg.channel_{ch}"),
                    status=status) for (who, ch), status in lines.items()]
    return "\n".join(out)
