"""How the bot reaches the Bot API over HTTP: python-telegram-bot's `BaseRequest` on aiohttp.

Why aiohttp and not PTB's own `HTTPXRequest`: measured side by side (docs/PERFORMANCE.md, "HTTP
transport"), the bot handles people's updates 64 at a time, so dozens of Bot API calls are in
flight together; httpcore's pool re-examines every connection and every queued request on each
call (a socket poll per idle connection): 7–10× fewer updates a second here. aiohttp's connector
hands out kept-alive connections in constant time.

One request object carries every call but getUpdates (PTB gives the long poll its own, so a poll
never waits for a free connection). Calls without a file go as JSON bodies (json's C encoder;
form encoding percent-quotes every byte of Chinese text in Python); uploads as multipart.

Proxies: `[telegram] proxy` if set, else HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY from the
environment, the usual way out of a government network: read by the standard library once per host
(aiohttp's own `trust_env` reads them again in a thread on every call). Certificates are
checked against the system's store (SSL_CERT_FILE / SSL_CERT_DIR name a private CA, e.g. of a proxy
that inspects TLS) and certifi's bundle; a refused certificate is logged here in plain words before
PTB's NetworkError reaches the caller.
"""

from __future__ import annotations

import functools
import logging
import os
import ssl
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

# Generous read timeout: retrying a slow-but-delivered send would duplicate it.
TIMEOUTS = {"read_timeout": 30.0, "write_timeout": 30.0, "connect_timeout": 10.0, "pool_timeout": 30.0}
# How long an idle kept-alive connection is kept: between two bursts of a quiet afternoon each call
# would otherwise open a new TLS connection to Telegram.
KEEPALIVE_S = 60.0
_JSON = {"Content-Type": "application/json"}
_DefaultValue = type(BaseRequest.DEFAULT_NONE)  # PTB's "not given by the caller" marker (a public attribute's type)


def tls_context() -> ssl.SSLContext:
    """The system's trust store (honouring SSL_CERT_FILE / SSL_CERT_DIR) plus certifi's bundle.

    Built once per process for the same two variables (an SSLContext is meant to be shared): loading
    the stores takes ~35 ms, and a bot start makes two request objects (half of a restart's time)."""
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls_context(_cert_file: str | None, _cert_dir: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()  # reads the two variables itself
    ctx.load_verify_locations(cafile=certifi.where())
    return ctx


class DeskRequest(BaseRequest):
    """Kept-alive HTTP/1.1 to the Bot API through aiohttp, at most `connections` at once."""

    def __init__(self, connections: int, *, proxy: str = "", read_timeout: float = TIMEOUTS["read_timeout"],
                 write_timeout: float = TIMEOUTS["write_timeout"], connect_timeout: float = TIMEOUTS["connect_timeout"],
                 pool_timeout: float = TIMEOUTS["pool_timeout"]) -> None:
        self._connections, self._proxy = connections, proxy or None
        # aiohttp has no write timeout of its own: a request is written within its read deadline.
        self._timeouts = {"read": read_timeout, "connect": connect_timeout, "pool": pool_timeout,
                          "write": write_timeout}
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}  # (scheme, host) → proxy from the environment

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, ssl=tls_context(),
                                             keepalive_timeout=KEEPALIVE_S)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False,
                                                  headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE, write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE, pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This DeskRequest is not initialized!")
        read, connect, pool = (self._pick("read", read_timeout), self._pick("connect", connect_timeout),
                               self._pick("pool", pool_timeout))
        # `connect` covers waiting for a free connection and opening it; `sock_connect` the opening alone.
        timeout = aiohttp.ClientTimeout(connect=None if pool is None or connect is None else pool + connect,
                                        sock_connect=connect, sock_read=read)
        data: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None and request_data.contains_files:
            form = aiohttp.FormData(quote_fields=False)  # a Chinese file name as UTF-8, not %-quoted
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime) in request_data.multipart_data.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            data = form
        elif request_data is not None:
            data, headers = request_data.json_payload, _JSON
        try:
            async with self._session.request(method, url, data=data, headers=headers, timeout=timeout,
                                             proxy=self._proxy or self._env_proxy(url)) as response:
                return response.status, await response.read()
        except aiohttp.ClientConnectorCertificateError as exc:
            cert = exc.certificate_error
            reason = cert.verify_message if isinstance(cert, ssl.SSLCertVerificationError) else cert
            log.error("TLS certificate of %s refused (%s): nothing was sent. Check the clock, [telegram] base_url, "
                      "and any proxy that inspects TLS (its CA: SSL_CERT_FILE).", exc.host, reason)
            raise NetworkError(f"TLS certificate of {exc.host} refused: {reason}") from exc
        except TimeoutError as exc:
            if isinstance(exc, aiohttp.ConnectionTimeoutError):
                raise TimedOut("Pool or connect timeout: no connection; the request was *not* sent.") from exc
            raise TimedOut() from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

    def _env_proxy(self, url: str) -> str | None:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            found = urllib.request.getproxies()  # HTTPS_PROXY, https_proxy, ALL_PROXY …
            proxy = found.get(parts.scheme) or found.get("all")
            self._proxies[key] = None if not proxy or urllib.request.proxy_bypass(key[1]) else proxy
        return self._proxies[key]

    def _pick(self, name: str, value: Any) -> float | None:
        """The caller's timeout, or this request's own when PTB passes its DEFAULT_NONE."""
        return self._timeouts[name] if isinstance(value, _DefaultValue) else value  # type: ignore[no-any-return]


def bot_requests(connections: int, proxy: str = "") -> tuple[BaseRequest, BaseRequest]:
    """(request for every call but getUpdates, request for getUpdates)."""
    return DeskRequest(connections, proxy=proxy), DeskRequest(1, proxy=proxy)
