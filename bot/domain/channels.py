"""Channels besides Telegram, as plain rules: the group robots' signatures, payloads and answers
(DingTalk custom robot, WeCom group robot, Feishu custom bot), the SMS gateway's body template and
success test, each platform's pace, and a phone number as it may be shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import string
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.domain.parse import normalise

ROBOT_KINDS = ("dingtalk", "wecom", "feishu")
ROBOT_EVENTS = ("incident", "escalation", "failover", "breach", "notice", "bulletin")
DETAILS = ("summary", "full")
SMS_PLACEHOLDERS = ("phone", "text", "number", "secret")

# Documented limits: DingTalk and WeCom robots 20 messages a minute, Feishu bots 100 a minute and 5 a second.
LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    "dingtalk": ((20, 60.0),), "wecom": ((20, 60.0),), "feishu": ((100, 60.0), (5, 1.0)),
}
# The answer codes that mean "too many, later": DingTalk 130101, WeCom 45009, Feishu 11232.
RATE_LIMITED = {"dingtalk": {130101}, "wecom": {45009}, "feishu": {11232, 9499}}


# What a message may weigh, UTF-8 bytes: WeCom's markdown.content 4096; DingTalk and Feishu take ~20 KB bodies.
MAX_BYTES = {"dingtalk": 18_000, "wecom": 4096, "feishu": 18_000}


def clip_bytes(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-8 bytes on a character boundary, "…" marking the cut."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit - len("…".encode())].decode(errors="ignore") + "…"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """加签: HMAC-SHA256 keyed with the secret over "timestamp\\nsecret", Base64 (the URL encoding is the client's)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: HMAC-SHA256 keyed with "timestamp\\nsecret" over nothing, Base64."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class RobotRequest:
    params: dict[str, str]  # added to the webhook's query string
    body: dict[str, Any]


def robot_request(kind: str, title: str, text: str, secret: str, now: float) -> RobotRequest:
    """The POST a robot of `kind` takes for a markdown message `text` (headed `title`) at `now` (epoch s);
    a text too long for the platform is cut rather than refused."""
    text = clip_bytes(text, MAX_BYTES.get(kind, 4096))
    if kind == "dingtalk":
        params: dict[str, str] = {}
        if secret:
            ms = int(now * 1000)
            params = {"timestamp": str(ms), "sign": dingtalk_sign(secret, ms)}
        return RobotRequest(params, {"msgtype": "markdown", "markdown": {"title": title, "text": text}})
    if kind == "wecom":
        return RobotRequest({}, {"msgtype": "markdown", "markdown": {"content": text}})
    if kind == "feishu":
        title, lines = feishu_lines(title, text)
        body: dict[str, Any] = {"msg_type": "post", "content": {"post": {"zh_cn": {
            "title": title, "content": [[{"tag": "text", "text": line}] for line in lines]}}}}
        if secret:
            sec = int(now)
            body = {"timestamp": str(sec), "sign": feishu_sign(secret, sec), **body}
        return RobotRequest({}, body)
    raise ValueError(f"unknown robot kind {kind!r}")


# Robot texts are markdown: the catalog's markers (`### `, `**`, `- `) around typed values that went
# through `neutralise` first, so a description, place, title or name can add no link, image,
# heading, list, HTML or mention of its own.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~<>])")
# `-` `+` `=` are markup only starting a line (a list item) or in a run (a rule, a setext heading):
# "2026-0007" stays as it is.
_MD_LINE_MARK = re.compile(r"^[ \t]*[-+=]|[-+=]{2,}", re.MULTILINE)
_LINE_BREAK = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_FULL_WIDTH = str.maketrans({"<": "＜", ">": "＞"})


def escape_markdown(text: str) -> str:
    """Every markdown special backslash-escaped: shown as typed, never read as markup."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_MARK.sub(lambda m: re.sub(r"([-+=])", r"\\\1", m.group()), text)


def one_line(value: str) -> str:
    """A typed value on one line: what a robot message's title (plain text on every platform) takes."""
    return _LINE_BREAK.sub(" ", value)


def neutralise(kind: str, value: str) -> str:
    """A typed value as it may enter a robot message of `kind`: on one line (a newline could start a
    heading or a list), markdown specials escaped (DingTalk and WeCom render them; Feishu's renderer
    tells them from the catalog's markers by the escape), and for WeCom (whose markdown takes
    `<font>` and `<@userid>`) and DingTalk (which takes `<font>`) `<` `>` made full-width."""
    if kind not in ROBOT_KINDS:
        raise ValueError(f"unknown robot kind {kind!r}")
    value = one_line(value)
    if kind in ("wecom", "dingtalk"):
        value = value.translate(_FULL_WIDTH)
    return escape_markdown(value)


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_ESCAPE_OR_BOLD = re.compile(r"\\(.)|\*\*")


def _unmark(line: str) -> str:
    """One line of robot markdown as plain text: heading marks and `**` dropped, escapes read back
    (in one pass left to right, so an escaped `*` is never half of a marker)."""
    return _ESCAPE_OR_BOLD.sub(lambda m: m.group(1) or "", _HEADING.sub("", line)).strip()


def feishu_lines(title: str, text: str) -> tuple[str, list[str]]:
    """Robot markdown for a Feishu `post`, whose text tags show markers as typed: the title from
    the first line when it is a heading (else `title`), every line without markers."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and _HEADING.match(lines[0]):
        title, lines = _unmark(lines[0]), lines[1:]
    return title, [_unmark(line) for line in lines]


def robot_outcome(kind: str, status: int, answer: Any) -> tuple[str, str]:
    """("ok" | "later" (rate limited) | "retry" (5xx) | "fatal", what the platform said)."""
    if status >= 500:
        return "retry", f"HTTP {status}"
    if not isinstance(answer, dict):
        return ("retry" if status == 429 else "fatal"), f"HTTP {status}: not JSON"
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    message = str(answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", ""))))
    if code in RATE_LIMITED.get(kind, ()) or status == 429:
        return "later", f"{code} {message}"
    if status >= 400 or code not in (0, None):
        return "fatal", f"{code} {message}".strip()
    return "ok", ""


class Pacer:
    """Sliding windows (count per seconds) on one clock: how long until one more may go."""

    def __init__(self, windows: tuple[tuple[int, float], ...]) -> None:
        self.windows = windows
        self._sent: deque[float] = deque()
        self._held_until = 0.0

    def wait(self, now: float) -> float:
        longest = max((span for _n, span in self.windows), default=0.0)
        while self._sent and self._sent[0] <= now - longest:
            self._sent.popleft()
        waits = [0.0, self._held_until - now]
        for limit, span in self.windows:
            recent = [t for t in self._sent if t > now - span]
            if len(recent) >= limit:
                waits.append(recent[-limit] + span - now)
        return max(waits)

    def take(self, now: float) -> None:
        self._sent.append(now)

    def hold(self, now: float, span: float) -> None:
        """The platform said "too many": nothing more for `span` seconds (its window, or Retry-After)."""
        self._held_until = max(self._held_until, now + span)


def retry_after(value: str | None, default: float = 60.0) -> float:
    """A Retry-After header in seconds (1 s … 1 h); `default` when absent or not a number of seconds."""
    try:
        seconds = float(value) if value is not None else default
    except ValueError:
        seconds = default
    return min(3600.0, max(1.0, seconds)) if seconds == seconds else default


def placeholders(template: str) -> list[str]:
    """The {names} a template uses; ValueError for a malformed one."""
    return [name for _lit, name, _spec, _conv in string.Formatter().parse(template) if name is not None]


def check_template(template: str, allowed: tuple[str, ...] = SMS_PLACEHOLDERS) -> None:
    for name in placeholders(template):
        if name not in allowed:
            raise ValueError(f"unknown placeholder {{{name}}}; use {', '.join('{' + a + '}' for a in allowed)}")


def render_body(template: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    """Each field of the SMS body template with its placeholders filled (JSON or form: the sender encodes)."""
    return {key: value.format_map(values) for key, value in template.items()}


def field_value(answer: Any, path: str) -> Any:
    """`result.code` of a JSON answer (None when absent)."""
    for part in path.split("."):
        if isinstance(answer, list) and part.isdigit() and int(part) < len(answer):
            answer = answer[int(part)]
        elif isinstance(answer, dict) and part in answer:
            answer = answer[part]
        else:
            return None
    return answer


def sms_succeeded(status: int, answer: Any, success_field: str, success_value: str) -> bool:
    """The gateway's own test of success: HTTP 2xx and, when configured, a field holding a value."""
    if not 200 <= status < 300:
        return False
    if not success_field:
        return True
    value = field_value(answer, success_field)
    if isinstance(value, bool):
        value = str(value).lower()
    return value is not None and str(value) == success_value


_PHONE_RE = re.compile(r"\+?[0-9]{6,15}", re.ASCII)


def normalise_phone(text: str) -> str:
    """"138 0000 1234" / "138-0000-1234" / "１３８ ００００ １２３４" → "13800001234" (ASCII digits only,
    read by parse.normalise's digit rules: superscript or circled digits are refused); ValueError else."""
    phone = re.sub(r"[\s\-()]", "", normalise(text))
    if not _PHONE_RE.fullmatch(phone):
        raise ValueError(f"not a phone number: {text!r}")
    return phone


def mask_phone(phone: str | None) -> str:
    """What logs and non-admins may see: the first three and last four digits at most."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def url_tokens(url: str) -> list[str]:
    """The credentials a robot's webhook URL carries: its query values (DingTalk `access_token`, WeCom
    `key`) and a Feishu hook's id (the path's last part). Short values are not secrets (`v=2`)."""
    parts = urlsplit(url)
    found = [v for _k, v in parse_qsl(parts.query) if len(v) >= 8]
    last = parts.path.rstrip("/").rpartition("/")[2]
    if "/hook/" in parts.path and len(last) >= 8:
        found.append(last)
    return found
