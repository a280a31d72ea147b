"""Optional push of incidents to an upstream system ([upstream] webhook_url), as JSON.

Rows in `upstream_pushes` are written with the incident change; this worker POSTs
them with a timeout and retries with backoff, recording each outcome.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from bot.services.base import Services
from storage import incidents, upstream_pushes
from storage.db import to_db

log = logging.getLogger(__name__)


def incident_payload(inc: Any, event: str) -> dict[str, Any]:
    c = inc.casualties
    return {
        "event": event, "number": inc.number, "unit": inc.unit_code, "category": inc.category.value,
        "occurred_at": to_db(inc.occurred_at), "learnt_at": to_db(inc.learnt_at), "place": inc.place,
        "latitude": inc.latitude, "longitude": inc.longitude,
        "casualties": {"deaths": c.deaths, "injured": c.injured, "missing": c.missing},
        "description": inc.description, "status": inc.status, "full": inc.full,
        "forwarded_at": to_db(inc.forwarded_at), "closed_at": to_db(inc.closed_at), "outcome": inc.outcome,
    }


class UpstreamPusher:
    def __init__(self, services: Services, client: httpx.AsyncClient | None = None) -> None:
        self.s = services
        cfg = services.config.upstream
        self.url = cfg.webhook_url
        self.retries = cfg.retries
        self.client = client or httpx.AsyncClient(timeout=cfg.timeout.total_seconds())
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="upstream-pusher")
        self._wake.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.client.aclose()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.push_pending()
            except Exception:
                log.exception("upstream pass failed")

    async def push_pending(self) -> int:
        db = self.s.db
        done = 0
        for push in await upstream_pushes.pending(db.read):
            inc = await incidents.get(db.read, push.incident_id)
            if inc is None:
                continue
            ok, error, attempts = await self._push(incident_payload(inc, push.event))
            async with db.tx() as conn:
                await upstream_pushes.record(conn, push.id, ok, attempts, error, self.s.now())
            done += ok
        return done

    async def _push(self, payload: dict[str, Any]) -> tuple[bool, str | None, int]:
        error: str | None = None
        for attempt in range(1, self.retries + 2):
            try:
                resp = await self.client.post(self.url, json=payload)
                if resp.status_code < 300:
                    return True, None, attempt
                error = f"HTTP {resp.status_code}"
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            await asyncio.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)))
        return False, error, self.retries + 1
