"""When Telegram fails: a person it cannot reach, or the Bot API down for a while.

- A permanent refusal for one person (403 blocked, 400 chat not found) of an incident's alert or
  escalation moves that alert to their next channel at once — SMS when they have a phone number,
  else the robot groups — and tells the admins the person cannot be reached on Telegram.
- The Bot API failing without a success for `[escalation] failover_after` (consecutive failures, on
  the bot's clock): the alerts still waiting in the Telegram outbox go out by robot and SMS now,
  and the admins are told there. The Telegram rows stay queued and go once it answers again; the
  channel outbox's unique key keeps every robot and SMS message to one per channel.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from bot.channels.sender import ChannelSender
from bot.config import Robot
from bot.domain.members import Role
from bot.fmt import esc
from bot.i18n import plain
from bot.services import channel_messages as chan
from bot.services.base import Services
from bot.services.incidents import entitled
from storage import channels, incidents, members, outbox
from storage.outbox import OutboxRow

log = logging.getLogger(__name__)

ALERT_TAGS = ("alert", "escalation")  # the incident messages that must reach a person
TAG = "failover"


def _robots(s: Services) -> list[Robot]:
    """The robots an alert fails over to: those that do not carry every incident alert already."""
    return [r for r in chan.robots_for(s, "failover") if "incident" not in r.events]


class Failover:
    def __init__(self, services: Services, channel_sender: ChannelSender | None) -> None:
        self.s = services
        self.channels = channel_sender
        self.failing_since: datetime | None = None  # the first of the failures since the last success
        self.failed_over = False
        self.outages = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._scan = asyncio.Lock()
        self._again = False
        self._covered: set[tuple[int, int]] = set()  # (incident, chat) whose alert went another way in this outage

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro, name="failover")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_sent(self, _row: OutboxRow, _result: object) -> None:
        if self.failing_since is not None:
            log.info("the Bot API answers again: sending resumes on Telegram")
        self.failing_since = None
        self.failed_over = False
        self._covered.clear()

    def on_commit(self) -> None:
        """Messages were committed: while failed over, new alerts go the other way now — in Telegram's queue
        they would wait behind the rows retrying for the same chats, and no failure would tell us."""
        if self.failed_over:
            self._spawn(self.tick())

    def on_failed(self, row: OutboxRow, error: str, permanent: bool) -> None:
        if permanent:
            if row.ref_kind == "incident" and row.tag in ALERT_TAGS and row.method == outbox.SEND_MESSAGE:
                self._spawn(self._person(row, error))
            return
        if self.failing_since is None:
            self.failing_since = self.s.now()
            self._spawn(self._check_when_due())
        self._spawn(self.tick())

    async def _check_when_due(self) -> None:
        """On the system clock, look again the moment the wait is over, not at the next retry's failure
        (a FakeClock moves by `tick`, which bot/app.py calls on every move)."""
        await asyncio.sleep(self.s.config.escalation.failover_after.total_seconds() + 0.01)
        await self.tick()

    async def tick(self) -> None:
        """Failing for long enough: the alerts in flight go by robot and SMS (again for any queued since)."""
        since = self.failing_since
        if since is None or self.s.now() - since < self.s.config.escalation.failover_after:
            return
        first = not self.failed_over
        self.failed_over = True
        if self._scan.locked():
            self._again = True  # a scan is under way: it looks once more when done, for rows queued since
            return
        async with self._scan:
            again = True
            while again:
                self._again = False
                try:
                    await self._outage(since, first)
                except Exception:
                    log.exception("failover pass failed")
                first, again = False, self._again

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _person(self, row: OutboxRow, error: str) -> None:
        s = self.s
        try:
            async with s.uow() as tx:
                member = await members.by_telegram_id(tx.conn, row.chat_id)
                inc = await incidents.get(tx.conn, row.ref_id or 0)
                if member is None or inc is None or not entitled(inc, [member]):
                    return  # deactivated or moved unit since it was queued: the incident is no longer theirs
                queued, missing = await chan.queue_sms(s, tx, inc, [member], chan.sms_text(s, inc, "failover"),
                                                       tag=TAG)
                if not queued and member.id not in {m.id for m in missing}:
                    return  # an earlier failure (an earlier step) moved this alert already: nobody is told twice
                if not queued:  # no phone: the robot groups are the person's next channel
                    await chan.queue_robots(s, tx, inc, _robots(s), tag=TAG,
                                            headline=plain(s.texts("channels.robot.failover")))
                await incidents.add_event(tx.conn, inc.id, tx.now, None, "failover_sms", name=member.name,
                                          error=error)
                key = "channels.admin.unreachable" if queued else "channels.admin.unreachable_no_phone"
                admins = [m for m in await members.with_roles(tx.conn, [Role.ADMIN]) if m.id != member.id]
                if admins:
                    await tx.send_text_all([m.telegram_id for m in admins],
                                           s.texts(key, name=esc(member.name), error=esc(error), number=inc.number))
        except Exception:
            log.exception("failover for outbox row %s failed", row.id)

    async def _outage(self, since: datetime, first: bool) -> None:
        """Every alert still waiting for Telegram, by SMS to its recipients and to the robot groups."""
        s = self.s
        rows = [r for r in await outbox.pending(s.db.read, 5000)
                if r.ref_kind == "incident" and r.tag in ALERT_TAGS and r.method == outbox.SEND_MESSAGE
                and (r.ref_id or 0, r.chat_id) not in self._covered]
        by_incident: dict[int, list[int]] = {}
        for r in rows:
            by_incident.setdefault(r.ref_id or 0, []).append(r.chat_id)
        elapsed = s.fmt.dur(timedelta(seconds=round((s.now() - since).total_seconds())))
        if first:
            self.outages += 1
            log.warning("the Bot API has failed for %d s: alerts in flight go by robot and SMS",
                        round((s.now() - since).total_seconds()))
        async with s.uow() as tx:
            if first:  # the admins, by the channels that work
                key = int(since.timestamp())
                text = plain(s.texts("channels.robot.outage", elapsed=elapsed))
                for robot in chan.robots_for(s, "failover"):
                    await channels.enqueue(tx.conn, channels.ROBOT, robot.name,
                                           {"title": plain(s.texts("channels.robot.outage_title")), "text": text},
                                           tx.now, ref_kind="outage", ref_id=key, tag=TAG)
                if s.config.sms.url:
                    admins = await members.with_roles(tx.conn, [Role.ADMIN])
                    for member_id in await channels.phones(tx.conn, [m.id for m in admins]):
                        await channels.enqueue(tx.conn, channels.SMS, channels.member_target(member_id),
                                               {"text": plain(s.texts("channels.sms.outage", elapsed=elapsed))},
                                               tx.now, member_id=member_id, ref_kind="outage", ref_id=key, tag=TAG)
                tx.wrote_outbox = True
            for incident_id, chats in by_incident.items():
                inc = await incidents.get(tx.conn, incident_id)
                if inc is None or inc.acked_by is not None:
                    continue
                people = entitled(inc, await members.by_telegram_ids(tx.conn, chats))
                if not people:
                    continue  # those it waits for were deactivated or moved unit: the alert is no longer in flight
                queued, _ = await chan.queue_sms(s, tx, inc, people, chan.sms_text(s, inc, "failover"), tag=TAG)
                posted = await chan.queue_robots(s, tx, inc, _robots(s), tag=TAG,
                                                 headline=plain(s.texts("channels.robot.failover")))
                if queued or posted:
                    await incidents.add_event(tx.conn, inc.id, tx.now, None, "failover_outage",
                                              seconds=int((tx.now - since).total_seconds()))
        # Committed: once per outage, the next scans look at rows queued since only.
        self._covered |= {(r.ref_id or 0, r.chat_id) for r in rows}
