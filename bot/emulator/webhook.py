"""Push delivery of updates to the bot's webhook URL.

Like Telegram, up to ``max_connections`` deliveries run concurrently, an update stays
pending until the bot answers 2xx, and failed deliveries are retried.  Unlike Telegram, the
emulator keeps updates of one chat strictly ordered (at most one in flight per chat), which
keeps conversations in tests deterministic without serialising unrelated chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from .emulator import BotApiEmulator, WebhookConfig

_SCAN_LIMIT = 256  # how deep to look for an update of a chat that is not busy


class WebhookDeliverer:
    def __init__(self, emu: BotApiEmulator, config: WebhookConfig) -> None:
        self.emu = emu
        self.config = config
        workers = max(1, config.max_connections)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=2.0),
            limits=httpx.Limits(max_connections=workers, max_keepalive_connections=workers),
        )
        self._wake = asyncio.Event()
        self._busy_chats: set[int] = set()
        self._inflight = 0
        self._failures = 0  # consecutive, drives the retry back-off
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(workers)]
        self._wake.set()

    @property
    def idle(self) -> bool:
        return self._inflight == 0

    @property
    def inflight(self) -> int:
        return self._inflight

    def kick(self) -> None:
        self._wake.set()

    def _take(self) -> tuple[int, str, int] | None:
        q = self.emu._updates
        busy = self._busy_chats
        for i in range(min(len(q), _SCAN_LIMIT)):
            item = q[i]
            if item[2] not in busy:
                del q[i]
                busy.add(item[2])
                self._inflight += 1
                return item
        return None

    async def _worker(self) -> None:
        emu = self.emu
        headers = {"Content-Type": "application/json"}
        if self.config.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.config.secret_token
        while True:
            item = self._take()
            if item is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            ok = False
            error = ""
            try:
                resp = await self._client.post(self.config.url, content=item[1].encode(), headers=headers)
                ok = 200 <= resp.status_code < 300
                if not ok:
                    error = f"Wrong response from the webhook: {resp.status_code} {resp.reason_phrase}"
            except asyncio.CancelledError:
                emu._updates.appendleft(item)  # never lose an update on deleteWebhook/stop
                self._release(item)
                # Whoever replaced us (a new setWebhook's deliverer, a long poll after deleteWebhook)
                # may be waiting already, having found the queue empty while this update was out.
                emu._wake_consumers()
                raise
            except httpx.HTTPError as exc:
                error = f"Connection failed: {type(exc).__name__}"
            if ok:
                emu.stats.webhook_deliveries += 1
                emu.stats.updates_confirmed += 1
                emu._touch()
                self._failures = 0
                self._release(item)
                continue
            emu.stats.webhook_failures += 1
            self.config.last_error_date = int(time.time())
            self.config.last_error_message = error
            self._failures += 1
            emu._updates.appendleft(item)
            self._release(item)
            # Short back-off: a restarted bot should get its backlog quickly.
            await asyncio.sleep(min(0.5, 0.02 * 2 ** min(self._failures, 5)))

    def _release(self, item: tuple[int, str, int]) -> None:
        self._busy_chats.discard(item[2])
        self._inflight -= 1
        self._wake.set()

    def close_nowait(self) -> None:
        for t in self._tasks:
            t.cancel()
        asyncio.get_running_loop().create_task(self._client.aclose())

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await self._client.aclose()
