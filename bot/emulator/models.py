"""Data model of the emulator: errors, simulated messages, stats, transcript entries.

Bot API objects travel as plain ``dict`` (exactly the JSON Telegram would send) because
that is what the HTTP layer serialises and what python-telegram-bot's ``de_json`` consumes;
the dataclasses here are the *test-facing* views on top of those dicts.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]


class ApiError(Exception):
    """A Bot API error answer (``{"ok": false, ...}``) raised inside a method handler."""

    def __init__(self, code: int, description: str, retry_after: int | None = None,
                 migrate_to_chat_id: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def to_json(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        params = {k: v for k, v in (("retry_after", self.retry_after), ("migrate_to_chat_id", self.migrate_to_chat_id))
                  if v is not None}
        if params:
            body["parameters"] = params
        return body


class RawJson(str):
    """A method result that is already serialised JSON (getUpdates' update list)."""


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets/lengths in UTF-16 code units."""
    # Fast path: BMP-only strings (the vast majority, including CJK) are 1 unit per char.
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


@dataclass(eq=False)
class SimMessage:
    """One message in a simulated chat, as a test sees it.

    ``raw`` is the current Bot API ``Message`` JSON (kept in sync on edits) - it is what
    the bot receives inside ``callback_query.message`` or ``reply_to_message``.
    ``text`` is what a human would read: for HTML it is the tag-stripped text, for media
    messages it is the caption.
    """

    chat_id: int
    message_id: int
    kind: str  # "text", "location", "photo", "document", "sticker", "contact"
    from_bot: bool
    sender_id: int
    raw: JSONDict
    text: str | None = None
    source_text: str | None = None  # text/caption exactly as the bot sent it (with markup)
    parse_mode: str | None = None
    reply_markup: JSONDict | None = None  # any markup kind, as sent (reply keyboards too)
    reply_to_message_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    file_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    silent: bool = False
    pinned: bool = False
    deleted: bool = False
    date: float = field(default_factory=time.time)
    # One entry per successful edit: the state *after* that edit.
    edits: list[JSONDict] = field(default_factory=list)

    @property
    def caption(self) -> str | None:
        return self.text if self.kind != "text" else None

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline keyboard buttons, flattened row by row, as ``(text, callback_data)``."""
        markup = self.reply_markup or {}
        return [
            (b.get("text", ""), b.get("callback_data"))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    @property
    def button_rows(self) -> list[list[tuple[str, str | None]]]:
        markup = self.reply_markup or {}
        return [
            [(b.get("text", ""), b.get("callback_data")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]

    @property
    def keyboard(self) -> list[str]:
        """Reply keyboard button texts (flattened); empty for inline/no keyboards."""
        markup = self.reply_markup or {}
        return [
            b if isinstance(b, str) else b.get("text", "")
            for row in markup.get("keyboard", [])
            for b in row
        ]

    @property
    def removes_keyboard(self) -> bool:
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    def find_button(self, *, text: str | None = None, data: str | None = None) -> JSONDict:
        """Locate an inline button by exact callback_data, exact text, or unique text substring."""
        markup = self.reply_markup or {}
        flat: list[JSONDict] = [b for row in markup.get("inline_keyboard", []) for b in row]
        candidates: list[JSONDict]
        if data is not None:
            candidates = [b for b in flat if b.get("callback_data") == data]
            if text is not None:
                candidates = [b for b in candidates if text in b.get("text", "")]
            if candidates:
                return candidates[0]
        elif text is not None:
            exact = [b for b in flat if b.get("text") == text]
            if exact:
                return exact[0]
            candidates = [b for b in flat if text in b.get("text", "")]
            if len(candidates) == 1:
                return candidates[0]
        else:
            candidates = flat
            if len(flat) == 1:
                return flat[0]
        wanted = " and ".join(
            f"{k}={v!r}" for k, v in (("text", text), ("data", data)) if v is not None
        ) or "<any>"
        available = ", ".join(f"{b.get('text')!r}->{b.get('callback_data')!r}" for b in flat)
        reason = "is ambiguous" if candidates else "not found"
        raise LookupError(
            f"inline button {wanted} {reason} on message #{self.message_id} in chat "
            f"{self.chat_id} (text: {_short(self.text)!r}); buttons: [{available or 'none'}]"
        )

    def summary(self) -> str:
        """One-line human readable rendering used by transcripts and error messages."""
        if self.kind == "text":
            body = self.text or ""
        elif self.kind == "location":
            body = f"📍 {self.latitude},{self.longitude}"
        elif self.kind == "document":
            body = f"[document {self.file_name}]" + (f" {self.text}" if self.text else "")
        else:
            body = f"[{self.kind}]" + (f" {self.text}" if self.text else "")
        if self.buttons:
            body += "  " + " ".join(f"[{t}]" for t, _ in self.buttons)
        if self.keyboard:
            body += "  ⌨ " + " | ".join(self.keyboard)
        if self.removes_keyboard:
            body += "  ⌨✗"
        return body

    def to_dict(self) -> JSONDict:
        """JSON-friendly view for the HTTP control API."""
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "kind": self.kind,
            "from_bot": self.from_bot,
            "text": self.text,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "buttons": [list(b) for b in self.buttons],
            "keyboard": self.keyboard,
            "reply_to_message_id": self.reply_to_message_id,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "pinned": self.pinned,
            "deleted": self.deleted,
            "edits": self.edits,
            "date": self.date,
        }

    def __repr__(self) -> str:
        flags = "".join(
            f" {n}" for n, on in (("pinned", self.pinned), ("deleted", self.deleted)) if on
        )
        who = "bot" if self.from_bot else f"user {self.sender_id}"
        return f"<SimMessage #{self.message_id} chat={self.chat_id} {who}{flags}: {_short(self.summary(), 80)!r}>"


def _short(text: str | None, limit: int = 60) -> str:
    if text is None:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class TranscriptEntry:
    time: float  # seconds since the emulator started
    actor: int | str  # user id, or "bot"
    chat_id: int
    direction: str  # "→bot" or "bot→"
    summary: str  # one line for developers (format_transcript): button data, message ids, "(ack)"
    # What happened, for renderings other than `summary` (the demo's story, bot/demo_scenes/story.py):
    event: str = "message"  # message | edit | press | answer | pin | unpin | delete | service | fault | error
    message: SimMessage | None = None  # the message as it read at that moment (message, edit, press, pin)
    detail: str | None = None  # press: the button's text (None: forged data); answer: its text; fault/error
    alert: bool = False  # answer: shown as an alert rather than a toast

    # Allow tuple-style unpacking: ``for t, actor, chat, direction, text in emu.transcript``.
    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.time, self.actor, self.chat_id, self.direction, self.summary))


@dataclass
class EmulatorStats:
    requests: Counter[str] = field(default_factory=Counter)  # per Bot API method
    rate_limited: int = 0  # 429s from the RateLimits model
    faults: Counter[str] = field(default_factory=Counter)  # injected faults per kind
    updates_enqueued: int = 0
    updates_confirmed: int = 0  # confirmed by getUpdates offset or acknowledged by webhook
    webhook_deliveries: int = 0
    webhook_failures: int = 0
    messages_sent: int = 0  # messages the bot successfully delivered (all chats)
    errors: Counter[int] = field(default_factory=Counter)  # answers per HTTP error code

    @property
    def methods(self) -> Counter[str]:
        """Alias of ``requests``: per-method request counts."""
        return self.requests

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def as_dict(self) -> JSONDict:
        return {
            "requests": dict(self.requests),
            "total_requests": self.total_requests,
            "rate_limited": self.rate_limited,
            "faults": dict(self.faults),
            "faults_injected": self.faults_injected,
            "updates_enqueued": self.updates_enqueued,
            "updates_confirmed": self.updates_confirmed,
            "webhook_deliveries": self.webhook_deliveries,
            "webhook_failures": self.webhook_failures,
            "messages_sent": self.messages_sent,
            "errors": {str(k): v for k, v in self.errors.items()},
        }


@dataclass
class FileRecord:
    """A file known to the emulated server (uploaded by the bot or sent by a user)."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    kind: str  # "photo", "document", "sticker"
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    def photo_size_json(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width or 0,
            "height": self.height or 0,
            "file_size": len(self.content),
        }

    def document_json(self) -> JSONDict:
        doc: JSONDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def file_json(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }
