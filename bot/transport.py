"""The Bot API's HTTP transport: PTB's request interface on kept-alive asyncio streams.

PTB's default `HTTPXRequest` spends ~1.4 ms of CPU per call on this project's 2-core
benchmark machine (httpx → httpcore → anyio → h11); h11 alone on a kept-alive asyncio
stream ~0.3 ms; a fixed request head and httptools (llhttp, Node's C parser) reading the
answer less again (a report dialogue: ~4.4 → ~3.4 ms of bot CPU per update). Each alert,
reply and getUpdates is one call, so this is most of the bot's CPU per update. Plain POSTs,
sent as JSON bodies (every method we call without a file) take this path; uploads,
downloads and proxied set-ups go through PTB's own `HTTPXRequest`, which does multipart and
proxies properly.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import urllib.request
from collections import deque
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httptools
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

_READ = 65536
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")
_DefaultValue = type(BaseRequest.DEFAULT_NONE)  # "not given by the caller: use this transport's own"


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    keep_alive: bool = True  # the last answer let the connection be reused

    def reusable(self) -> bool:
        return self.keep_alive and not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class _Answer:
    """httptools' callbacks for one HTTP response."""

    __slots__ = ("parser", "chunks", "framed", "headers_done", "keep_alive", "done")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.chunks: list[bytes] = []
        self.framed = False  # Content-Length or chunked: the body's end is known, not the connection's
        self.headers_done = self.keep_alive = self.done = False

    def on_header(self, name: bytes, _value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()  # (only valid until the message completes)

    def on_body(self, data: bytes) -> None:
        self.chunks.append(data)

    def on_message_complete(self) -> None:
        self.done = True


class LeanRequest(BaseRequest):
    """Keep-alive HTTP/1.1 to one Bot API server, at most `connection_pool_size` connections."""

    def __init__(self, connection_pool_size: int = 64, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        # A plain Bot API request is a few kilobytes: it is written and answered under the read
        # deadline; `write_timeout` matters for uploads, which go through the fallback.
        self._timeouts = {"read": read_timeout, "connect": connect_timeout, "pool": pool_timeout}
        self._slots = asyncio.Semaphore(connection_pool_size)
        self._idle: dict[tuple[str, str, int], deque[_Conn]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._closed = False
        self._proxied = set(urllib.request.getproxies())  # HTTPS_PROXY, ALL_PROXY…: httpx honours them
        # Files, downloads and proxies: PTB's own transport, built when first needed (an httpx
        # client with its TLS context costs tens of milliseconds at start-up).
        self._fallback_args = {"connection_pool_size": min(connection_pool_size, 8), "read_timeout": read_timeout,
                               "write_timeout": write_timeout, "connect_timeout": connect_timeout,
                               "pool_timeout": pool_timeout, "media_write_timeout": media_write_timeout}
        self._fallback: HTTPXRequest | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    @property
    def fallback(self) -> HTTPXRequest:
        if self._fallback is None:
            self._fallback = HTTPXRequest(**self._fallback_args)  # type: ignore[arg-type]
        return self._fallback

    async def initialize(self) -> None:
        self._closed = False
        if self._fallback is not None:
            await self._fallback.initialize()

    async def shutdown(self) -> None:
        self._closed = True
        for pool in self._idle.values():
            while pool:
                pool.popleft().close()
        if self._fallback is not None:
            await self._fallback.shutdown()

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        parts = urlsplit(url)
        if (method != "POST" or (request_data is not None and request_data.contains_files)
                or parts.scheme not in ("http", "https") or parts.scheme in self._proxied or "all" in self._proxied):
            return await self.fallback.do_request(url, method, request_data, read_timeout, write_timeout,
                                                  connect_timeout, pool_timeout)
        if self._closed:
            raise RuntimeError("This LeanRequest is not initialized!")
        # A JSON body, which the Bot API takes for any call without a file: json's C encoder, where
        # form-encoding quotes every byte of Chinese text in Python (and the server unquotes it).
        body = json.dumps(request_data.json_parameters, ensure_ascii=False).encode() if request_data else b"{}"
        host = parts.hostname or ""
        key = (parts.scheme, host, parts.port or (443 if parts.scheme == "https" else 80))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if _UNSAFE.search(target) or _UNSAFE.search(parts.netloc):  # (a token or URL with a line break)
            raise NetworkError("refusing a Bot API URL with whitespace or control characters")
        head = (f"POST {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: {self.USER_AGENT}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        if self._slots.locked():  # a free slot is taken at once: no timer to arm (~3 % of the bot's CPU)
            try:
                async with _deadline(self._pick("pool", pool_timeout)):
                    await self._slots.acquire()
            except TimeoutError:
                raise TimedOut("Pool timeout: all connections are busy; the request was *not* sent.") from None
        else:
            await self._slots.acquire()
        try:
            conn = await self._connection(key, self._pick("connect", connect_timeout))
            try:
                async with _deadline(self._pick("read", read_timeout)):
                    status, payload = await self._exchange(conn, head + body)
            except BaseException:
                conn.close()  # half a conversation: the connection cannot be reused
                raise
            if conn.reusable():
                self._idle.setdefault(key, deque()).append(conn)
            else:
                conn.close()
            return status, payload
        except TimeoutError as exc:
            raise TimedOut() from exc
        except (OSError, httptools.HttpParserError, asyncio.IncompleteReadError) as exc:
            raise NetworkError(f"{exc.__class__.__name__}: {exc}") from exc
        finally:
            self._slots.release()

    def _pick(self, name: str, value: ODVInput[float]) -> float | None:
        return self._timeouts[name] if isinstance(value, _DefaultValue) else value  # type: ignore[return-value]

    async def _connection(self, key: tuple[str, str, int], timeout: float | None) -> _Conn:
        pool = self._idle.get(key)
        while pool:
            conn = pool.pop()
            if conn.reusable():
                return conn
            conn.close()
        scheme, host, port = key
        tls = self._tls() if scheme == "https" else None
        try:
            async with _deadline(timeout):
                reader, writer = await asyncio.open_connection(host, port, ssl=tls, limit=_READ * 4)
        except TimeoutError:
            raise TimedOut("Connect timeout") from None
        return _Conn(reader, writer)

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            import certifi  # httpx's CA bundle, as PTB's default transport uses

            self._ssl = ssl.create_default_context(cafile=certifi.where())
        return self._ssl

    @staticmethod
    async def _exchange(conn: _Conn, request: bytes) -> tuple[int, bytes]:
        conn.writer.write(request)
        await conn.writer.drain()
        answer = _Answer()
        while not answer.done:
            data = await conn.reader.read(_READ)
            if not data:
                if answer.headers_done and not answer.framed:  # a body that ends with the connection
                    answer.keep_alive = False
                    break
                raise asyncio.IncompleteReadError(b"".join(answer.chunks), None)
            answer.parser.feed_data(data)
        conn.keep_alive = answer.keep_alive
        return answer.parser.get_status_code(), b"".join(answer.chunks)


def _deadline(seconds: float | None) -> AbstractAsyncContextManager[object]:
    return asyncio.timeout(seconds) if seconds is not None else nullcontext()

