"""HTTP front-end: Bot API endpoint, file downloads and the /_control/ JSON API.

A deliberately small HTTP/1.1 server on ``asyncio.Protocol`` (keep-alive, pipelining,
Content-Length and chunked bodies).  Benchmarks push thousands of requests per second
through it on two cores shared with the bot, and a framework's per-request machinery
(routing, header objects, a task per request) cost ~4x more than the Bot API work itself.
Synchronous Bot API methods - nearly all of them - are answered directly from
``data_received`` without creating a task.  Multipart parsing is delegated to tornado
(installed with python-telegram-bot's webhooks extra).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl, unquote

import tornado.httputil

from .limits import is_rate_limited_method
from .models import ApiError, JSONDict, RawJson

if TYPE_CHECKING:
    from .emulator import BotApiEmulator


class Upload(NamedTuple):
    filename: str
    body: bytes
    content_type: str


# PTB (and most clients) send every parameter as a string in form data; nested objects
# are JSON-encoded.  Coerce by parameter name so that e.g. text="123" stays a string.
_JSON_PARAMS = frozenset({
    "reply_markup", "entities", "caption_entities", "reply_parameters", "link_preview_options",
    "commands", "scope", "menu_button", "allowed_updates", "media", "rights", "results",
})
_INT_PARAMS = frozenset({
    "chat_id", "message_id", "offset", "limit", "user_id", "reply_to_message_id",
    "message_thread_id", "max_connections", "cache_time", "from_chat_id", "live_period",
    "heading", "proximity_alert_radius", "until_date",
})
_FLOAT_PARAMS = frozenset({"latitude", "longitude", "horizontal_accuracy", "timeout"})
_BOOL_PARAMS = frozenset({
    "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
    "disable_web_page_preview", "allow_sending_without_reply", "has_spoiler",
    "disable_content_type_detection", "only_if_banned", "is_anonymous", "for_channels",
})
_INT_RE = re.compile(r"^-?\d+$")
_REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    409: "Conflict", 413: "Payload Too Large", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway",
}
_MAX_HEADER = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024

_UNAUTHORIZED = b'{"ok":false,"error_code":401,"description":"Unauthorized"}'
_NO_METHOD = b'{"ok":false,"error_code":404,"description":"Not Found: method not found"}'
_NOT_FOUND = b'{"ok":false,"error_code":404,"description":"Not Found"}'


def coerce_params(params: JSONDict) -> JSONDict:
    for key, value in params.items():
        if not isinstance(value, str):
            continue
        if key in _JSON_PARAMS:
            if value == "":
                params[key] = None
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
        elif key in _INT_PARAMS:
            if _INT_RE.match(value):
                params[key] = int(value)
        elif key in _FLOAT_PARAMS:
            try:
                params[key] = int(value) if _INT_RE.match(value) else float(value)
            except ValueError:
                pass
        elif key in _BOOL_PARAMS:
            params[key] = value.lower() in ("true", "1")
    return params


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def params(self) -> tuple[JSONDict, dict[str, Upload]]:
        """Query + body parameters (JSON, urlencoded or multipart), type-coerced."""
        params: JSONDict = dict(parse_qsl(self.query, keep_blank_values=True)) if self.query else {}
        files: dict[str, Upload] = {}
        body = self.body
        if body:
            ctype = self.headers.get("content-type", "")
            if ctype.startswith("application/json"):
                try:
                    obj = json.loads(body)
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON body") from None
                if not isinstance(obj, dict):
                    raise ApiError(400, "Bad Request: JSON body must be an object")
                params.update(obj)
            elif ctype.startswith("multipart/form-data"):
                args: dict[str, list[bytes]] = {}
                tfiles: dict[str, list[tornado.httputil.HTTPFile]] = {}
                tornado.httputil.parse_body_arguments(ctype, body, args, tfiles)
                for k, v in args.items():
                    params[k] = v[-1].decode("utf-8", "replace")
                for k, flist in tfiles.items():
                    f = flist[-1]
                    files[k] = Upload(f.filename, f.body, f.content_type)
            else:  # application/x-www-form-urlencoded (or unspecified)
                params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return coerce_params(params), files


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"


DROP = object()  # "close the connection without answering"
Result = Response | object  # Response or DROP


def _json_response(status: int, obj: Any) -> Response:
    return Response(status, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


class _Connection(asyncio.Protocol):
    """One client connection; requests are answered strictly in arrival order."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.pending: deque[Request] = deque()
        self.busy = False  # an async handler owns the connection
        self.task: asyncio.Future[None] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            try:
                req = self._parse()
            except ValueError:
                self._write(Response(400, b'{"ok":false,"error_code":400,"description":"Bad Request"}'), close=True)
                return
            if req is None:
                break
            self.pending.append(req)
        if not self.busy:
            self._process()

    def _parse(self) -> Request | None:
        buf = self.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > _MAX_HEADER:
                raise ValueError("header too large")
            return None
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise ValueError("bad request line")
        method, target, _version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        start = end + 4
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body, consumed = _parse_chunked(buf, start)
            if body is None:
                return None
            del buf[:consumed]
        else:
            length = int(headers.get("content-length", "0") or 0)
            if length > _MAX_BODY:
                raise ValueError("body too large")
            if len(buf) - start < length:
                return None
            body = bytes(buf[start : start + length])
            del buf[: start + length]
        path, _, query = target.partition("?")
        return Request(method, path, query, headers, body)

    def _process(self) -> None:
        while self.pending and not self.closed:
            req = self.pending.popleft()
            close = req.headers.get("connection", "").lower() == "close"
            result = self.server.dispatch(req)
            if asyncio.iscoroutine(result):
                self.busy = True
                self.task = asyncio.ensure_future(self._finish_async(result, close))
                return
            if self._emit(result, close):
                return

    async def _finish_async(self, awaitable: Awaitable[Result], close: bool) -> None:
        try:
            result = await awaitable
        except Exception as exc:  # a bug in the emulator must not hang the client
            result = _json_response(500, {"ok": False, "error_code": 500, "description": f"emulator error: {exc!r}"})
            import logging

            logging.getLogger(__name__).exception("emulator request handler failed")
        self.busy = False
        if not self._emit(result, close):
            self._process()

    def _emit(self, result: Result, close: bool) -> bool:
        """Write a result; return True if the connection is now closed."""
        if result is DROP:
            self.closed = True
            if self.transport is not None:
                self.transport.close()
            return True
        assert isinstance(result, Response)
        self._write(result, close)
        return close

    def _write(self, resp: Response, close: bool = False) -> None:
        t = self.transport
        if t is None or t.is_closing():
            return
        head = (
            f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Unknown')}\r\n"
            f"Content-Type: {resp.content_type}\r\nContent-Length: {len(resp.body)}\r\n"
            + ("Connection: close\r\n\r\n" if close else "\r\n")
        )
        t.write(head.encode("latin-1") + resp.body)
        if close:
            self.closed = True
            t.close()


def _parse_chunked(buf: bytearray, start: int) -> tuple[bytes | None, int]:
    out = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None, 0
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n", pos)  # (no trailers expected)
            if end < 0:
                return None, 0
            return bytes(out), end + 2
        if len(buf) < pos + size + 2:
            return None, 0
        out += buf[pos : pos + size]
        pos += size + 2


class EmulatorServer:
    def __init__(self, emu: BotApiEmulator) -> None:
        self.emu = emu
        self.connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None
        from .controlapi import ControlApi

        self.control = ControlApi(emu)

    async def listen(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, port, backlog=1024)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        tasks = []
        for conn in list(self.connections):
            if conn.task is not None and not conn.task.done():
                conn.task.cancel()
                tasks.append(conn.task)
            if conn.transport is not None:
                conn.transport.abort()
        self.connections.clear()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._server = None

    # ------------------------------------------------------------------ routing

    def dispatch(self, req: Request) -> Result | Awaitable[Result]:
        path = req.path
        if path.startswith("/bot"):
            token, _, method = path[4:].partition("/")
            return self.api(req, unquote(token), method.rstrip("/"))
        if path.startswith("/file/bot"):
            token, _, file_path = path[9:].partition("/")
            return self.file(unquote(token), unquote(file_path))
        if path.startswith("/_control/"):
            return self.control.handle(req, path[len("/_control/"):])
        return Response(404, _NOT_FOUND)

    def file(self, token: str, file_path: str) -> Response:
        if token != self.emu.token:
            return Response(401, _UNAUTHORIZED)
        rec = self.emu._files_by_path.get(file_path)
        if rec is None:
            return Response(404, _NOT_FOUND)
        return Response(200, rec.content, rec.mime_type or "application/octet-stream")

    def api(self, req: Request, token: str, method: str) -> Result | Awaitable[Result]:
        emu = self.emu
        if token != emu.token:
            emu.stats.errors[401] += 1
            return Response(401, _UNAUTHORIZED)
        found = emu.api.lookup(method)
        if found is None:
            emu.stats.errors[404] += 1
            return Response(404, _NO_METHOD)
        name, impl = found
        emu.stats.requests[name] += 1
        params: JSONDict = {}
        try:
            params, files = req.params()
            fault = emu._draw_fault(name) if (emu._forced or emu.faults is not None) else None
            if fault is not None:
                early = self._inject(fault, name, params)
                if early is not None:
                    return early
                # "slow": answer after a delay, then proceed normally
                return self._slow(name, impl, params, files)
            if name == "getUpdates":
                return self._poll(impl, params, files)
            emu._touch()
            return self._run(name, impl, params, files)
        except ApiError as err:
            return self._error(name, params, err)

    def _run(self, name: str, impl: Any, params: JSONDict, files: dict[str, Upload]) -> Response:
        emu = self.emu
        try:
            if emu._limiter is not None and is_rate_limited_method(name):
                cid = params.get("chat_id")
                key = cid if isinstance(cid, int) else hash(str(cid))
                retry = emu._limiter.check(key, emu.limits_clock())
                if retry is not None:
                    emu.stats.rate_limited += 1
                    raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
            result = impl(params, files)
            return Response(200, _ok(result))
        except ApiError as err:
            return self._error(name, params, err)
        finally:
            emu._touch()

    async def _poll(self, impl: Any, params: JSONDict, files: dict[str, Upload]) -> Response:
        try:
            return Response(200, _ok(await impl(params, files)))
        except ApiError as err:
            return self._error("getUpdates", params, err)

    async def _slow(self, name: str, impl: Any, params: JSONDict, files: dict[str, Upload]) -> Result:
        emu = self.emu
        emu._inflight += 1  # keeps wait_idle from declaring quiet while we stall
        try:
            cfg = emu.faults
            await asyncio.sleep(cfg.slow_seconds if cfg is not None else 2.0)
        finally:
            emu._inflight -= 1
        if name == "getUpdates":
            return await self._poll(impl, params, files)
        return self._run(name, impl, params, files)

    def _inject(self, fault: str, method: str, params: JSONDict) -> Result | None:
        """Apply an injected fault; None means "slow" (handled by the caller)."""
        emu = self.emu
        emu.stats.faults[fault] += 1
        cid = params.get("chat_id")
        emu._log("bot", cid if isinstance(cid, int) else 0, "bot→", f"⚡ fault {fault} on {method}", event="fault",
                 detail=f"{fault} {method}")
        emu._touch()
        cfg = emu.faults
        if fault == "429":
            retry = cfg.retry_after if cfg is not None else 1
            err = ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        elif fault == "500":
            err = ApiError(500, "Internal Server Error")
        elif fault == "502":
            err = ApiError(502, "Bad Gateway")
        elif fault == "drop":
            return DROP  # the client sees the connection close without an answer
        else:
            return None
        emu.stats.errors[err.code] += 1
        return Response(err.code, json.dumps(err.to_json()).encode())

    def _error(self, name: str, params: JSONDict, err: ApiError) -> Response:
        emu = self.emu
        emu.stats.errors[err.code] += 1
        if err.code != 409:
            cid = params.get("chat_id")
            emu._log("bot", cid if isinstance(cid, int) else 0, "bot→", f"⚠ {name} → {err.code} {err.description}",
                     event="error", detail=f"{err.code} {err.description}")
        return Response(err.code, json.dumps(err.to_json(), ensure_ascii=False).encode())


def _ok(result: Any) -> bytes:
    if isinstance(result, RawJson):
        return ('{"ok":true,"result":' + result + "}").encode()
    return ('{"ok":true,"result":' + json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "}").encode()
