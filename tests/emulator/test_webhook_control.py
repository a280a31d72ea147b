"""Webhook push delivery, the HTTP control API, wait_idle and the standalone runner."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import httpx
import pytest
from telegram.ext import Application

from bot.emulator import BotApiEmulator

from .conftest import RunningApp, add_demo_handlers, build_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode(emu: BotApiEmulator) -> None:
    app: Application = build_app(emu)
    add_demo_handlers(app)
    port = _free_port()
    try:
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="hook", secret_token="s3cr3t")
        assert emu.webhook is not None and emu.webhook.url == f"http://127.0.0.1:{port}/hook"
        async with httpx.AsyncClient() as client:
            r = await client.post(f"{emu.base_url}{emu.token}/getUpdates")
            assert r.status_code == 409 and "webhook is active" in r.json()["description"]

        ivy = emu.user(4001, "Ivy")
        await ivy.send_text("via webhook")
        assert (await ivy.wait_for("echo")).text == "echo: via webhook"
        await ivy.send_command("/start", "W")
        msg = await ivy.wait_for("欢迎")
        await ivy.press(msg, data="ok:1")
        await ivy.wait_for_answer()
        await emu.wait_idle()
        assert emu.stats.webhook_deliveries == 3
        # The emulator sent the secret header: PTB's webhook refuses a request without it (403),
        # and it took the three deliveries above.
        async with httpx.AsyncClient() as client:
            hook = f"http://127.0.0.1:{port}/hook"
            update = {"update_id": 999, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                                                    "text": "forged"}}
            assert (await client.post(hook, json=update)).status_code == 403
            assert (await client.post(hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
                    ).status_code == 403
        info = await app.bot.get_webhook_info()
        assert info.pending_update_count == 0
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_webhook_retries_until_bot_is_back(emu: BotApiEmulator) -> None:
    port = _free_port()
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{emu.base_url}{emu.token}/setWebhook", data={"url": f"http://127.0.0.1:{port}/", "secret_token": "x"}
        )
        assert r.json() == {"ok": True, "result": True}
    jim = emu.user(4002, "Jim")
    await jim.send_text("while the bot is down")
    # the first attempt can take a while on a loaded machine (flaked at a fixed 0.2 s)
    await emu.wait_until(lambda: emu.stats.webhook_failures, 5)
    assert emu.stats.webhook_failures >= 1 and emu.stats.webhook_deliveries == 0  # kept, retried

    app = build_app(emu)
    add_demo_handlers(app)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(listen="127.0.0.1", port=port, secret_token="x")
    try:
        await jim.wait_for("echo: while the bot is down", timeout=5)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_http_control_api(emu: BotApiEmulator, running_app: RunningApp) -> None:
    await running_app()
    base = emu.control_url
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{base}/send_text", json={"user_id": 4003, "first_name": "Kay", "text": "remote"})
        assert r.json()["ok"] and r.json()["result"]["text"] == "remote"
        r = await client.post(f"{base}/send_command", json={"user_id": 4003, "command": "/start", "arg": "Z"})
        assert r.json()["ok"]
        r = await client.post(f"{base}/wait_idle", json={"quiet": 0.05, "timeout": 5})
        assert r.json() == {"ok": True, "result": True}
        msgs = (await client.get(f"{base}/messages", params={"chat_id": 4003})).json()["result"]
        assert [m["text"] for m in msgs] == ["echo: remote", "欢迎 arg=Z"]
        mid = msgs[1]["message_id"]
        r = await client.post(f"{base}/press", json={"user_id": 4003, "message_id": mid, "data": "ok:1"})
        assert r.json()["result"]["data"] == "ok:1"
        r = await client.post(f"{base}/press", json={"user_id": 4003, "message_id": mid, "data": "missing"})
        assert r.status_code == 400 and "not found" in r.json()["error"]
        await client.post(f"{base}/wait_idle", json={})
        stats = (await client.get(f"{base}/stats")).json()["result"]
        assert stats["requests"]["answerCallbackQuery"] == 1 and stats["pending_updates"] == 0
        transcript = (await client.get(f"{base}/transcript")).text
        assert "Kay → bot: remote" in transcript


async def test_wait_idle_times_out_when_nobody_polls(emu: BotApiEmulator) -> None:
    lee = emu.user(4004, "Lee")
    await lee.send_text("anyone?")
    with pytest.raises(TimeoutError, match=r"1 update\(s\) not yet consumed[\s\S]*Lee → bot: anyone\?"):
        await emu.wait_idle(timeout=0.2)


async def test_standalone_runner() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.emulator", "--port", str(port), "--token", "42:ABC"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 10)
        assert f"http://127.0.0.1:{port}/bot" in line
        async with httpx.AsyncClient() as client:
            r = await client.get(f"http://127.0.0.1:{port}/bot42:ABC/getMe")
            assert r.json()["result"]["id"] == 42
    finally:
        proc.terminate()
        proc.wait(5)
