"""A standby's webhook port (issue 28): while another instance is active, answer every request with
503 and Retry-After: 1, so that Telegram keeps an update and tries again — by then, perhaps, at the
instance that has taken over. Closed just before PTB's own webhook server binds the port."""

from __future__ import annotations

from aiohttp import web


async def _busy(_request: web.Request) -> web.Response:
    return web.Response(status=503, headers={"Retry-After": "1"}, text="standby")


async def open_busy(listen: str, port: int) -> web.AppRunner:
    """Listening on `listen:port`; OSError when it cannot (the port taken, the address not this machine's)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _busy)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, listen, port).start()
    except OSError:
        await runner.cleanup()
        raise
    return runner
