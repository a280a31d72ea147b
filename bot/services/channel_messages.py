"""What goes out on the robot and SMS channels about an incident, queued in the caller's transaction.

Texts come from the catalog (channels.toml) as plain text: robots take markdown, SMS takes short
Chinese text naming the incident and saying where to act; neither reads Telegram's HTML. Every typed
value (a TEXT_FIELDS placeholder: description, place, title, names …) enters a robot's markdown
through its kind's neutraliser (bot/domain/channels.py), so it can add no link, image, heading or
mention; a Telegram message mirrored to robots is escaped whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.config import Robot
from bot.domain import channels as rules
from bot.domain.incidents import Incident
from bot.domain.members import Member
from bot.i18n import TEXT_FIELDS, Html, plain
from bot.services import incident_text as txt
from bot.services.base import Services
from storage import channels
from storage.uow import Tx

REF = "incident"


def robots_for(s: Services, event: str, names: Iterable[str] = ("*",)) -> list[Robot]:
    """The configured robots named (or "*": every robot that mirrors `event`)."""
    wanted = set(names)
    return [r for r in s.config.robots if r.name in wanted or ("*" in wanted and event in r.events)]


def _typed(value: object) -> str:
    return plain(value) if isinstance(value, Html) else str(value)


def robot_text(s: Services, kind: str, key: str, **values: object) -> str:
    """A robot catalog text (markdown) for a robot of `kind`, each typed value neutralised for it."""
    return plain(s.texts(key, **{k: rules.neutralise(kind, _typed(v)) if k in TEXT_FIELDS else v
                                 for k, v in values.items()}))


def robot_title(s: Services, key: str, **values: object) -> str:
    """A robot message's title: plain text on every platform, so typed values only kept on one line."""
    return rules.one_line(plain(s.texts(key, **{k: rules.one_line(_typed(v)) if k in TEXT_FIELDS else v
                                                for k, v in values.items()})))


def from_html(kind: str, text: str) -> str:
    """A Telegram message as robot markdown: its text shown as is (every markdown special escaped,
    line by line), its tags dropped — Telegram's catalog texts mean no markdown."""
    return "\n".join(rules.neutralise(kind, line) for line in plain(text).splitlines())


@dataclass(frozen=True)
class RobotText:
    """A robot catalog text rendered for each robot's kind when it is queued."""
    key: str
    values: dict[str, object] = field(default_factory=dict)

    def render(self, s: Services, kind: str) -> str:
        return robot_text(s, kind, self.key, **self.values)


def robot_message(s: Services, inc: Incident, robot: Robot, headline: str = "") -> dict[str, str]:
    """The robot's markdown: number, unit, category, casualties, the next deadline; `full` adds place
    and description."""
    nxt = inc.next_deadline(s.now())
    lines = [robot_text(s, robot.kind, "channels.robot.summary", number=inc.number, unit=s.unit_name(inc.unit_code),
                        category=s.texts(f"incident.cat.{inc.category.value}"),
                        casualties=txt.casualties_text(s, inc.casualties),
                        deadline=s.fmt.dt(nxt.due_at) if nxt else "-")]
    if robot.detail == "full":
        lines.append(robot_text(s, robot.kind, "channels.robot.full", place=inc.place or "-",
                                description=inc.description))
    if headline:
        lines.insert(1, headline)
    lines.append(plain(s.texts("channels.robot.act")))
    return {"title": robot_title(s, "channels.robot.title", number=inc.number), "text": "\n\n".join(lines),
            "number": inc.number}


async def queue_robots(s: Services, tx: Tx, inc: Incident, robots: list[Robot], *, tag: str,
                       headline: str = "") -> int:
    """One message to each robot; a robot that has this (incident, tag) already is not sent it again."""
    queued = 0
    for robot in robots:
        queued += await channels.enqueue(tx.conn, channels.ROBOT, robot.name, robot_message(s, inc, robot, headline),
                                         tx.now, ref_kind=REF, ref_id=inc.id, tag=tag)
    if queued:
        tx.wrote_outbox = True  # wakes the senders at commit
    return queued


def sms_text(s: Services, inc: Incident, key: str, **kw: object) -> str:
    return plain(s.texts(f"channels.sms.{key}", number=inc.number, unit=s.unit_name(inc.unit_code),
                         category=s.texts(f"incident.cat.{inc.category.value}"), **kw))


async def queue_sms(s: Services, tx: Tx, inc: Incident, people: list[Member], text: str, *,
                    tag: str) -> tuple[list[Member], list[Member]]:
    """An SMS about an incident to each of `people` with a phone number (once per incident and tag)."""
    return await queue_sms_for(s, tx, people, text, ref_kind=REF, ref_id=inc.id, tag=tag, number=inc.number)


async def queue_sms_for(s: Services, tx: Tx, people: list[Member], text: str, *, ref_kind: str, ref_id: int,
                        tag: str, number: str = "") -> tuple[list[Member], list[Member]]:
    """An SMS to each of `people` with a phone number (once per thing and tag); (queued, without a phone)."""
    if not s.config.sms.url:
        return [], list(people)
    phones = await channels.phones(tx.conn, [m.id for m in people])
    queued, missing = [], []
    for m in people:
        if m.id not in phones:
            missing.append(m)
        elif await channels.enqueue(tx.conn, channels.SMS, channels.member_target(m.id), {"text": text,
                                    "number": number}, tx.now, member_id=m.id, ref_kind=ref_kind, ref_id=ref_id,
                                    tag=tag):
            queued.append(m)
    if queued:
        tx.wrote_outbox = True
    return queued, missing


async def mirror_alert(s: Services, tx: Tx, inc: Incident) -> int:
    """A new incident's alert to every robot that mirrors incident alerts."""
    return await queue_robots(s, tx, inc, robots_for(s, "incident"), tag="alert")


async def queue_text_robots(s: Services, tx: Tx, robots: list[Robot], title: str, text: str, *, ref_kind: str,
                            ref_id: int, tag: str) -> int:
    """A markdown message (plain text, no HTML) to each of `robots`, once per thing and tag."""
    queued = 0
    for robot in robots:
        queued += await channels.enqueue(tx.conn, channels.ROBOT, robot.name, {"title": title, "text": text}, tx.now,
                                         ref_kind=ref_kind, ref_id=ref_id, tag=tag)
    if queued:
        tx.wrote_outbox = True
    return queued


async def mirror(s: Services, tx: Tx, event: str, *, ref_kind: str, ref_id: int, tag: str, title: str,
                 summary: str | RobotText, full: str = "") -> int:
    """A Telegram message (HTML, or a robot catalog text) to the robots that mirror `event` (breach,
    notice, bulletin), the `full` one to robots set to detail = "full"; `title` is Telegram HTML, shown
    as plain text on one line."""
    queued = 0
    for robot in robots_for(s, event):
        if full and robot.detail == "full":
            text = from_html(robot.kind, full)
        else:
            text = summary.render(s, robot.kind) if isinstance(summary, RobotText) else from_html(robot.kind, summary)
        queued += await channels.enqueue(tx.conn, channels.ROBOT, robot.name,
                                         {"title": rules.one_line(plain(title)), "text": text},
                                         tx.now, ref_kind=ref_kind, ref_id=ref_id, tag=tag)
    if queued:
        tx.wrote_outbox = True
    return queued
