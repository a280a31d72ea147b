"""Optional upstream push: each incident stage POSTed as JSON, with retries and a recorded outcome."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from bot.config import Upstream
from bot.harness import Desk
from tests.e2e.flows import file_report


async def test_incident_stages_are_pushed_with_retries() -> None:
    calls: list[dict[str, object]] = []
    failures = {"left": 1}

    def handler(request: httpx.Request) -> httpx.Response:
        if failures["left"]:
            failures["left"] -= 1
            return httpx.Response(502)
        calls.append(json.loads(request.content))
        return httpx.Response(200, json={"ok": True})

    upstream = Upstream(webhook_url="http://upstream.invalid/hook", timeout=timedelta(seconds=2), retries=2)
    async with Desk(config_overrides={"upstream": upstream}) as desk:
        pusher = desk.runtime.deps.upstream  # type: ignore[union-attr]
        assert pusher is not None
        await pusher.client.aclose()
        pusher.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        officer = await desk.register("o", "李信息", "jianshelu", "officer")
        await desk.register("d", "刘主任", "office", "director")
        number = await file_report(desk, officer)
        # The POST lands before the pusher commits its outcome: wait for the row, not the call.
        async def outcome_committed() -> bool:
            rows = await desk.db.fetchall("SELECT status, attempts FROM upstream_pushes")
            return bool(rows) and rows[0]["status"] != "pending"

        await desk.until(outcome_committed)
        rows = await desk.db.fetchall("SELECT status, attempts FROM upstream_pushes")
        assert calls and calls[0]["number"] == number and calls[0]["event"] == "reported"
        assert calls[0]["casualties"] == {"deaths": 0, "injured": 0, "missing": 0}
        assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2)]
