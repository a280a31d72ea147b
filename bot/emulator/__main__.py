"""Run the emulator standalone: ``python -m bot.emulator --port 8081 --token 123456:TEST``.

A bot in another process points ``base_url`` at it; people are driven via /_control/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .emulator import BotApiEmulator
from .limits import FAULT_KINDS, Faults, RateLimits


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bot.emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--token", default="123456:TEST")
    p.add_argument("--bot-username", default="dutydesk_bot")
    p.add_argument("--rate-limits", action="store_true", help="enforce Telegram flood limits")
    p.add_argument("--fault-rate", type=float, default=0.0, help="probability of an injected fault")
    p.add_argument("--fault-kinds", default=",".join(FAULT_KINDS))
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    faults = (
        Faults(rate=args.fault_rate, kinds=tuple(args.fault_kinds.split(",")), seed=args.seed)
        if args.fault_rate > 0
        else None
    )
    emu = BotApiEmulator(
        token=args.token,
        bot_username=args.bot_username,
        rate_limits=RateLimits() if args.rate_limits else None,
        faults=faults,
    )
    await emu.start(args.host, args.port)
    print(f"Bot API emulator listening: base_url={emu.base_url} base_file_url={emu.base_file_url} "
          f"control={emu.control_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
