"""The chaos run's bot process (kill -9 and restart) and its watch on retries after a 429."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bot.emulator import BotApiEmulator

TOKEN = "777001:CHAOS-token-never-in-logs"


class BotProcess:
    """`dutydesk run` as a child process; kill -9 and restart."""

    def __init__(self, config: Path, emu: BotApiEmulator, log_path: Path) -> None:
        self.config, self.emu, self.log_path = config, emu, log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.up = asyncio.Event()
        self.epoch = 0  # +1 at every kill

    async def start(self) -> None:
        env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN)
        polls = self.emu.stats.requests.get("getUpdates", 0)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--config", str(self.config), "run"],
                                         env=env, stdout=log, stderr=log)
        for _ in range(600):
            if self.emu.stats.requests.get("getUpdates", 0) > polls:
                self.up.set()
                return
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError("bot did not start polling; see " + str(self.log_path))

    async def kill9(self) -> None:
        assert self.proc is not None
        self.up.clear()
        self.epoch += 1
        self.proc.send_signal(signal.SIGKILL)
        while self.proc.poll() is None:
            await asyncio.sleep(0.01)

    async def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        for _ in range(600):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.05)
        self.proc.kill()
        return -9


class RetryWatch:
    """Counts retries of a request refused with 429 that came before its retry_after.

    A retry is the same send again: same chat, method and text (or message edited). Other sends
    to that chat in the meantime are not retries (Telegram would answer them with 429 too, which
    the bot then handles in turn).
    """

    def __init__(self, emu: BotApiEmulator) -> None:
        from bot.emulator.limits import is_sending_method

        self.blocked_until: dict[tuple[object, ...], float] = {}
        self.violations = 0
        self.retried_429 = 0
        server = emu._server
        assert server is not None
        inject, run = server._inject, server._run

        def key(method: str, params: dict[str, Any]) -> tuple[object, ...]:
            text = params.get("text") or params.get("caption")
            return (params.get("chat_id"), method, text, params.get("message_id"))

        def watched_inject(fault: str, method: str, params: dict[str, Any]) -> Any:
            if is_sending_method(method):
                self._arrive(key(method, params))
                if fault == "429":
                    ra = emu.faults.retry_after if emu.faults is not None else 1
                    self.blocked_until[key(method, params)] = time.monotonic() + ra
            return inject(fault, method, params)

        def watched_run(name: str, impl: Any, params: dict[str, Any], files: Any) -> Any:
            if is_sending_method(name):
                self._arrive(key(name, params))
            return run(name, impl, params, files)

        server._inject = watched_inject  # type: ignore[method-assign]
        server._run = watched_run  # type: ignore[method-assign]

    def _arrive(self, k: tuple[object, ...]) -> None:
        until = self.blocked_until.pop(k, None)
        if until is None:
            return
        if time.monotonic() < until - 0.05:
            self.violations += 1
        else:
            self.retried_429 += 1
