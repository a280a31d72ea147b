"""Simulated people and groups: the in-process control API used by tests and the demo."""

from __future__ import annotations

import mimetypes
import re
from typing import TYPE_CHECKING, Any

from .models import JSONDict, SimMessage, utf16_len

if TYPE_CHECKING:
    from .emulator import BotApiEmulator, CallbackAnswer, ChatState, Matcher

# Telegram clients turn every "/command" (optionally "@botname") into a bot_command entity.
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")

class SimUser:
    """A person talking to the bot.  Private chat id == user id.

    Every ``send_*``/``press`` call enqueues exactly one Update and moves this user's
    "read cursor" for that chat, so the next :meth:`wait_for` only looks at newer messages.
    """

    def __init__(
        self,
        emu: BotApiEmulator,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str | None,
        last_name: str | None = None,
    ) -> None:
        self.emu = emu
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = False  # has the user ever written to the bot (private chat exists)?
        self.blocked = False
        self.callback_answers: list[CallbackAnswer] = []
        self._cursor: dict[int, int] = {}  # chat id -> index into chat.bot_messages
        self.json: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            self.json["last_name"] = last_name
        if username:
            self.json["username"] = username
        if language_code:
            self.json["language_code"] = language_code

    def __repr__(self) -> str:
        return f"<SimUser {self.id} {self.first_name!r}>"

    @property
    def chat_id(self) -> int:
        return self.id

    # ------------------------------------------------------------------ helpers

    def _chat(self, chat: Any = None) -> ChatState:
        if chat is None:
            chat_id = self.id
        elif isinstance(chat, (SimGroup, SimUser)):
            chat_id = chat.chat_id
        else:
            chat_id = int(chat)
        state = self.emu._chats.get(chat_id)
        if state is None:
            raise KeyError(f"unknown chat {chat_id}")
        if state.type != "private" and self.id not in state.members:
            state.members[self.id] = "member"  # speaking in a group implies membership
        return state

    def _mark(self, chat: ChatState) -> None:
        self._cursor[chat.id] = len(chat.bot_messages)

    def _send(self, chat: ChatState, kind: str, content: JSONDict, **kw: Any) -> JSONDict:
        self._mark(chat)
        return self.emu._user_message(self, chat, kind, content, **kw)

    # ------------------------------------------------------------------ actions

    async def send_text(self, text: str, chat: Any = None, *, reply_to: int | None = None) -> JSONDict:
        """Send a text message; "/commands" in it get bot_command entities like a real client."""
        state = self._chat(chat)
        content: JSONDict = {"text": text}
        entities = _command_entities(text)
        if entities:
            content["entities"] = entities
        return self._send(state, "text", content, text=text, reply_to=reply_to)

    async def send_command(
        self, command: str, arg: str | None = None, chat: Any = None, *, mention: bool = False
    ) -> JSONDict:
        """``send_command("/start", "CODE")`` -> "/start CODE" with a bot_command entity.

        ``mention=True`` writes "/cmd@botname" as clients do in groups.
        """
        cmd = command if command.startswith("/") else "/" + command
        if mention and "@" not in cmd:
            cmd += "@" + self.emu.bot_username
        text = cmd if arg is None or arg == "" else f"{cmd} {arg}"
        state = self._chat(chat)
        content: JSONDict = {
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": utf16_len(cmd)}],
        }
        return self._send(state, "text", content, text=text)

    async def send_location(self, lat: float, lon: float, chat: Any = None) -> JSONDict:
        state = self._chat(chat)
        content = {"location": {"latitude": lat, "longitude": lon}}
        return self._send(state, "location", content, latitude=lat, longitude=lon)

    async def share_location(self, lat: float, lon: float, chat: Any = None) -> JSONDict:
        """Tap the reply-keyboard button with ``request_location`` (must be on screen)."""
        state = self._chat(chat)
        buttons = _keyboard_buttons(state.keyboard)
        if not any(isinstance(b, dict) and b.get("request_location") for b in buttons):
            raise LookupError(
                f"{self.first_name}: no request_location button on the current reply keyboard "
                f"(keyboard: {_keyboard_texts(state.keyboard) or 'none'}); "
                "use send_location() to send a location without a button"
            )
        self._after_keyboard_tap(state)
        return await self.send_location(lat, lon, chat)

    async def send_photo(
        self,
        caption: str | None = None,
        chat: Any = None,
        *,
        content: bytes | None = None,
        width: int = 1280,
        height: int = 960,
    ) -> JSONDict:
        state = self._chat(chat)
        sizes = self.emu._new_photo(content, width, height)
        body: JSONDict = {"photo": [s.photo_size_json() for s in sizes]}
        if caption:
            body["caption"] = caption
        return self._send(state, "photo", body, text=caption, file_id=sizes[-1].file_id)

    async def send_document(
        self,
        file_name: str,
        caption: str | None = None,
        mime_type: str | None = None,
        chat: Any = None,
        *,
        content: bytes | None = None,
    ) -> JSONDict:
        state = self._chat(chat)
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        data = content if content is not None else f"emulated content of {file_name}\n".encode()
        rec = self.emu._new_file("document", data, file_name=file_name, mime_type=mime)
        body: JSONDict = {"document": rec.document_json()}
        if caption:
            body["caption"] = caption
        return self._send(
            state, "document", body, text=caption, file_id=rec.file_id, file_name=file_name, mime_type=mime
        )

    async def send_sticker(self, emoji: str = "👍", chat: Any = None) -> JSONDict:
        state = self._chat(chat)
        rec = self.emu._new_file("sticker", b"RIFF\x00\x00\x00\x00WEBP", width=512, height=512)
        sticker = {
            "file_id": rec.file_id,
            "file_unique_id": rec.file_unique_id,
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
        }
        return self._send(state, "sticker", {"sticker": sticker}, file_id=rec.file_id, summary=f"[sticker {emoji}]")

    async def send_contact(
        self,
        phone_number: str = "+8613800000000",
        first_name: str | None = None,
        last_name: str | None = None,
        *,
        own: bool = True,
        chat: Any = None,
    ) -> JSONDict:
        """Share a contact; ``own=True`` (like the request_contact button) sets user_id."""
        state = self._chat(chat)
        contact: JSONDict = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        if last_name:
            contact["last_name"] = last_name
        if own:
            contact["user_id"] = self.id
        return self._send(state, "contact", {"contact": contact}, summary=f"[contact {phone_number}]")

    async def reply_button(self, text: str, chat: Any = None) -> JSONDict:
        """Tap a button of the reply keyboard currently shown in the chat."""
        state = self._chat(chat)
        for b in _keyboard_buttons(state.keyboard):
            b_text = b if isinstance(b, str) else b.get("text")
            if b_text != text:
                continue
            if isinstance(b, dict) and b.get("request_location"):
                raise ValueError(f"button {text!r} requests a location: use share_location(lat, lon)")
            if isinstance(b, dict) and b.get("request_contact"):
                self._after_keyboard_tap(state)
                return await self.send_contact(own=True, chat=chat)
            self._after_keyboard_tap(state)
            return await self.send_text(text, chat)
        raise LookupError(
            f"{self.first_name}: no reply-keyboard button {text!r} in chat {state.id}; "
            f"current keyboard: {_keyboard_texts(state.keyboard) or 'none'}"
        )

    def _after_keyboard_tap(self, state: ChatState) -> None:
        if state.keyboard and state.keyboard.get("one_time_keyboard"):
            state.keyboard = None

    async def press(
        self,
        message: SimMessage | int,
        *,
        text: str | None = None,
        data: str | None = None,
        chat: Any = None,
    ) -> JSONDict:
        """Press an inline button (by visible text and/or callback_data) on a bot message.

        ``message`` is a :class:`SimMessage` or a message id in ``chat`` (default: the
        private chat).  With neither ``text`` nor ``data`` the message must have one button.
        """
        if isinstance(message, SimMessage):
            state = self._chat(message.chat_id)
            mid = message.message_id
        else:
            state = self._chat(chat)
            mid = int(message)
        msg = state.by_id.get(mid)
        if msg is None or not msg.from_bot:
            raise LookupError(f"{self.first_name}: no bot message #{mid} in chat {state.id}")
        if msg.deleted:
            raise LookupError(f"{self.first_name}: message #{mid} in chat {state.id} was deleted")
        button = msg.find_button(text=text, data=data)
        if "callback_data" not in button:
            raise LookupError(
                f"button {button.get('text')!r} on message #{mid} is not a callback button: {button}"
            )
        return self._callback(state, msg, button["callback_data"], label=button.get("text"))

    async def press_raw(self, data: str, message_id: int, chat: Any = None) -> JSONDict:
        """Forge a callback query with arbitrary data (as a malicious client could)."""
        state = self._chat(chat)
        msg = state.by_id.get(message_id)
        if msg is None:
            raise LookupError(f"no message #{message_id} in chat {state.id}")
        return self._callback(state, msg, data, label=None)

    def _callback(self, state: ChatState, msg: SimMessage, data: str, label: str | None) -> JSONDict:
        from .emulator import CallbackRecord

        emu = self.emu
        emu._callback_seq += 1
        qid = f"{self.id}{emu._callback_seq:010d}"
        query: JSONDict = {
            "id": qid,
            "from": self.json,
            "message": msg.raw,
            "chat_instance": str(-abs(state.id) * 7919 - 13),
            "data": data,
        }
        emu._callbacks[qid] = CallbackRecord(qid, self, state.id, msg.message_id, data)
        self._mark(state)
        what = f"[{label}]" if label is not None else "(forged)"
        emu._log(self.id, state.id, "→bot", f"⟦press {what} data={data!r} on #{msg.message_id}⟧", event="press",
                 message=msg, detail=label)
        emu._enqueue_update("callback_query", query, state.id)
        return query

    def block(self) -> None:
        """Block the bot: further sends to this user get 403 Forbidden."""
        self.blocked = True

    def unblock(self) -> None:
        self.blocked = False

    # ------------------------------------------------------------------ reading

    @property
    def inbox(self) -> list[SimMessage]:
        """The bot's (not deleted) messages in this user's private chat, oldest first."""
        return self.emu.messages(self.id)

    @property
    def last(self) -> SimMessage | None:
        chat = self.emu._chats.get(self.id)
        if chat is None:
            return None
        for m in reversed(chat.bot_messages):
            if not m.deleted:
                return m
        return None

    @property
    def keyboard(self) -> list[str]:
        """Texts of the reply keyboard currently shown in the private chat."""
        chat = self.emu._chats.get(self.id)
        return _keyboard_texts(chat.keyboard if chat else None)

    @property
    def last_answer(self) -> CallbackAnswer | None:
        return self.callback_answers[-1] if self.callback_answers else None

    async def wait_for(
        self, match: Matcher = None, timeout: float = 5.0, chat: Any = None
    ) -> SimMessage:
        """First *new* bot message (since this user's last action/wait) matching ``match``.

        ``match``: substring of the visible text, a compiled regex, a predicate on
        :class:`SimMessage`, or ``None`` for any message.
        """
        state = self._chat(chat)
        start = self._cursor.get(state.id, 0)
        idx, msg = await self.emu._wait_message(state, start, match, timeout, f"{self.first_name} ({self.id})")
        self._cursor[state.id] = idx
        return msg

    async def wait_for_answer(self, timeout: float = 5.0) -> CallbackAnswer:
        """Wait until the bot answers this user's latest callback query."""
        seen = len(self.callback_answers)
        try:  # the answer is a bot request: looked at again as each one arrives
            await self.emu.wait_until(lambda: len(self.callback_answers) != seen, timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.first_name}: no answerCallbackQuery within {timeout}s\n"
                               + self.emu._recent_transcript()) from None
        return self.callback_answers[-1]


class SimGroup:
    """A group chat the bot is a member of."""

    def __init__(self, emu: BotApiEmulator, state: ChatState) -> None:
        self.emu = emu
        self._state = state

    def __repr__(self) -> str:
        return f"<SimGroup {self.id} {self.title!r}>"

    @property
    def id(self) -> int:
        return self._state.id

    @property
    def chat_id(self) -> int:
        return self._state.id

    @property
    def title(self) -> str:
        return self._state.title

    def add(self, member: SimUser | int, status: str = "member") -> None:
        uid = member.id if isinstance(member, SimUser) else int(member)
        self._state.members[uid] = status

    def remove(self, member: SimUser | int) -> None:
        uid = member.id if isinstance(member, SimUser) else int(member)
        self._state.members[uid] = "left"

    def set_admin(self, member: SimUser | int, owner: bool = False) -> None:
        self.add(member, "creator" if owner else "administrator")

    @property
    def members(self) -> dict[int, str]:
        return dict(self._state.members)

    @property
    def messages(self) -> list[SimMessage]:
        return self.emu.messages(self.id)

    @property
    def last(self) -> SimMessage | None:
        msgs = self.messages
        return msgs[-1] if msgs else None

    @property
    def pinned(self) -> list[SimMessage]:
        return [m for m in self.messages if m.pinned]


def _command_entities(text: str) -> list[JSONDict]:
    ents: list[JSONDict] = []
    for m in _COMMAND_RE.finditer(text):
        ents.append(
            {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
        )
    return ents


def _keyboard_buttons(markup: JSONDict | None) -> list[Any]:
    if not markup:
        return []
    return [b for row in markup.get("keyboard", []) for b in row]


def _keyboard_texts(markup: JSONDict | None) -> list[str]:
    return [b if isinstance(b, str) else b.get("text", "") for b in _keyboard_buttons(markup)]
