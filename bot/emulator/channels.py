"""Fake group robots (DingTalk, WeCom, Feishu) and an SMS gateway on 127.0.0.1, for tests, the demo
and the benchmark.

Each checks what its platform checks — the access token or key, the signature (DingTalk's 加签 in
the query, Feishu's in the body, each within an hour of its clock), the message shape — enforces the
documented pace with the platform's own error code (DingTalk 130101, WeCom 45009, Feishu 11232), and
records what it accepted. The signatures are verified here from the platforms' descriptions, not
with the bot's own code, so a wrong signature on the bot's side is caught.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import tornado.httpserver
import tornado.netutil
import tornado.web


@dataclass
class Arrival:
    kind: str  # dingtalk | wecom | feishu | sms
    name: str  # the robot's token / key / hook, or the phone number
    body: dict[str, Any]
    at: float  # the fake's clock
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The message's text, whatever the platform's shape."""
        b = self.body
        if self.kind == "dingtalk":
            return str(b.get("markdown", {}).get("text", ""))
        if self.kind == "wecom":
            return str(b.get("markdown", {}).get("content", ""))
        if self.kind == "feishu":
            post = b.get("content", {}).get("post", {}).get("zh_cn", {})
            return "\n".join([post.get("title", "")] + ["".join(el.get("text", "") for el in line)
                                                        for line in post.get("content", [])])
        return str(b.get("content", b.get("text", "")))


class _Window:
    """Messages in the last `span` seconds, at most `limit`."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit, self.span, self.times = limit, span, deque[float]()

    def allow(self, now: float) -> bool:
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


class FakeChannels:
    """`async with FakeChannels(clock) as fakes: url = fakes.dingtalk("tok", secret="SEC…")`."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.arrivals: list[Arrival] = []
        self.refused: list[tuple[str, str, str]] = []  # (kind, name, error)
        self.port = 0
        self._robots: dict[tuple[str, str], str | None] = {}  # (kind, token) → secret
        self._windows: dict[tuple[str, str], list[_Window]] = {}
        self.sms_key = ""
        self.sms_per_minute = 60
        self.fail_next = 0  # answer this many requests with HTTP 502 (any endpoint)
        self.sms_retry_after = 60  # seconds, in the SMS gateway's 429 answers
        self.drop_answer_next = 0  # take (record) this many messages, then hang up without answering
        self.echo = ""  # put this into every refusal's answer (a gateway that echoes the key it was given)
        self.calls = 0
        self._server: tornado.httpserver.HTTPServer | None = None

    # --- set-up ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def dingtalk(self, token: str, secret: str | None = None, per_minute: int = 20) -> str:
        self._robots[("dingtalk", token)] = secret
        self._windows[("dingtalk", token)] = [_Window(per_minute, 60.0)]
        return f"{self.base_url}/robot/send?access_token={token}"

    def wecom(self, key: str, per_minute: int = 20) -> str:
        self._robots[("wecom", key)] = None
        self._windows[("wecom", key)] = [_Window(per_minute, 60.0)]
        return f"{self.base_url}/cgi-bin/webhook/send?key={key}"

    def feishu(self, hook: str, secret: str | None = None, per_minute: int = 100, per_second: int = 5) -> str:
        self._robots[("feishu", hook)] = secret
        self._windows[("feishu", hook)] = [_Window(per_minute, 60.0), _Window(per_second, 1.0)]
        return f"{self.base_url}/open-apis/bot/v2/hook/{hook}"

    def sms(self, key: str, per_minute: int = 60) -> str:
        self.sms_key, self.sms_per_minute = key, per_minute
        self._windows[("sms", "")] = [_Window(per_minute, 60.0)]
        return f"{self.base_url}/sms/send"

    def received(self, kind: str | None = None, name: str | None = None) -> list[Arrival]:
        return [a for a in self.arrivals if (kind is None or a.kind == kind) and (name is None or a.name == name)]

    async def start(self) -> FakeChannels:
        app = tornado.web.Application([
            (r"/robot/send", _DingTalk, {"fakes": self}),
            (r"/cgi-bin/webhook/send", _WeCom, {"fakes": self}),
            (r"/open-apis/bot/v2/hook/([^/]+)", _Feishu, {"fakes": self}),
            (r"/sms/send", _Sms, {"fakes": self}),
        ])
        sockets = tornado.netutil.bind_sockets(self.port, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

    async def __aenter__(self) -> FakeChannels:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- checks --------------------------------------------------------------------------

    def _paced(self, kind: str, name: str) -> bool:
        now = self.clock()
        windows = self._windows.get((kind, name), [])
        # Every window must have room; only then does the message count in each.
        for w in windows:
            while w.times and w.times[0] <= now - w.span:
                w.times.popleft()
        if any(len(w.times) >= w.limit for w in windows):
            return False
        for w in windows:
            w.times.append(now)
        return True

    def _within_hour(self, timestamp: float) -> bool:
        return abs(self.clock() - timestamp) <= 3600


class _Handler(tornado.web.RequestHandler):
    fakes: FakeChannels

    def initialize(self, fakes: FakeChannels) -> None:
        self.fakes = fakes

    def check_xsrf_cookie(self) -> None:  # an API, not a form
        pass

    def _json(self) -> dict[str, Any] | None:
        try:
            body = json.loads(self.request.body or b"null")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _answer(self, payload: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(payload, ensure_ascii=False))

    def _down(self) -> bool:
        self.fakes.calls += 1
        if self.fakes.fail_next > 0:
            self.fakes.fail_next -= 1
            self._answer({"error": "bad gateway"}, 502)
            return True
        return False

    def _refuse(self, kind: str, name: str, payload: dict[str, Any]) -> None:
        self.fakes.refused.append((kind, name, json.dumps(payload, ensure_ascii=False)))
        self._answer(payload)

    def _accept(self, kind: str, name: str, body: dict[str, Any], ok: dict[str, Any]) -> None:
        headers = {k: v for k, v in self.request.headers.items()}
        self.fakes.arrivals.append(Arrival(kind, name, body, self.fakes.clock(), headers))
        if self.fakes.drop_answer_next > 0:  # taken, but the answer is lost (the client sees the line drop)
            self.fakes.drop_answer_next -= 1
            assert self.request.connection is not None
            self.request.connection.close()  # type: ignore[attr-defined]
            return
        self._answer(ok)


def _b64_hmac(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


class _DingTalk(_Handler):
    async def post(self) -> None:
        if self._down():
            return None
        token = self.get_query_argument("access_token", "")
        if ("dingtalk", token) not in self.fakes._robots:
            return self._refuse("dingtalk", token, {"errcode": 300001, "errmsg": "token is not exist"})
        secret = self.fakes._robots[("dingtalk", token)]
        if secret is not None:
            ts, sign = self.get_query_argument("timestamp", ""), self.get_query_argument("sign", "")
            # timestamp in ms, within an hour; sign = Base64(HmacSHA256(secret, timestamp + "\n" + secret))
            if not ts.isdigit() or not self.fakes._within_hour(int(ts) / 1000):
                return self._refuse("dingtalk", token, {"errcode": 310000, "errmsg": "timestamp is invalid"})
            if not hmac.compare_digest(sign, _b64_hmac(secret.encode(), f"{ts}\n{secret}".encode())):
                return self._refuse("dingtalk", token, {"errcode": 310000, "errmsg": "sign not match"})
        body = self._json()
        md = (body or {}).get("markdown") if body and body.get("msgtype") == "markdown" else None
        if not isinstance(md, dict) or not md.get("title") or not md.get("text"):
            return self._refuse("dingtalk", token, {"errcode": 40035, "errmsg": "缺少参数 markdown.title/text"})
        if not self.fakes._paced("dingtalk", token):
            return self._refuse("dingtalk", token, {"errcode": 130101,
                                                    "errmsg": "send too fast, exceed 20 times per minute"})
        self._accept("dingtalk", token, body or {}, {"errcode": 0, "errmsg": "ok"})
        return None


class _WeCom(_Handler):
    async def post(self) -> None:
        if self._down():
            return None
        key = self.get_query_argument("key", "")
        if ("wecom", key) not in self.fakes._robots:
            return self._refuse("wecom", key, {"errcode": 93000, "errmsg": "invalid webhook url"})
        body = self._json()
        md = (body or {}).get("markdown") if body and body.get("msgtype") == "markdown" else None
        if not isinstance(md, dict) or not md.get("content"):
            return self._refuse("wecom", key, {"errcode": 44004, "errmsg": "empty content"})
        if len(md["content"].encode()) > 4096:
            return self._refuse("wecom", key, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
        if not self.fakes._paced("wecom", key):
            return self._refuse("wecom", key, {"errcode": 45009, "errmsg": "api freq out of limit"})
        self._accept("wecom", key, body or {}, {"errcode": 0, "errmsg": "ok"})
        return None


class _Feishu(_Handler):
    async def post(self, hook: str) -> None:
        if self._down():
            return None
        if ("feishu", hook) not in self.fakes._robots:
            return self._refuse("feishu", hook, {"code": 19001, "msg": "param invalid: incoming webhook access "
                                                                       "token invalid"})
        body = self._json() or {}
        secret = self.fakes._robots[("feishu", hook)]
        if secret is not None:
            ts, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
            # timestamp in seconds, within an hour; sign = Base64(HmacSHA256(key=timestamp + "\n" + secret, ""))
            expected = _b64_hmac(f"{ts}\n{secret}".encode(), b"")
            if not ts.isdigit() or not self.fakes._within_hour(int(ts)) or not hmac.compare_digest(sign, expected):
                return self._refuse("feishu", hook, {"code": 19021, "msg": "sign match fail or timestamp is not "
                                                                           "within one hour from current time"})
        if body.get("msg_type") not in ("text", "post", "interactive") or not isinstance(body.get("content")
                                                                                          or body.get("card"), dict):
            return self._refuse("feishu", hook, {"code": 9499, "msg": "Bad Request"})
        if not self.fakes._paced("feishu", hook):
            return self._refuse("feishu", hook, {"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_"
                                                                       "runtime]appID[1]"})
        self._accept("feishu", hook, body, {"code": 0, "msg": "success", "data": {}})
        return None


class _Sms(_Handler):
    """A government SMS platform of the common shape: a key header, `mobile` and `content` (JSON or form)."""

    async def post(self) -> None:
        if self._down():
            return None
        if self.request.headers.get("X-Sms-Key", "") != self.fakes.sms_key:
            self.fakes.refused.append(("sms", "", "bad key"))
            return self._answer({"code": "401", "msg": "invalid key"}, 401)
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            body = self._json() or {}
        else:
            body = dict(parse_qsl(self.request.body.decode()))
        phone, content = str(body.get("mobile", "")), str(body.get("content", ""))
        if not phone.isdigit() or not content:
            return self._answer({"code": "1001", "msg": f"mobile or content missing{self.fakes.echo}"})
        if not self.fakes._paced("sms", ""):
            self.set_header("Retry-After", str(self.fakes.sms_retry_after))
            return self._answer({"code": "1008", "msg": "too many requests"}, 429)
        self._accept("sms", phone, body, {"code": "0", "msg": "ok", "data": {"id": f"sms{len(self.fakes.arrivals)}"}})
        return None
