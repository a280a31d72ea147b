"""Secrets and privacy: the token stays out of logs, webhooks need the secret header,
incident details stay out of groups, the database is owner-only."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.emulator import BotApiEmulator
from bot.harness import Desk
from storage.db import Database
from tests.conftest import Cast
from tests.e2e.flows import file_report
from tests.e2e.test_crash_resume import write_config
from tests.waiting import ended

TOKEN = "5550001:SECRET-part-of-the-token-xyz"
SECRET_PART = TOKEN.split(":", 1)[1]


def _retries(log: Path) -> int:
    """How often `dutydesk run` said it could not reach Telegram and would try again."""
    text = log.read_text("utf-8", "replace") if log.exists() else ""
    return text.count("无法连接 Telegram 服务器") + text.count("Cannot reach the Telegram server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _run(config: Path, token: str, *extra: str, until: object = None, seconds: float = 15,
               env: dict[str, str] | None = None) -> tuple[int | None, str]:
    """Run `dutydesk run` for a while (or until it exits / `until()` is true); return its exit code and output."""
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=token, **(env or {}))
    log = config.parent / "run.log"  # a file, not a pipe: verbose logging would fill a pipe and block
    with open(log, "wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--config", str(config), "run", *extra],
                                env=env, stdout=sink, stderr=subprocess.STDOUT)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end and proc.poll() is None:
        if until is not None and until():  # type: ignore[operator]
            break
        await ended(proc, 0.05)  # its exit, or a look at `until` again
    code = proc.poll()
    if code is None:
        proc.send_signal(signal.SIGTERM)
        if not await ended(proc, 20):
            proc.kill()
    return code, log.read_text("utf-8", "replace")


async def test_rejected_token_is_not_printed(tmp_path: Path) -> None:
    """The server refuses the token (401): a clear message, the exit code 2, no token anywhere."""
    async with BotApiEmulator(token="999:the-right-one") as emu:
        config = write_config(tmp_path, emu)
        code, out = await _run(config, TOKEN, "--verbose")
    assert code == 2, out[-2000:]
    assert "token" in out.lower() or "令牌" in out
    assert SECRET_PART not in out, out[-2000:]


async def test_token_not_logged_while_the_api_fails(tmp_path: Path) -> None:
    """500s, 502s, dropped connections and 429s on the bot's calls for a while, in verbose mode."""
    async with BotApiEmulator(token=TOKEN) as emu:
        config = write_config(tmp_path, emu)
        user = emu.user(4242, "某人")

        def provoke() -> bool:
            if emu.stats.requests.get("getUpdates", 0) and not provoke.armed:  # type: ignore[attr-defined]
                provoke.armed = True  # type: ignore[attr-defined]
                # Once each: every fault on getUpdates lengthens PTB's polling back-off (1, 1.5, 2.25 s…).
                for kind in ("500", "drop", "502", "429"):
                    emu.fail_next(kind, count=1, methods={"getUpdates", "sendMessage"})
                asyncio.get_running_loop().create_task(user.send_text("你好"))
            return emu.stats.faults_injected >= 4  # all four forced faults were met

        provoke.armed = False  # type: ignore[attr-defined]
        code, out = await _run(config, TOKEN, "--verbose", until=provoke, seconds=60)
        assert emu.stats.faults_injected >= 4, out[-1500:]
    assert code is None, out[-2000:]  # it rode out the failures and was stopped by us
    assert SECRET_PART not in out, [line for line in out.splitlines() if SECRET_PART in line][:3]
    assert "ERROR" in out or "WARNING" in out  # the failures were logged, without the token


async def test_token_not_logged_when_the_api_is_unreachable(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN) as emu:
        config = write_config(tmp_path, emu)
    # The emulator is gone: every call is refused at the socket. Until it has said so twice (its
    # retries 1 s and 2 s apart), with what it logs along the way.
    log = config.parent / "run.log"
    code, out = await _run(config, TOKEN, "--verbose", seconds=30,
                           until=lambda: _retries(log) >= 2)
    assert _retries(log) >= 2, out[-2000:]
    assert SECRET_PART not in out, out[-2000:]


@pytest.mark.parametrize("source", ["environment", "file", "command line"])
async def test_webhook_rejects_updates_without_the_secret_header(tmp_path: Path, source: str) -> None:
    """The secret from DUTYDESK_WEBHOOK_SECRET, --webhook-secret-file or (warned: `ps` shows it)
    --webhook-secret reaches setWebhook and guards the endpoint; it is never printed."""
    port = _free_port()
    secret = "s3cret-Header_value"
    secret_file = tmp_path / "webhook.secret"
    secret_file.write_text(secret + "\n", encoding="utf-8")
    secret_file.chmod(0o600)
    given: tuple[str, ...] = {"environment": (), "file": ("--webhook-secret-file", str(secret_file)),
                              "command line": ("--webhook-secret", secret)}[source]
    env = {"DUTYDESK_WEBHOOK_SECRET": secret} if source == "environment" else {}
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 4242, "type": "private"},
                                          "from": {"id": 4242, "is_bot": False, "first_name": "X"}, "text": "/help",
                                          "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
    async with BotApiEmulator(token=TOKEN) as emu:
        config = write_config(tmp_path, emu)
        emu.user(4242, "X", started=True)
        url = f"http://127.0.0.1:{port}/telegram"
        results: dict[str, int] = {}

        async def probe() -> None:
            # The bot has registered its webhook (with the secret) and its server answers.
            await emu.wait_until(lambda: emu.webhook is not None, 30)
            async with httpx.AsyncClient(timeout=5) as client:
                for _ in range(200):
                    try:
                        await client.get(f"http://127.0.0.1:{port}/")
                        break
                    except httpx.TransportError:
                        await emu.wait_moved(emu.activity, 0.05)
                body = json.dumps(update)
                headers = {"content-type": "application/json"}
                results["none"] = (await client.post(url, content=body, headers=headers)).status_code
                results["wrong"] = (await client.post(url, content=body, headers={
                    **headers, "X-Telegram-Bot-Api-Secret-Token": "guess"})).status_code
                results["right"] = (await client.post(url, content=body, headers={
                    **headers, "X-Telegram-Bot-Api-Secret-Token": secret})).status_code

        task = asyncio.create_task(probe())
        code, out = await _run(config, TOKEN, "--webhook-url", f"http://127.0.0.1:{port}", *given,
                               "--listen", "127.0.0.1", "--port", str(port), env=env,
                               until=lambda: task.done() and emu.sent_to(4242) > 0, seconds=30)
        await task
        assert emu.webhook is None or emu.webhook.secret_token == secret
        answered = emu.sent_to(4242)
    assert results == {"none": 403, "wrong": 403, "right": 200}, (results, out[-1500:])
    assert answered == 1  # only the update with the right header was handled
    assert secret not in out and SECRET_PART not in out
    warned = "DUTYDESK_WEBHOOK_SECRET" in out and "ps" in out
    assert warned == (source == "command line"), out[-1500:]
    started = [line for line in out.splitlines() if "值班台已启动" in line]
    assert len(started) == 1 and f"http://127.0.0.1:{port}/telegram" in started[0], out[-1500:]


async def test_webhook_mode_requires_a_secret(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN) as emu:
        config = write_config(tmp_path, emu)
        code, out = await _run(config, TOKEN, "--webhook-url", "https://example.invalid", seconds=10)
    assert code == 2 and "--webhook-secret" in out


async def test_incident_details_never_reach_a_group(desk: Desk, cast: Cast) -> None:
    group = desk.emu.group(-1001234567890, "建设路街道工作群", [cast.officer, cast.head, cast.duty])
    desk.emu.set_bot_admin(group.id)
    await cast.officer.send_command("/report", chat=group, mention=True)
    await desk.settle()
    description = "机密：化工厂泄漏 <详情>"
    number = await file_report(desk, cast.officer, description=description, place="建设路 88 号", gps=False)
    await desk.advance(hours=30)  # every reminder, overdue and follow-up message comes due
    texts = [m.text or "" for m in desk.emu.messages(group.id)]
    for t in texts:
        assert number not in t and "化工厂" not in t and "建设路 88" not in t, t
    # the /report typed in the group was answered (privately or with a pointer), never with a dialogue
    assert not any("类别" in t for t in texts)


async def test_database_and_its_side_files_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = await Database(tmp_path / "sub" / "desk.sqlite3").open()
        async with db.tx() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS t(x)")
            await conn.execute("INSERT INTO t VALUES (1)")
        await db.backup(tmp_path / "backup.sqlite3")
        files = [p for p in (tmp_path / "sub").iterdir()] + [tmp_path / "backup.sqlite3"]
        assert any(p.name.endswith("-wal") for p in files)
        for p in files:
            assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, f"{p.name}: {oct(p.stat().st_mode)}"
        await db.close()
    finally:
        os.umask(old)


async def test_existing_database_with_loose_permissions_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o644)
    db = await Database(path).open()
    await db.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
