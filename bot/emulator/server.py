"""Tornado HTTP front-end: Bot API endpoint, file downloads and the /_control/ JSON API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import TYPE_CHECKING, Any, NamedTuple

import tornado.httpserver
import tornado.netutil
import tornado.web

from .limits import is_rate_limited_method
from .models import ApiError, JSONDict

if TYPE_CHECKING:
    from .emulator import BotApiEmulator


class Upload(NamedTuple):
    filename: str
    body: bytes
    content_type: str


class RawJson(str):
    """A method result that is already serialised JSON (used by getUpdates)."""


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


def parse_request(req: tornado.httputil.HTTPServerRequest) -> tuple[JSONDict, dict[str, Upload]]:
    params: JSONDict = {k: v[-1].decode("utf-8", "replace") for k, v in req.query_arguments.items()}
    ctype = req.headers.get("Content-Type", "")
    if ctype.startswith("application/json"):
        if req.body:
            try:
                body = json.loads(req.body)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON body") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: JSON body must be an object")
            params.update(body)
    else:
        for k, v in req.body_arguments.items():
            params[k] = v[-1].decode("utf-8", "replace")
    files: dict[str, Upload] = {}
    for k, flist in req.files.items():
        f = flist[-1]
        files[k] = Upload(f.filename, f.body, f.content_type)
    return coerce_params(params), files


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Handler(tornado.web.RequestHandler):
    emu: BotApiEmulator

    def initialize(self, emu: BotApiEmulator) -> None:
        self.emu = emu

    def check_xsrf_cookie(self) -> None:  # pragma: no cover - API, not a browser form
        pass

    def compute_etag(self) -> None:
        return None

    def send_json(self, status: int, payload: bytes | str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(payload)


class ApiHandler(_Handler):
    async def get(self, token: str, method: str) -> None:
        emu = self.emu
        if token != emu.token:
            emu.stats.errors[401] += 1
            self.send_json(401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}')
            return
        found = emu.api.lookup(method)
        if found is None:
            emu.stats.errors[404] += 1
            self.send_json(404, b'{"ok":false,"error_code":404,"description":"Not Found: method not found"}')
            return
        name, impl = found
        emu.stats.requests[name] += 1
        polling = name == "getUpdates"
        if not polling:
            emu._inflight += 1
            emu._last_activity = time.monotonic()
        params: JSONDict = {}
        try:
            params, files = parse_request(self.request)
            if emu._forced or emu.faults is not None:
                fault = emu._draw_fault(name)
                if fault is not None and await self._inject(fault, name, params):
                    return
            if emu._limiter is not None and is_rate_limited_method(name):
                cid = params.get("chat_id")
                key = cid if isinstance(cid, int) else hash(str(cid))
                retry = emu._limiter.check(key, time.monotonic())
                if retry is not None:
                    emu.stats.rate_limited += 1
                    raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
            result = impl(params, files)
            if asyncio.iscoroutine(result):
                result = await result
            if isinstance(result, str):
                body = '{"ok":true,"result":' + result + "}"
            else:
                body = '{"ok":true,"result":' + json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "}"
            self.send_json(200, body)
        except ApiError as err:
            emu.stats.errors[err.code] += 1
            if err.code != 409:
                cid = params.get("chat_id")
                emu._log("bot", cid if isinstance(cid, int) else 0, "bot→",
                         f"⚠ {name} → {err.code} {err.description}")
            self.send_json(err.code, _json_bytes(err.to_json()))
        finally:
            if not polling:
                emu._inflight -= 1
                emu._last_activity = time.monotonic()

    post = get

    async def _inject(self, fault: str, method: str, params: JSONDict) -> bool:
        """Apply an injected fault; return True if the request has been fully handled."""
        emu = self.emu
        emu.stats.faults[fault] += 1
        cfg = emu.faults
        cid = params.get("chat_id")
        emu._log("bot", cid if isinstance(cid, int) else 0, "bot→", f"⚡ fault {fault} on {method}")
        if fault == "429":
            retry = cfg.retry_after if cfg is not None else 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        if fault == "500":
            raise ApiError(500, "Internal Server Error")
        if fault == "502":
            raise ApiError(502, "Bad Gateway")
        if fault == "drop":
            # Close the socket without answering: the client sees a protocol/network error.
            self.detach().close()
            return True
        if fault == "slow":
            await asyncio.sleep(cfg.slow_seconds if cfg is not None else 2.0)
        return False


class FileHandler(_Handler):
    def get(self, token: str, path: str) -> None:
        if token != self.emu.token:
            self.send_json(401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}')
            return
        rec = self.emu._files_by_path.get(path)
        if rec is None:
            self.send_json(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
            return
        self.set_header("Content-Type", rec.mime_type or "application/octet-stream")
        self.finish(rec.content)


class ControlHandler(_Handler):
    """Tiny JSON API so a bot/test in another process can drive the simulated users."""

    async def get(self, action: str) -> None:
        try:
            args: JSONDict = {k: v[-1].decode() for k, v in self.request.query_arguments.items()}
            if self.request.body:
                body = json.loads(self.request.body)
                if isinstance(body, dict):
                    args.update(body)
            result = await self._dispatch(action, args)
        except (KeyError, LookupError, ValueError, TypeError, TimeoutError) as exc:
            self.send_json(400, _json_bytes({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
            return
        if isinstance(result, RawJson):
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(str(result))
            return
        self.send_json(200, _json_bytes({"ok": True, "result": result}))

    post = get

    def _user(self, args: JSONDict) -> Any:
        uid = int(args["user_id"])
        user = self.emu.get_user(uid)
        if user is None:
            user = self.emu.user(uid, str(args.get("first_name") or f"User{uid}"), args.get("username"))
        return user

    async def _dispatch(self, action: str, a: JSONDict) -> Any:
        emu = self.emu
        chat = int(a["chat_id"]) if a.get("chat_id") not in (None, "") else None
        if action == "user":
            user = self._user(a)
            if a.get("started"):
                user.started = True
            return user.json
        if action == "send_text":
            return await self._user(a).send_text(str(a["text"]), chat)
        if action == "send_command":
            return await self._user(a).send_command(str(a["command"]), a.get("arg"), chat)
        if action == "send_location":
            return await self._user(a).send_location(float(a["latitude"]), float(a["longitude"]), chat)
        if action == "press":
            user = self._user(a)
            mid = int(a["message_id"])
            if a.get("text") is None and a.get("data") is not None and a.get("raw"):
                return await user.press_raw(str(a["data"]), mid, chat)
            return await user.press(mid, text=a.get("text"), data=a.get("data"), chat=chat)
        if action == "messages":
            include_user = str(a.get("include_user", "")).lower() in ("1", "true")
            return [m.to_dict() for m in emu.messages(int(a["chat_id"]), include_user=include_user)]
        if action == "stats":
            result = emu.stats.as_dict()
            result["pending_updates"] = emu.pending_updates
            return result
        if action == "transcript":
            return RawJson(emu.format_transcript())
        if action == "wait_idle":
            await emu.wait_idle(float(a.get("quiet", 0.05)), float(a.get("timeout", 10)))
            return True
        raise KeyError(f"unknown control action {action!r}")


class NotFoundHandler(_Handler):
    def prepare(self) -> None:
        self.send_json(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')


def _no_log(handler: tornado.web.RequestHandler) -> None:
    # Per-request access logging costs more than the request itself at benchmark rates.
    return None


class EmulatorServer:
    def __init__(self, emu: BotApiEmulator) -> None:
        kw = {"emu": emu}
        self.app = tornado.web.Application(
            [
                (r"/bot([^/]*)/([A-Za-z]+)/?", ApiHandler, kw),
                (r"/file/bot([^/]*)/(.+)", FileHandler, kw),
                (r"/_control/(\w+)", ControlHandler, kw),
            ],
            default_handler_class=NotFoundHandler,
            default_handler_args=kw,
            log_function=_no_log,
        )
        self.http: tornado.httpserver.HTTPServer | None = None

    def listen(self, host: str, port: int) -> int:
        sockets = tornado.netutil.bind_sockets(port, host)
        self.http = tornado.httpserver.HTTPServer(self.app, idle_connection_timeout=120)
        self.http.add_sockets(sockets)
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.http is None:
            return
        self.http.stop()
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(self.http.close_all_connections(), 2.0)
        self.http = None
