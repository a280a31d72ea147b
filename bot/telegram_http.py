"""How the bot reaches the Bot API over HTTP: python-telegram-bot's own `HTTPXRequest`, tuned.

One request object carries every call but getUpdates (PTB gives the long poll its own, so a
poll never waits for a free connection). Tuned for this bot: HTTP/1.1 (Telegram's API answers
it; HTTP/2 would add the h2 package and its CPU for no gain on short JSON calls), as many
kept-alive connections as updates handled at once, so no reply waits for another's connection.

Proxies: `[telegram] proxy` if set, else httpx reads HTTPS_PROXY / HTTP_PROXY / ALL_PROXY /
NO_PROXY from the environment (`trust_env`), the usual way out of a government network.
Certificates are checked against certifi's bundle (httpx's default); a refused certificate is
logged once here, in plain words, before PTB's NetworkError reaches the caller.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import httpx
from telegram.error import NetworkError
from telegram.request import BaseRequest, HTTPXRequest, RequestData

log = logging.getLogger(__name__)

# Generous read timeout: retrying a slow-but-delivered send would duplicate it.
TIMEOUTS = {"read_timeout": 30.0, "write_timeout": 30.0, "connect_timeout": 10.0, "pool_timeout": 30.0}
# How long an idle kept-alive connection is kept (httpx's default is 5 s: between two bursts of
# a quiet afternoon each call would open a new TLS connection to Telegram).
KEEPALIVE_S = 60.0


class DeskRequest(HTTPXRequest):
    """`HTTPXRequest` with a kept-alive pool, the proxy from config or environment, and a clear
    log line when Telegram's certificate (or a proxy's) is refused."""

    def __init__(self, connections: int, *, proxy: str = "", verify: ssl.SSLContext | bool = True,
                 **timeouts: float) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                              keepalive_expiry=KEEPALIVE_S)
        super().__init__(connection_pool_size=connections, http_version="1.1", proxy=proxy or None,
                         httpx_kwargs={"limits": limits, "trust_env": True, "verify": verify},
                         **{**TIMEOUTS, **timeouts})

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            return await super().do_request(url, method, request_data, *args, **kwargs)
        except NetworkError as exc:
            refused = _cert_refusal(exc)
            if refused is not None:
                log.error("TLS certificate of %s refused (%s): nothing was sent. Check the clock, [telegram] "
                          "base_url, and any proxy that intercepts TLS.", httpx.URL(url).host,
                          refused.verify_message or refused)
            raise


def _cert_refusal(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check that failed under PTB's NetworkError (httpx → httpcore → ssl), if any."""
    cause: BaseException | None = exc
    for _ in range(8):
        if cause is None or isinstance(cause, ssl.SSLCertVerificationError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def bot_requests(connections: int, proxy: str = "") -> tuple[BaseRequest, BaseRequest]:
    """(request for every call but getUpdates, request for getUpdates)."""
    return DeskRequest(connections, proxy=proxy), DeskRequest(1, proxy=proxy)


# --- measured against HTTPXRequest (docs/PERFORMANCE.md "HTTP transport"); DUTYDESK_HTTP=aiohttp ---
import asyncio  # noqa: E402
import os  # noqa: E402


class AiohttpRequest(BaseRequest):
    def __init__(self, connections: int, proxy: str = "") -> None:
        self._connections, self._proxy = connections, proxy or None
        self._session: Any = None

    @property
    def read_timeout(self) -> float | None:
        return TIMEOUTS["read_timeout"]

    async def initialize(self) -> None:
        import aiohttp
        import certifi

        if self._session is None or self._session.closed:
            ctx = ssl.create_default_context(cafile=certifi.where())
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, ssl=ctx, keepalive_timeout=KEEPALIVE_S),
                trust_env=True)

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:
        import aiohttp

        if self._session is None:
            await self.initialize()
        data: Any = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for k, v in request_data.json_parameters.items():
                    form.add_field(k, v)
                for k, (name, content, mime) in request_data.multipart_data.items():
                    form.add_field(k, content, filename=name, content_type=mime)
                data = form
            else:
                data = request_data.json_parameters
        rt = read_timeout if isinstance(read_timeout, int | float) else TIMEOUTS["read_timeout"]
        timeout = aiohttp.ClientTimeout(sock_read=rt, connect=TIMEOUTS["connect_timeout"])
        try:
            async with self._session.request(method, url, data=data, timeout=timeout, proxy=self._proxy,
                                             headers={"User-Agent": self.USER_AGENT}) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            from telegram.error import TimedOut

            raise TimedOut() from exc
        except (aiohttp.ClientError, asyncio.IncompleteReadError, OSError) as exc:
            raise NetworkError(f"aiohttp: {exc}") from exc


if os.environ.get("DUTYDESK_HTTP") == "aiohttp":
    def bot_requests(connections: int, proxy: str = "") -> tuple[BaseRequest, BaseRequest]:  # noqa: F811
        return AiohttpRequest(connections, proxy), AiohttpRequest(1, proxy)
