"""``BotApiEmulator``: the state of the emulated Telegram server and its test-facing API.

Everything runs on the caller's event loop; there are no threads and no locks.  The HTTP
plumbing lives in :mod:`.server`, Bot API method bodies in :mod:`.api`, simulated people in
:mod:`.control`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .control import SimGroup, SimUser
from .limits import FAULT_KINDS, Faults, ForcedFault, RateLimiter, RateLimits
from .models import (
    EmulatorStats,
    FileRecord,
    JSONDict,
    SimMessage,
    TranscriptEntry,
)

if TYPE_CHECKING:
    from .server import EmulatorServer
    from .webhook import WebhookDeliverer

# A 1x1 transparent PNG: "some bytes" that image libraries can actually open.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc33000000"
    "0049454e44ae426082"
)

Matcher = str | re.Pattern[str] | Callable[[SimMessage], bool] | None


class ChatState:
    """One chat (private or group) with its message history and per-chat UI state."""

    def __init__(self, chat_id: int, chat_type: str, json_obj: JSONDict) -> None:
        self.id = chat_id
        self.type = chat_type
        self.json = json_obj  # the ``Chat`` object embedded in every message
        self.next_message_id = 1
        self.by_id: dict[int, SimMessage] = {}
        self.all_messages: list[SimMessage] = []
        self.bot_messages: list[SimMessage] = []
        self.keyboard: JSONDict | None = None  # reply keyboard currently shown
        self.waiters: list[asyncio.Future[None]] = []
        self.sent = 0
        self.user: SimUser | None = None  # private chats
        self.group: SimGroup | None = None  # groups
        self.members: dict[int, str] = {}  # user id -> ChatMember status (groups)
        self.bot_admin = False
        self.bot_can_pin = False
        self.pinned: list[int] = []
        self.migrated_to: int | None = None  # a group upgraded to this supergroup

    @property
    def title(self) -> str:
        return str(self.json.get("title") or self.json.get("first_name") or self.id)

    def wake(self) -> None:
        if self.waiters:
            for fut in self.waiters:
                if not fut.done():
                    fut.set_result(None)
            self.waiters.clear()


@dataclass
class CallbackRecord:
    query_id: str
    user: SimUser
    chat_id: int
    message_id: int
    data: str | None
    answered: bool = False


@dataclass
class CallbackAnswer:
    """What the bot answered to a button press (``answerCallbackQuery``)."""

    query_id: str
    data: str | None
    message_id: int
    text: str | None
    show_alert: bool
    url: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


class BotApiEmulator:
    """A local Telegram Bot API server plus simulated users, for tests and demos.

    >>> async with BotApiEmulator() as emu:
    ...     app = Application.builder().token(emu.token).base_url(emu.base_url)...
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "dutydesk_bot",
        rate_limits: RateLimits | None = None,
        faults: Faults | None = None,
        *,
        bot_name: str = "DutyDesk",
        record_transcript: bool = True,
    ) -> None:
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123456
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.faults: Faults | None = faults
        self._rate_limits: RateLimits | None = None
        self._limiter: RateLimiter | None = None
        self.rate_limits = rate_limits
        self.refuse_set_my_commands = False
        self.record_transcript = record_transcript
        self.stats = EmulatorStats()
        self.transcript: list[TranscriptEntry] = []

        self.bot_user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self._t0 = time.monotonic()
        # Telegram's server clock, which stamps every message's `date` (seconds since the epoch);
        # tests point it at their FakeClock, so a message sent "while the bot was down" has its date.
        self.clock: Callable[[], float] = time.time
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._chats: dict[int, ChatState] = {}
        # Pending updates as (update_id, pre-serialised JSON, chat id); confirmed ones are
        # popped from the left, so the queue only ever holds the unconfirmed backlog.
        self._updates: deque[tuple[int, str, int]] = deque()
        self._next_update_id = 1
        self._poller: asyncio.Future[str] | None = None  # the pending long poll
        self.webhook: WebhookConfig | None = None
        self._deliverer: WebhookDeliverer | None = None
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self._files: dict[str, FileRecord] = {}
        self._files_by_path: dict[str, FileRecord] = {}
        self._photo_sets: dict[str, list[FileRecord]] = {}
        self._file_seq = 0
        self._callbacks: dict[str, CallbackRecord] = {}
        self._callback_seq = 0
        self._forced: list[ForcedFault] = []
        self._inflight = 0
        self._last_activity = time.monotonic()
        self.activity = 0  # bot requests seen so far (`settled` compares it across its checks)
        self._moved = asyncio.Event()  # set at each bot request (`wait_moved`)
        # The seconds the opt-in flood limits count: the test harness points it at the outbox's
        # pace (bot/pace.py), so a pacer that skips its waits is judged on the same timeline.
        self.limits_clock: Callable[[], float] = time.monotonic
        self._server: EmulatorServer | None = None
        self.host = "127.0.0.1"
        self.port = 0

        from .api import BotApi  # local import: api depends on this module's types

        self.api = BotApi(self)

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> BotApiEmulator:
        from .server import EmulatorServer

        self._server = EmulatorServer(self)
        self.host = host
        self.port = await self._server.listen(host, port)
        self._t0 = time.monotonic()
        self._last_activity = self._t0
        return self

    async def stop(self) -> None:
        if self._poller is not None and not self._poller.done():
            self._poller.set_result("stop")
        if self._deliverer is not None:
            await self._deliverer.stop()
            self._deliverer = None
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def __aenter__(self) -> BotApiEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url`` (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.port}/_control"

    # ------------------------------------------------------------------ configuration

    @property
    def rate_limits(self) -> RateLimits | None:
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, value: RateLimits | None) -> None:
        self._rate_limits = value
        self._limiter = RateLimiter(value) if value is not None else None

    def fail_next(
        self, kind: str, count: int = 1, methods: Iterable[str] | None = None
    ) -> None:
        """Force the next ``count`` matching requests to fail with ``kind`` (deterministic)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; valid: {FAULT_KINDS}")
        self._forced.append(
            ForcedFault(kind, frozenset(methods) if methods is not None else None, count)
        )

    def _draw_fault(self, method: str) -> str | None:
        for forced in self._forced:
            if forced.applies_to(method):
                forced.remaining -= 1
                if forced.remaining <= 0:
                    self._forced.remove(forced)
                return forced.kind
        if self.faults is not None:
            return self.faults.draw(method)
        return None

    # ------------------------------------------------------------------ people and chats

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str = "zh-hans",
        *,
        last_name: str | None = None,
        started: bool = False,
    ) -> SimUser:
        """Return the simulated user ``user_id`` (created once; later calls return it).

        ``started=True`` pretends the user already opened the private chat with the bot,
        so the bot may message them before they write anything.
        """
        existing = self._users.get(user_id)
        if existing is not None:
            if started:
                existing.started = True
            return existing
        if user_id <= 0:
            raise ValueError("user ids must be positive")
        user = SimUser(self, user_id, first_name, username, language_code, last_name)
        user.started = started
        self._users[user_id] = user
        chat_json: JSONDict = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat_json["last_name"] = last_name
        if username:
            chat_json["username"] = username
        chat = ChatState(user_id, "private", chat_json)
        chat.user = user
        self._chats[user_id] = chat
        return user

    def group(
        self,
        chat_id: int,
        title: str,
        members: Iterable[SimUser | int] = (),
        *,
        username: str | None = None,
    ) -> SimGroup:
        """Return the group ``chat_id`` (negative; <= -10**12 makes it a supergroup)."""
        existing = self._groups.get(chat_id)
        if existing is not None:
            for m in members:
                existing.add(m)
            return existing
        if chat_id >= 0:
            raise ValueError("group chat ids must be negative")
        chat_type = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        chat_json: JSONDict = {"id": chat_id, "type": chat_type, "title": title}
        if username:
            chat_json["username"] = username
        chat = ChatState(chat_id, chat_type, chat_json)
        grp = SimGroup(self, chat)
        chat.group = grp
        self._chats[chat_id] = chat
        self._groups[chat_id] = grp
        for m in members:
            grp.add(m)
        return grp

    def migrate_group(self, chat_id: int, new_chat_id: int, by: SimUser) -> SimGroup:
        """Upgrade group `chat_id` to supergroup `new_chat_id` as Telegram does: the same people and
        bot rights in the new chat, a service message in each (migrate_to_chat_id in the old one,
        migrate_from_chat_id in the new), and every later send to the old id refused with 400
        and `parameters.migrate_to_chat_id`."""
        old = self._chat_or_raise(chat_id)
        assert old.group is not None and old.type == "group", "only a basic group can be upgraded"
        assert new_chat_id <= -1_000_000_000_000, "supergroup ids are <= -10**12"
        grp = self.group(new_chat_id, old.title)
        new = self._chats[new_chat_id]
        new.members = dict(old.members)
        new.bot_admin, new.bot_can_pin = old.bot_admin, old.bot_can_pin
        self._user_message(by, old, "service", {"migrate_to_chat_id": new_chat_id}, summary="(group upgraded)")
        old.migrated_to = new_chat_id
        self._user_message(by, new, "service", {"migrate_from_chat_id": chat_id}, summary="(supergroup created)")
        return grp

    def set_bot_admin(self, chat_id: int, can_pin: bool = True, admin: bool = True) -> None:
        chat = self._chat_or_raise(chat_id)
        chat.bot_admin = admin
        chat.bot_can_pin = admin and can_pin

    def get_user(self, user_id: int) -> SimUser | None:
        return self._users.get(user_id)

    def _chat_or_raise(self, chat_id: int) -> ChatState:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise KeyError(f"unknown chat {chat_id}; create it with emu.user()/emu.group()")
        return chat

    # ------------------------------------------------------------------ reading

    def messages(
        self, chat_id: int, *, include_user: bool = False, include_deleted: bool = False
    ) -> list[SimMessage]:
        """Messages in a chat, oldest first (by default: the bot's, not deleted)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        source = chat.all_messages if include_user else chat.bot_messages
        return [m for m in source if include_deleted or not m.deleted]

    def message(self, chat_id: int, message_id: int) -> SimMessage | None:
        chat = self._chats.get(chat_id)
        return chat.by_id.get(message_id) if chat else None

    def sent_to(self, chat_id: int) -> int:
        """How many messages the bot successfully delivered to ``chat_id``."""
        chat = self._chats.get(chat_id)
        return chat.sent if chat else 0

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    def reset_stats(self) -> None:
        self.stats = EmulatorStats()

    # ------------------------------------------------------------------ waiting

    @property
    def stalled_requests(self) -> int:
        """Bot requests a "slow" fault is holding; each is carried out when released, even if the
        bot that sent it is gone by then."""
        return self._inflight

    def _touch(self) -> None:
        """The bot made a request (or one ended)."""
        self._last_activity = time.monotonic()
        self.activity += 1
        self._moved.set()

    @property
    def drained(self) -> bool:
        """Every update was consumed (the bot's next poll confirmed it) and no request is stalled."""
        return not self._updates and self._inflight == 0 and (self._deliverer is None or self._deliverer.idle)

    async def wait_moved(self, since: int, timeout: float) -> None:
        """Until the bot makes a request after the `since`-th (`activity`), at most `timeout` s."""
        if self.activity != since:
            return
        self._moved.clear()
        try:
            await asyncio.wait_for(self._moved.wait(), timeout)
        except TimeoutError:
            pass

    async def wait_until(self, cond: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
        """Until `cond()` holds, looked at again after each request the bot makes, or every 50 ms for
        what changes without one (a process exiting): a condition, never a guessed sleep."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            seen = self.activity
            if cond():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"not within {timeout} s: {what or cond}")
            await self.wait_moved(seen, min(0.05, remaining))

    async def wait_idle(self, quiet: float = 0.05, timeout: float = 10.0) -> None:
        """Wait until every update was consumed and the bot made no request for ``quiet`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        step = max(0.005, quiet / 4)
        while True:
            now = time.monotonic()
            if self.drained and now - self._last_activity >= quiet:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"wait_idle timed out after {timeout}s: {len(self._updates)} update(s) "
                    f"not yet consumed by the bot, {self._inflight} bot request(s) in flight.\n"
                    + self._recent_transcript()
                )
            await asyncio.sleep(min(step, remaining))

    async def _wait_message(
        self, chat: ChatState, start: int, match: Matcher, timeout: float, who: str
    ) -> tuple[int, SimMessage]:
        """First bot message in ``chat`` at index >= ``start`` matching ``match``."""
        pred = _compile_matcher(match)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        idx = start
        while True:
            msgs = chat.bot_messages
            while idx < len(msgs):
                m = msgs[idx]
                idx += 1
                if pred(m):
                    return idx, m
            remaining = deadline - loop.time()
            if remaining <= 0:
                new = msgs[start:]
                got = "\n".join(f"    #{m.message_id}: {m.summary()}" for m in new) or "    (nothing)"
                earlier = msgs[max(0, start - 3) : start]
                before = "\n".join(f"    #{m.message_id}: {m.summary()}" for m in earlier)
                raise TimeoutError(
                    f"{who}: no new bot message matching {_describe(match)} within {timeout}s.\n"
                    f"  new messages in chat {chat.id} since the last action:\n{got}"
                    + (f"\n  (earlier, already consumed:)\n{before}" if before else "")
                    + f"\n  pending updates: {len(self._updates)}\n"
                    + self._recent_transcript()
                )
            fut: asyncio.Future[None] = loop.create_future()
            chat.waiters.append(fut)
            try:
                await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                pass

    def _recent_transcript(self, lines: int = 15) -> str:
        if not self.transcript:
            return "  transcript: (empty)"
        tail = self.format_transcript(entries=self.transcript[-lines:])
        return "  last transcript lines:\n" + "\n".join("  " + line for line in tail.splitlines())

    # ------------------------------------------------------------------ transcript

    def _log(
        self, actor: int | str, chat_id: int, direction: str, summary: str, *, event: str = "message",
        message: SimMessage | None = None, detail: str | None = None, alert: bool = False,
    ) -> None:
        if self.record_transcript:
            self.transcript.append(TranscriptEntry(
                time.monotonic() - self._t0, actor, chat_id, direction, summary, event,
                copy.copy(message) if message is not None else None, detail, alert,  # a later edit must not change it
            ))

    def name_of(self, ident: int | str) -> str:
        """A user's first name or a group's title; "bot" and unknown ids as they are."""
        if isinstance(ident, str):
            return ident
        user = self._users.get(ident)
        if user is not None:
            return user.first_name
        chat = self._chats.get(ident)
        return chat.title if chat is not None and chat.title else str(ident)

    def format_transcript(
        self,
        names: dict[int, str] | None = None,
        *,
        entries: Iterable[TranscriptEntry] | None = None,
    ) -> str:
        """A readable conversation log; ``names`` maps user/chat ids to display names."""
        names = names or {}

        def label(ident: int | str) -> str:
            return names[ident] if isinstance(ident, int) and ident in names else self.name_of(ident)

        out: list[str] = []
        for e in self.transcript if entries is None else entries:
            where = f" [{label(e.chat_id)}]" if e.chat_id < 0 else ""
            if e.direction == "→bot":
                head = f"{e.time:8.3f}s  {label(e.actor)} → bot{where}: "
            else:
                head = f"{e.time:8.3f}s  bot → {label(e.chat_id)}: "
            body = e.summary.replace("\n", "\n" + " " * len(head))
            out.append(head + body)
        return "\n".join(out)

    # ------------------------------------------------------------------ updates

    def _enqueue_update(self, kind: str, payload: JSONDict, chat_id: int) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        body = json.dumps({"update_id": update_id, kind: payload}, ensure_ascii=False)
        self._updates.append((update_id, body, chat_id))
        self.stats.updates_enqueued += 1
        self._wake_consumers()
        return update_id

    def _wake_consumers(self) -> None:
        """Updates are waiting: wake whoever takes them, the pending long poll or the webhook deliverer."""
        poller = self._poller
        if poller is not None and not poller.done():
            poller.set_result("update")
        if self._deliverer is not None:
            self._deliverer.kick()

    def _confirm_updates(self, offset: int) -> None:
        """Drop updates with id < offset (the getUpdates acknowledgement protocol)."""
        q = self._updates
        if offset < 0:  # "-N": forget everything but the last N
            keep = -offset
            while len(q) > keep:
                q.popleft()
                self.stats.updates_confirmed += 1
            return
        while q and q[0][0] < offset:
            q.popleft()
            self.stats.updates_confirmed += 1

    def _set_webhook(self, config: WebhookConfig | None) -> None:
        """Switch between polling (None) and push delivery."""
        if self._deliverer is not None:
            self._deliverer.close_nowait()
            self._deliverer = None
        self.webhook = config
        if config is not None:
            from .webhook import WebhookDeliverer

            # A pending long poll is terminated, as Telegram does on setWebhook.
            if self._poller is not None and not self._poller.done():
                self._poller.set_result("webhook")
            self._deliverer = WebhookDeliverer(self, config)

    def _drop_pending(self) -> None:
        self.stats.updates_confirmed += len(self._updates)
        self._updates.clear()

    # ------------------------------------------------------------------ messages

    def _store_message(self, chat: ChatState, msg: SimMessage) -> None:
        chat.by_id[msg.message_id] = msg
        chat.all_messages.append(msg)
        if msg.from_bot:
            chat.bot_messages.append(msg)
            chat.sent += 1
            self.stats.messages_sent += 1
            markup = msg.reply_markup
            if markup is not None:
                if "keyboard" in markup:
                    chat.keyboard = markup
                elif markup.get("remove_keyboard"):
                    chat.keyboard = None
            self._log("bot", chat.id, "bot→", msg.summary(), message=msg)
            chat.wake()

    def _new_message_id(self, chat: ChatState) -> int:
        mid = chat.next_message_id
        chat.next_message_id += 1
        return mid

    def _user_message(
        self,
        user: SimUser,
        chat: ChatState,
        kind: str,
        content: JSONDict,
        *,
        text: str | None = None,
        reply_to: int | None = None,
        summary: str | None = None,
        **fields: Any,
    ) -> JSONDict:
        """Create a message from a simulated user and enqueue it as an update."""
        if chat.type == "private":
            user.started = True
            user.blocked = False
        mid = self._new_message_id(chat)
        raw: JSONDict = {
            "message_id": mid,
            "from": user.json,
            "chat": chat.json,
            "date": int(self.clock()),
        }
        raw.update(content)
        if reply_to is not None:
            target = chat.by_id.get(reply_to)
            if target is None:
                raise LookupError(f"cannot reply to unknown message #{reply_to} in chat {chat.id}")
            raw["reply_to_message"] = _without_reply(target.raw)
        msg = SimMessage(
            chat_id=chat.id,
            message_id=mid,
            kind=kind,
            from_bot=False,
            sender_id=user.id,
            raw=raw,
            text=text,
            source_text=text,
            reply_to_message_id=reply_to,
            **fields,
        )
        self._store_message(chat, msg)
        self._log(user.id, chat.id, "→bot", summary if summary is not None else msg.summary(),
                  event="message" if kind != "service" else "service", message=msg)
        self._enqueue_update("message", raw, chat.id)
        return raw

    # ------------------------------------------------------------------ files

    def _new_file(
        self,
        kind: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> FileRecord:
        self._file_seq += 1
        n = self._file_seq
        prefix = {"photo": "AgACAgIAAxk", "document": "BQACAgIAAxk", "sticker": "CAACAgIAAxk"}.get(
            kind, "AAMCAgADGQ"
        )
        ext = ""
        if kind == "photo":
            ext = ".jpg"
        elif file_name and "." in file_name:
            ext = file_name[file_name.rfind(".") :]
        rec = FileRecord(
            file_id=f"{prefix}EMU{n:08d}",
            file_unique_id=f"AQADEMU{n:06d}",
            file_path=f"{kind}s/file_{n}{ext}",
            content=content,
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._files[rec.file_id] = rec
        self._files_by_path[rec.file_path] = rec
        return rec

    def _new_photo(self, content: bytes | None = None, width: int = 1280, height: int = 960) -> list[FileRecord]:
        """A photo is a set of sizes; every size's file_id resolves back to the whole set."""
        data = content if content is not None else TINY_PNG
        sizes: list[FileRecord] = []
        for scale in (90, 320, 800, max(width, height)):
            if scale > max(width, height) and sizes:
                break
            ratio = min(1.0, scale / max(width, height))
            rec = self._new_file(
                "photo", data, width=max(1, round(width * ratio)), height=max(1, round(height * ratio))
            )
            sizes.append(rec)
            if ratio == 1.0:
                break
        for rec in sizes:
            self._photo_sets[rec.file_id] = sizes
        return sizes

    def file(self, file_id: str) -> FileRecord | None:
        return self._files.get(file_id)


def _without_reply(raw: JSONDict) -> JSONDict:
    # Telegram never nests reply_to_message more than one level deep.
    if "reply_to_message" not in raw:
        return raw
    return {k: v for k, v in raw.items() if k != "reply_to_message"}


def _compile_matcher(match: Matcher) -> Callable[[SimMessage], bool]:
    if match is None:
        return lambda m: not m.deleted
    if isinstance(match, str):
        return lambda m: match in (m.text or "") or match in m.summary()
    if isinstance(match, re.Pattern):
        return lambda m: bool(match.search(m.text or ""))
    return match


def _describe(match: Matcher) -> str:
    if match is None:
        return "<any>"
    if isinstance(match, str):
        return repr(match)
    if isinstance(match, re.Pattern):
        return f"/{match.pattern}/"
    return getattr(match, "__name__", repr(match))
