"""Sends the channel outbox: group robots (DingTalk, WeCom, Feishu) and the SMS gateway, over httpx.

Like the Telegram outbox (bot/delivery.py): rows were committed with the event that caused them;
each is marked sent, retried (5xx, timeouts: backoff; "too many": after the platform's window) or
failed for good in its own statement right after the platform answers. Each robot and the gateway
is paced to its documented limit on the bot's clock, so a FakeClock drives it in tests too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from bot.config import ConfigError, Robot
from bot.domain import channels as rules
from bot.domain.members import Role
from bot.fmt import esc
from bot.services.base import Services
from bot.services.incidents import entitled
from storage import channels, incidents, members
from storage.channels import ChannelRow

log = logging.getLogger(__name__)

SMS_SECRET = "sms"  # the gateway's entry among the secrets
MAX_ATTEMPTS = 8
# The errors after which the request surely never reached the platform: only these may send again.
# A read timeout or a dropped answer comes after the gateway had the request (and may have sent the SMS).
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def read_secrets(config: Any, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each robot's signing secret and the gateway's, from the environment or a file (bot/secrets.py).
    A secret the config names but nobody set refuses the start: a robot would refuse every message."""
    from bot.secrets import FILE_SUFFIX, read_secret

    out: dict[str, str] = {}
    wanted = [(r.name, r.secret_env) for r in config.robots if r.secret_env]
    if config.sms.url and config.sms.secret_env:
        wanted.append((SMS_SECRET, config.sms.secret_env))
    for name, var in wanted:
        secret = read_secret(var, env)
        if secret is None:
            raise ConfigError("environment", var, f"is not set: put the secret of {name!r} in the environment "
                                                  f"(or in a file named by {var}{FILE_SUFFIX})")
        out[name] = secret.value
    return out


class ChannelSender:
    def __init__(self, services: Services, secrets: Mapping[str, str], *,
                 client: httpx.AsyncClient | None = None) -> None:
        self.s = services
        cfg = services.config
        self.robots: dict[str, Robot] = {r.name: r for r in cfg.robots}
        self.sms = cfg.sms
        self.secrets = dict(secrets)
        # A webhook's own credential (DingTalk access_token, WeCom key, Feishu hook id) is a secret too.
        self.url_tokens = [t for r in cfg.robots for t in rules.url_tokens(r.url)]
        self.client = client or httpx.AsyncClient(timeout=cfg.sms.timeout.total_seconds())
        self.pacers = {name: rules.Pacer(rules.LIMITS[r.kind]) for name, r in self.robots.items()}
        self.pacers[channels.SMS] = rules.Pacer(((cfg.sms.per_minute, 60.0),))
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._told: set[str] = set()  # robots whose refusal the admins were told of (once per run)
        self.sent = 0

    def now(self) -> float:
        return self.s.clock.now().timestamp()

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def tick(self) -> None:
        """The (fake) clock moved: rows waiting for their time or pace may go now."""
        self.wake()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="channel-sender")
        self.wake()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.client.aclose()

    @property
    def idle(self) -> bool:
        """The last pass found nothing ready to send (rows waiting for their time or pace may remain)."""
        return self._idle.is_set()

    async def wait_idle(self, timeout: float = 10) -> None:
        """Until nothing is ready to send (rows waiting for their time or pace may remain)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad row must not stop delivery
                log.exception("channel outbox pass failed")
                wait = 1.0
            if wait == 0.0:
                continue
            if not self._wake.is_set():
                self._idle.set()
            if wait is None:
                await self._wake.wait()
            else:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(wait, 0.005))
                except TimeoutError:
                    pass

    async def drain_once(self) -> float | None:
        """Send what is ready; seconds until more may be (0: look again now), None when nothing waits."""
        rows = await channels.pending(self.s.db.read)
        if not rows:
            return None
        now = self.now()
        waits = [r.not_before - now for r in rows if r.not_before > now]
        by_target: dict[str, list[ChannelRow]] = {}
        for r in rows:
            if r.not_before <= now:
                by_target.setdefault(self._pacer_key(r), []).append(r)
        results = await asyncio.gather(*(self._send_target(key, rs) for key, rs in by_target.items()))
        if any(sent for sent, _wait in results):
            return 0.0
        waits += [w for _sent, w in results if w is not None]
        return max(0.01, min(waits)) if waits else None

    def _pacer_key(self, row: ChannelRow) -> str:
        return row.target if row.channel == channels.ROBOT else channels.SMS

    async def _send_target(self, key: str, rows: list[ChannelRow]) -> tuple[bool, float | None]:
        """One robot's (or the gateway's) rows in order, at its pace; (sent any, seconds until the next may go)."""
        pacer = self.pacers.get(key)
        sent = False
        for row in rows:
            if await self._recipient_gone(row):
                continue
            if pacer is not None and (wait := pacer.wait(self.now())) > 0:
                return sent, wait
            if pacer is not None:
                pacer.take(self.now())
            done = await (self._send_robot(row) if row.channel == channels.ROBOT else self._send_sms(row))
            if not done:  # it waits now (retry, "too many"): the next pass reads when
                return sent, 0.001
            sent = True
        return sent, None

    async def _recipient_gone(self, row: ChannelRow) -> bool:
        """A message to a member, checked again when it would go (it may have waited on backoff or pace):
        one no longer active, or no longer entitled to the incident it names, is cancelled instead."""
        if row.member_id is None:
            return False
        conn = self.s.db.read
        member = await members.by_id(conn, row.member_id)
        reason = ""
        if member is None or not member.active:
            reason = "the recipient is no longer active"
        elif row.ref_kind == "incident":
            inc = await incidents.get(conn, row.ref_id)
            if inc is None or not entitled(inc, [member]):
                reason = "the recipient may no longer see this incident"
        if not reason:
            return False
        async with self.s.db.single() as single:
            await channels.mark_cancelled(single, row.id, f"{channels.CANCELLED} {reason}")
        log.info("channel message %s not sent: %s", row.id, reason)
        return True

    async def _retry(self, row: ChannelRow, error: str) -> bool:
        async with self.s.db.single() as conn:
            if row.attempts + 1 >= MAX_ATTEMPTS:
                await channels.mark_failed(conn, row.id, error)
            else:
                await channels.mark_retry(conn, row.id, self.now() + min(300.0, 2.0 * 2 ** row.attempts), error)
        return False

    def redact(self, text: str) -> str:
        """`text` (an answer, an error) without any configured secret: platforms may echo a key or a signature."""
        for secret in sorted(filter(None, [*self.secrets.values(), *self.url_tokens]), key=len, reverse=True):
            text = text.replace(secret, "<secret>")
        return text

    async def _later(self, row: ChannelRow, key: str, seconds: float, said: str) -> bool:
        """"Too many": the platform's window is full for `seconds`; not a failed try."""
        self.pacers[key].hold(self.now(), seconds)
        async with self.s.db.single() as conn:
            await channels.mark_retry(conn, row.id, self.now() + seconds, said, count=False)
        return False

    async def _done(self, row: ChannelRow) -> bool:
        async with self.s.db.single() as conn:
            await channels.mark_sent(conn, row.id, self.s.clock.now())
        self.sent += 1
        return True

    async def _failed(self, row: ChannelRow, error: str) -> bool:
        async with self.s.db.single() as conn:
            await channels.mark_failed(conn, row.id, error)
        return True

    async def _send_robot(self, row: ChannelRow) -> bool:
        robot = self.robots.get(row.target)
        if robot is None:  # removed from the config since the row was written
            return await self._failed(row, "no such robot in the config")
        req = rules.robot_request(robot.kind, str(row.payload.get("title", "")), str(row.payload["text"]),
                                  self.secrets.get(robot.name, ""), self.now())
        try:
            # Merged into the webhook's own query (its access_token): httpx's params= would replace it.
            resp = await self.client.post(httpx.URL(robot.url).copy_merge_params(req.params), json=req.body)
        except httpx.HTTPError as exc:  # timeouts, refused connections: the platform may come back
            return await self._retry(row, self.redact(f"{type(exc).__name__}: {exc}"))
        try:
            answer: Any = resp.json()
        except ValueError:
            answer = None
        outcome, said = rules.robot_outcome(robot.kind, resp.status_code, answer)
        said = self.redact(said)
        if outcome == "ok":
            return await self._done(row)
        if outcome == "later":  # too many: the window is full for a minute (or what Retry-After says)
            return await self._later(row, robot.name, rules.retry_after(resp.headers.get("Retry-After")), said)
        if outcome == "retry":
            return await self._retry(row, said)
        # A refusal that will not change by retrying: a wrong key or secret, a deleted robot.
        log.error("robot %r (%s) refused message %s: %s — check its url and secret (%s)", robot.name, robot.kind,
                  row.id, said, robot.secret_env or "no secret configured")
        await self._failed(row, said)
        await self._tell_admins(robot, said)
        return True

    async def _tell_admins(self, robot: Robot, said: str) -> None:
        if robot.name in self._told:
            return
        self._told.add(robot.name)
        s = self.s
        async with s.uow() as tx:
            admins = await members.with_roles(tx.conn, [Role.ADMIN])
            text = s.texts("channels.admin.robot_refused", robot=esc(robot.name), kind=robot.kind, error=esc(said),
                           secret=esc(robot.secret_env or "-"))
            if admins:
                await tx.send_text_all([m.telegram_id for m in admins], text)

    async def _send_sms(self, row: ChannelRow) -> bool:
        sms = self.sms
        if not sms.url or row.member_id is None:
            return await self._failed(row, "no SMS gateway configured")
        phone = (await channels.phones(self.s.db.read, [row.member_id])).get(row.member_id)
        if not phone:
            return await self._failed(row, "no phone number")
        values = {"phone": phone, "text": str(row.payload["text"]), "number": str(row.payload.get("number", "")),
                  "secret": self.secrets.get(SMS_SECRET, "")}
        body = rules.render_body(sms.body, values)
        headers = rules.render_body(sms.headers, values)
        try:
            if sms.method == "GET":
                resp = await self.client.get(sms.url, params=body, headers=headers)
            elif sms.format == "form":
                resp = await self.client.post(sms.url, data=body, headers=headers)
            else:
                resp = await self.client.post(sms.url, json=body, headers=headers)
        except NOT_SENT as exc:  # the request never left: sending again cannot send twice
            return await self._retry(row, self.redact(f"{type(exc).__name__}: {exc}"))
        except httpx.HTTPError as exc:
            # Sent, but no (whole) answer: the gateway may have sent the SMS, and a second try
            # would text the person twice. Failed for good, and the admins told to check.
            said = self.redact(f"{type(exc).__name__}: {exc}").replace(phone, rules.mask_phone(phone))
            log.error("SMS %s to member %s (%s): no answer from the gateway after sending (%s); not sent again",
                      row.id, row.member_id, rules.mask_phone(phone), said)
            await self._failed(row, f"no answer after sending, not sent again: {said}")
            await self._tell_admins_sms(row, phone, said)
            return True
        try:
            answer: Any = resp.json()
        except ValueError:
            answer = None
        if rules.sms_succeeded(resp.status_code, answer, sms.success_field, sms.success_value):
            return await self._done(row)
        said = self.redact(f"HTTP {resp.status_code}: {resp.text[:200]}").replace(phone, rules.mask_phone(phone))
        if resp.status_code == 429:  # too many: held like a robot's, not a failed try
            return await self._later(row, channels.SMS, rules.retry_after(resp.headers.get("Retry-After")), said)
        if resp.status_code >= 500:
            return await self._retry(row, said)
        log.error("SMS %s to member %s (%s) refused by the gateway: %s", row.id, row.member_id,
                  rules.mask_phone(phone), said)
        return await self._failed(row, said)

    async def _tell_admins_sms(self, row: ChannelRow, phone: str, said: str) -> None:
        s = self.s
        async with s.uow() as tx:
            admins = await members.with_roles(tx.conn, [Role.ADMIN])
            who = await members.by_id(tx.conn, row.member_id) if row.member_id is not None else None
            text = s.texts("channels.admin.sms_unsure", name=who.name if who else "?", phone=rules.mask_phone(phone),
                           number=str(row.payload.get("number") or "-"), error=said)
            if admins:
                await tx.send_text_all([m.telegram_id for m in admins], text)
