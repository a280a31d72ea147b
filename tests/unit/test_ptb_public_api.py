"""DutyDesk uses python-telegram-bot through its public API only, so an upgrade within the pinned
major version cannot break it silently: no private module (`telegram._…`, `telegram.ext._…`), no
underscore method of PTB's classes (`Bot._post`). And the public pieces it builds on are still
there with the shapes it relies on (a PTB upgrade that changes them fails here, by name)."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

from telegram import Bot
from telegram.ext import BasePersistence, BaseRateLimiter, ExtBot
from telegram.request import BaseRequest, RequestData

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = re.compile(r"\btelegram(\.ext)?\._|\._(post|do_post|insert_defaults|request_wrapper)\(")


def test_no_private_ptb_module_or_method_is_used() -> None:
    offenders = []
    for folder in ("bot", "handlers", "storage", "reminders", "bench", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if PRIVATE.search(code) and path.name != Path(__file__).name:
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_public_interfaces_we_build_on_keep_their_shape() -> None:
    # DeskBot.call: the bot's request object and its base URL, and the rate limiter's entry point.
    assert isinstance(inspect.getattr_static(Bot, "request"), property)
    assert isinstance(inspect.getattr_static(Bot, "base_url"), property)
    assert isinstance(inspect.getattr_static(ExtBot, "rate_limiter"), property)
    assert list(inspect.signature(BaseRequest.post).parameters)[:3] == ["self", "url", "request_data"]
    assert list(inspect.signature(BaseRateLimiter.process_request).parameters) == [
        "self", "callback", "args", "kwargs", "endpoint", "data", "rate_limit_args"]
    # desk_bot.Payload subclasses RequestData (typed final: the one detail beyond PTB's documented API) and
    # overrides json_parameters; telegram_http.DeskRequest sends json_payload (built from it) or, with files,
    # json_parameters and multipart_data. A Payload must still be a RequestData that says so.
    for name in ("json_parameters", "json_payload", "multipart_data"):
        assert isinstance(inspect.getattr_static(RequestData, name), property), name
    assert "self.json_parameters" in inspect.getsource(RequestData.json_payload.fget)  # type: ignore[attr-defined]
    assert RequestData().contains_files is False
    from bot.desk_bot import Payload

    payload = Payload({"chat_id": 5, "text": "好", "parse_mode": None})
    assert isinstance(payload, RequestData) and not payload.contains_files
    assert payload.json_parameters == {"chat_id": "5", "text": "好"}
    assert json.loads(payload.json_payload) == {"chat_id": "5", "text": "好"}
    assert set(inspect.signature(BaseRequest.do_request).parameters) == {
        "self", "url", "method", "request_data", "read_timeout", "write_timeout", "connect_timeout", "pool_timeout"}
    assert {"get_conversations", "update_conversation"} <= set(BasePersistence.__abstractmethods__)
