"""Bot API method implementations.

Each handler takes ``(params, files)`` - params already type-coerced by the server - and
returns the ``result`` value, or raises :class:`ApiError`.  Only ``getUpdates`` is async.
Error descriptions copy Telegram's wording so the bot's error handling sees real strings.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .htmlcheck import HtmlParseError, parse_html
from .models import ApiError, FileRecord, JSONDict, RawJson, SimMessage, bad_request, utf16_len

if TYPE_CHECKING:
    from .emulator import BotApiEmulator, ChatState
    from .server import Upload

Handler = Callable[[JSONDict, "dict[str, Upload]"], Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}
_INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class BotApi:
    def __init__(self, emu: BotApiEmulator) -> None:
        self.emu = emu
        table: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendLocation": self.send_location,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendChatAction": self.send_chat_action,
            "pinChatMessage": self.pin_chat_message,
            "unpinChatMessage": self.unpin_chat_message,
            "unpinAllChatMessages": self.unpin_all_chat_messages,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "getChatMemberCount": self.get_chat_member_count,
            "getFile": self.get_file,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "close": self.always_true,
            "logOut": self.always_true,
            # Profile setters bots commonly call at start-up; accepted and ignored.
            "setMyDescription": self.always_true,
            "setMyShortDescription": self.always_true,
            "setMyName": self.always_true,
            "setMyDefaultAdministratorRights": self.always_true,
        }
        # Telegram method names are case-insensitive.
        self.methods: dict[str, tuple[str, Handler]] = {k.lower(): (k, v) for k, v in table.items()}

    def lookup(self, method: str) -> tuple[str, Handler] | None:
        return self.methods.get(method.lower())

    # ------------------------------------------------------------------ helpers

    def _chat(self, params: JSONDict, *, sending: bool = True) -> ChatState:
        emu = self.emu
        cid = params.get("chat_id")
        if cid is None or cid == "":
            raise bad_request("chat_id is empty")
        chat = None
        if isinstance(cid, int):
            chat = emu._chats.get(cid)
        elif isinstance(cid, str) and cid.startswith("@"):
            name = cid[1:].lower()
            chat = next(
                (c for c in emu._chats.values()
                 if c.type != "private" and str(c.json.get("username", "")).lower() == name),
                None,
            )
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           migrate_to_chat_id=chat.migrated_to)
        if chat.type == "private":
            user = chat.user
            assert user is not None
            if not user.started:
                raise bad_request("chat not found")
            if sending and user.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _message(self, chat: ChatState, params: JSONDict, not_found: str) -> SimMessage:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not emulated
        mid = params.get("message_id")
        msg = chat.by_id.get(mid) if isinstance(mid, int) else None
        if msg is None or msg.deleted:
            raise bad_request(not_found)
        return msg

    @staticmethod
    def _format(
        text: str, parse_mode: str | None, entities: Any, what: str = "text"
    ) -> tuple[str, list[JSONDict] | None]:
        """Apply parse_mode; return the visible text and its entities."""
        if parse_mode:
            mode = str(parse_mode).lower()
            if mode == "html":
                try:
                    return parse_html(text)
                except HtmlParseError as exc:
                    raise bad_request(f"can't parse entities: {exc}") from None
            if mode in ("markdown", "markdownv2"):
                # Markdown is passed through unparsed (documented limitation).
                return text, None
            raise bad_request("unsupported parse_mode")
        if entities:
            if not isinstance(entities, list):
                raise bad_request(f"can't parse {what} entities: entities must be an array")
            return text, entities
        return text, None

    def _text_payload(self, params: JSONDict) -> tuple[str, list[JSONDict] | None]:
        text = params.get("text")
        if text is None or (isinstance(text, str) and not text.strip()):
            raise bad_request("message text is empty")
        text = str(text)
        visible, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if not visible.strip():
            raise bad_request("message text is empty")
        if utf16_len(visible) > MAX_TEXT:
            raise bad_request("message is too long")
        return visible, entities

    def _caption_payload(self, params: JSONDict) -> tuple[str | None, list[JSONDict] | None]:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None, None
        visible, entities = self._format(
            str(caption), params.get("parse_mode"), params.get("caption_entities"), "caption"
        )
        if utf16_len(visible) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return (visible or None), entities

    @staticmethod
    def _markup(params: JSONDict, *, inline_only: bool = False) -> JSONDict | None:
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("can't parse inline keyboard markup JSON object")
            for row in rows:
                for b in row:
                    if not isinstance(b, dict) or not b.get("text"):
                        raise bad_request("BUTTON_TEXT_EMPTY" if isinstance(b, dict) else
                                          "can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                    if not any(k in b for k in _INLINE_ACTIONS):
                        raise bad_request(
                            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                        )
                    if "callback_data" in b:
                        data = b["callback_data"]
                        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                            raise bad_request("BUTTON_DATA_INVALID")
                    if "url" in b and not str(b["url"]).startswith(("http://", "https://", "tg://")):
                        raise bad_request("BUTTON_URL_INVALID")
            return markup
        if inline_only:
            raise bad_request("reply markup is not allowed here; only inline keyboards can be edited")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("can't parse reply keyboard markup JSON object")
            for row in rows:
                for b in row:
                    if isinstance(b, dict) and not b.get("text"):
                        raise bad_request("BUTTON_TEXT_EMPTY")
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _reply_target(self, chat: ChatState, params: JSONDict) -> SimMessage | None:
        rp = params.get("reply_parameters")
        mid = None
        allow_without = bool(params.get("allow_sending_without_reply"))
        if isinstance(rp, dict):
            mid = rp.get("message_id")
            allow_without = bool(rp.get("allow_sending_without_reply", allow_without))
            if rp.get("chat_id") not in (None, chat.id):
                raise bad_request("cross-chat replies are not emulated")
        elif params.get("reply_to_message_id") is not None:
            mid = params["reply_to_message_id"]
        if mid is None:
            return None
        target = chat.by_id.get(mid) if isinstance(mid, int) else None
        if target is None or target.deleted:
            if allow_without:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _deliver(
        self,
        params: JSONDict,
        kind: str,
        content: JSONDict,
        *,
        text: str | None = None,
        **fields: Any,
    ) -> JSONDict:
        """Build, store and return a message the bot sends (validation already done)."""
        emu = self.emu
        chat = self._chat(params)
        markup = self._markup(params)
        target = self._reply_target(chat, params)
        mid = emu._new_message_id(chat)
        raw: JSONDict = {
            "message_id": mid,
            "from": emu.bot_user,
            "chat": chat.json,
            "date": int(emu.clock()),
        }
        raw.update(content)
        if target is not None:
            raw["reply_to_message"] = {k: v for k, v in target.raw.items() if k != "reply_to_message"}
        if markup is not None and "inline_keyboard" in markup:
            # Telegram echoes only inline keyboards in Message.reply_markup.
            raw["reply_markup"] = markup
        lpo = params.get("link_preview_options")
        if isinstance(lpo, dict) and kind == "text":
            raw["link_preview_options"] = lpo
        msg = SimMessage(
            chat_id=chat.id,
            message_id=mid,
            kind=kind,
            from_bot=True,
            sender_id=emu.bot_id,
            raw=raw,
            text=text,
            source_text=params.get("text", params.get("caption")),
            parse_mode=params.get("parse_mode") or None,
            reply_markup=markup,
            reply_to_message_id=target.message_id if target else None,
            silent=bool(params.get("disable_notification")),
            **fields,
        )
        emu._store_message(chat, msg)
        return raw

    def _input_file(
        self, params: JSONDict, files: dict[str, Upload], field: str, kind: str
    ) -> list[FileRecord]:
        """Resolve an upload / file_id / URL into file records (a photo yields all sizes)."""
        emu = self.emu
        value = params.get(field)
        upload = files.get(field)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://"):])
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        if upload is not None:
            if kind == "photo":
                return emu._new_photo(upload.body or None)
            name = upload.filename or "file"
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return [emu._new_file(kind, upload.body, file_name=name, mime_type=mime)]
        if isinstance(value, str) and value:
            if value.startswith(("http://", "https://")):
                if kind == "photo":
                    return emu._new_photo()
                name = value.rsplit("/", 1)[-1] or "file"
                return [emu._new_file(kind, b"downloaded " + value.encode(), file_name=name,
                                      mime_type=mimetypes.guess_type(name)[0])]
            rec = emu._files.get(value)
            if rec is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if rec.kind != kind:
                raise bad_request(
                    f"can't use file of type {rec.kind.capitalize()} as {kind.capitalize()}"
                )
            if kind == "photo":
                return emu._photo_sets.get(rec.file_id, [rec])
            return [rec]
        raise bad_request(f"there is no {field} in the request")

    # ------------------------------------------------------------------ methods

    def always_true(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        return True

    def get_me(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        return {
            **self.emu.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, params: JSONDict, files: dict[str, Upload]) -> RawJson:
        """Long polling.  Returns pre-serialised JSON (a list) to skip re-encoding updates."""
        emu = self.emu
        if emu.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if isinstance(offset, int) and offset != 0:
            before = emu.stats.updates_confirmed
            emu._confirm_updates(offset)
            if emu.stats.updates_confirmed != before:
                emu._touch()
        limit = params.get("limit")
        limit = min(100, max(1, limit)) if isinstance(limit, int) else 100
        timeout = params.get("timeout")
        timeout = float(timeout) if isinstance(timeout, (int, float)) else 0.0

        # Telegram allows one poller: a new getUpdates terminates the previous one.
        old = emu._poller
        if old is not None and not old.done():
            old.set_result("conflict")
            emu._poller = None
        if not emu._updates and timeout > 0:
            fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            emu._poller = fut
            try:
                await asyncio.wait((fut,), timeout=timeout)
            finally:
                if emu._poller is fut:
                    emu._poller = None
            if fut.done() and fut.result() == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if emu.webhook is not None:
                raise ApiError(409, "Conflict: terminated by setWebhook request")
        q = emu._updates
        if not q:
            return RawJson("[]")
        n = min(limit, len(q))
        batch = [q[i][1] for i in range(n)]
        emu._touch()
        return RawJson("[" + ",".join(batch) + "]")

    def set_webhook(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        emu = self.emu
        url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            emu._drop_pending()
        if not url:
            emu._set_webhook(None)
            return True
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and secret != "" and not _SECRET_RE.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        from .emulator import WebhookConfig

        max_conn = params.get("max_connections")
        allowed = params.get("allowed_updates")
        emu._set_webhook(
            WebhookConfig(
                url=url,
                secret_token=str(secret) if secret else None,
                max_connections=max_conn if isinstance(max_conn, int) and max_conn > 0 else 40,
                allowed_updates=allowed if isinstance(allowed, list) else None,
            )
        )
        return True

    def delete_webhook(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        if params.get("drop_pending_updates"):
            self.emu._drop_pending()
        self.emu._set_webhook(None)
        return True

    def get_webhook_info(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        emu = self.emu
        wh = emu.webhook
        info: JSONDict = {
            "url": wh.url if wh else "",
            "has_custom_certificate": False,
            # As Telegram counts them: an update is pending until the webhook answered 2xx.
            "pending_update_count": len(emu._updates) + (emu._deliverer.inflight if emu._deliverer else 0),
        }
        if wh is not None:
            info["max_connections"] = wh.max_connections
            info["ip_address"] = "127.0.0.1"
            if wh.allowed_updates is not None:
                info["allowed_updates"] = wh.allowed_updates
            if wh.last_error_date is not None:
                info["last_error_date"] = wh.last_error_date
                info["last_error_message"] = wh.last_error_message
        return info

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def set_my_commands(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        if self.emu.refuse_set_my_commands:
            raise bad_request("setMyCommands refused by the emulator (refuse_set_my_commands=True)")
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for c in commands:
            if not isinstance(c, dict) or not _COMMAND_NAME_RE.match(str(c.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self.emu.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.emu.commands.pop(key, None)
        return True

    def get_my_commands(self, params: JSONDict, files: dict[str, Upload]) -> list[JSONDict]:
        return self.emu.commands.get(self._commands_key(params), [])

    def delete_my_commands(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        self.emu.commands.pop(self._commands_key(params), None)
        return True

    def send_message(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        self._chat(params)  # "chat not found" takes precedence over content errors
        visible, entities = self._text_payload(params)
        content: JSONDict = {"text": visible}
        if entities:
            content["entities"] = entities
        return self._deliver(params, "text", content, text=visible)

    def send_location(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        self._chat(params)
        lat, lon = params.get("latitude"), params.get("longitude")
        if not isinstance(lat, (int, float)) or not -90 <= lat <= 90:
            raise bad_request("wrong latitude")
        if not isinstance(lon, (int, float)) or not -180 <= lon <= 180:
            raise bad_request("wrong longitude")
        loc: JSONDict = {"latitude": float(lat), "longitude": float(lon)}
        for opt in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if params.get(opt) is not None:
                loc[opt] = params[opt]
        return self._deliver(
            params, "location", {"location": loc}, latitude=float(lat), longitude=float(lon)
        )

    def send_photo(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        self._chat(params)
        caption, entities = self._caption_payload(params)
        sizes = self._input_file(params, files, "photo", "photo")
        content: JSONDict = {"photo": [s.photo_size_json() for s in sizes]}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return self._deliver(params, "photo", content, text=caption, file_id=sizes[-1].file_id)

    def send_document(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        self._chat(params)
        caption, entities = self._caption_payload(params)
        rec = self._input_file(params, files, "document", "document")[0]
        content: JSONDict = {"document": rec.document_json()}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return self._deliver(
            params, "document", content, text=caption, file_id=rec.file_id,
            file_name=rec.file_name, mime_type=rec.mime_type,
        )

    def send_chat_action(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _apply_edit(self, msg: SimMessage, changes: JSONDict, markup: JSONDict | None) -> JSONDict:
        raw = dict(msg.raw)  # new dict: earlier updates/callbacks keep their snapshot
        raw.update(changes)
        for k in ("entities", "caption_entities"):
            if k in changes and not changes[k]:
                raw.pop(k, None)
        if markup is not None:
            raw["reply_markup"] = markup
        else:
            raw.pop("reply_markup", None)
        raw["edit_date"] = int(self.emu.clock())
        msg.raw = raw
        msg.reply_markup = markup
        if "text" in changes:
            msg.text = changes["text"]
        elif "caption" in changes:
            msg.text = changes["caption"] or None
        msg.edits.append({"text": msg.text, "reply_markup": markup, "date": raw["edit_date"]})
        self.emu._log("bot", msg.chat_id, "bot→", f"✎#{msg.message_id} {msg.summary()}", event="edit", message=msg)
        return raw

    def edit_message_text(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        chat = self._chat(params)
        msg = self._message(chat, params, "message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        if msg.kind != "text":
            raise bad_request("there is no text in the message to edit")
        visible, entities = self._text_payload(params)
        markup = self._markup(params, inline_only=True)
        old = msg.raw
        if (
            visible == old.get("text")
            and (entities or None) == (old.get("entities") or None)
            and markup == old.get("reply_markup")
        ):
            raise bad_request(_NOT_MODIFIED)
        msg.source_text = params.get("text")
        msg.parse_mode = params.get("parse_mode") or None
        return self._apply_edit(msg, {"text": visible, "entities": entities}, markup)

    def edit_message_caption(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        chat = self._chat(params)
        msg = self._message(chat, params, "message to edit not found")
        if not msg.from_bot or msg.kind not in ("photo", "document"):
            raise bad_request("message can't be edited")
        caption, entities = self._caption_payload(params)
        markup = self._markup(params, inline_only=True)
        old = msg.raw
        if (
            caption == old.get("caption")
            and (entities or None) == (old.get("caption_entities") or None)
            and markup == old.get("reply_markup")
        ):
            raise bad_request(_NOT_MODIFIED)
        return self._apply_edit(msg, {"caption": caption, "caption_entities": entities}, markup)

    def edit_message_reply_markup(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        chat = self._chat(params)
        msg = self._message(chat, params, "message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        markup = self._markup(params, inline_only=True)
        if markup == msg.raw.get("reply_markup"):
            raise bad_request(_NOT_MODIFIED)
        return self._apply_edit(msg, {}, markup)

    def delete_message(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        chat = self._chat(params, sending=False)
        msg = self._message(chat, params, "message to delete not found")
        if chat.type != "private" and not msg.from_bot and not chat.bot_admin:
            raise bad_request("message can't be deleted")
        msg.deleted = True
        self.emu._log("bot", chat.id, "bot→", f"✗ deleted #{msg.message_id}", event="delete", message=msg)
        return True

    def answer_callback_query(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        from .emulator import CallbackAnswer

        emu = self.emu
        qid = str(params.get("callback_query_id") or "")
        rec = emu._callbacks.get(qid)
        if rec is None or rec.answered:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        rec.answered = True
        answer = CallbackAnswer(
            query_id=qid,
            data=rec.data,
            message_id=rec.message_id,
            text=str(text) if text else None,
            show_alert=bool(params.get("show_alert")),
            url=params.get("url"),
        )
        rec.user.callback_answers.append(answer)
        shown = f"{'alert' if answer.show_alert else 'toast'}: {answer.text}" if answer.text else "ack"
        emu._log("bot", rec.chat_id, "bot→", f"({shown})", event="answer", detail=answer.text,
                 alert=answer.show_alert)
        return True

    def pin_chat_message(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        chat = self._chat(params)
        if chat.type != "private" and not chat.bot_can_pin:
            raise bad_request("not enough rights to manage pinned messages in the chat")
        msg = self._message(chat, params, "message to pin not found")
        msg.pinned = True
        if msg.message_id in chat.pinned:
            chat.pinned.remove(msg.message_id)
        chat.pinned.append(msg.message_id)
        self.emu._log("bot", chat.id, "bot→", f"📌 pinned #{msg.message_id}", event="pin", message=msg)
        return True

    def unpin_chat_message(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        chat = self._chat(params)
        if chat.type != "private" and not chat.bot_can_pin:
            raise bad_request("not enough rights to manage pinned messages in the chat")
        mid = params.get("message_id")
        if mid is None:
            if not chat.pinned:
                raise bad_request("message to unpin not found")
            mid = chat.pinned[-1]
        msg = chat.by_id.get(mid) if isinstance(mid, int) else None
        if msg is None or not msg.pinned:
            raise bad_request("message to unpin not found")
        msg.pinned = False
        chat.pinned.remove(msg.message_id)
        self.emu._log("bot", chat.id, "bot→", f"📌✗ unpinned #{msg.message_id}", event="unpin", message=msg)
        return True

    def unpin_all_chat_messages(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        chat = self._chat(params)
        for mid in chat.pinned:
            chat.by_id[mid].pinned = False
        chat.pinned.clear()
        return True

    def get_chat(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        chat = self._chat(params, sending=False)
        info: JSONDict = {
            **chat.json,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.pinned:
            info["pinned_message"] = chat.by_id[chat.pinned[-1]].raw
        return info

    def _member_json(self, chat: ChatState, user_id: int) -> JSONDict:
        emu = self.emu
        if user_id == emu.bot_id:
            user_json = {k: v for k, v in emu.bot_user.items()}
            status = "administrator" if chat.bot_admin else "member"
            can_pin = chat.bot_can_pin
        else:
            user = emu._users.get(user_id)
            if user is None:
                raise bad_request("user not found")
            user_json = user.json
            if chat.type == "private":
                status = "member" if user_id == chat.id else "left"
            else:
                status = chat.members.get(user_id, "left")
            can_pin = True
        if status == "creator":
            return {"status": "creator", "user": user_json, "is_anonymous": False}
        if status == "administrator":
            rights = dict.fromkeys(
                ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                 "can_restrict_members", "can_change_info", "can_invite_users",
                 "can_post_stories", "can_edit_stories", "can_delete_stories"),
                True,
            )
            return {
                "status": "administrator",
                "user": user_json,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_promote_members": False,
                **rights,
                "can_pin_messages": can_pin,
            }
        if status in ("member", "left", "kicked"):
            member: JSONDict = {"status": status, "user": user_json}
            if status == "kicked":
                member["until_date"] = 0
            return member
        raise ValueError(f"unsupported member status {status!r}")

    def get_chat_member(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        chat = self._chat(params, sending=False)
        uid = params.get("user_id")
        if not isinstance(uid, int):
            raise bad_request("invalid user_id specified")
        return self._member_json(chat, uid)

    def get_chat_administrators(self, params: JSONDict, files: dict[str, Upload]) -> list[JSONDict]:
        chat = self._chat(params, sending=False)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [
            self._member_json(chat, uid)
            for uid, status in chat.members.items()
            if status in ("creator", "administrator")
        ]
        if chat.bot_admin:
            admins.append(self._member_json(chat, self.emu.bot_id))
        return admins

    def get_chat_member_count(self, params: JSONDict, files: dict[str, Upload]) -> int:
        chat = self._chat(params, sending=False)
        if chat.type == "private":
            return 2
        return 1 + sum(1 for s in chat.members.values() if s not in ("left", "kicked"))

    def get_file(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        rec = self.emu._files.get(str(params.get("file_id") or ""))
        if rec is None:
            raise bad_request("invalid file_id")
        return rec.file_json()

    def set_chat_menu_button(self, params: JSONDict, files: dict[str, Upload]) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
            raise bad_request("can't parse menu button JSON object")
        cid = params.get("chat_id")
        if cid is not None:
            self._chat(params, sending=False)
        self.emu.menu_buttons[cid if isinstance(cid, int) else None] = button
        return True

    def get_chat_menu_button(self, params: JSONDict, files: dict[str, Upload]) -> JSONDict:
        cid = params.get("chat_id")
        buttons = self.emu.menu_buttons
        return buttons.get(cid if isinstance(cid, int) else None) or buttons.get(None) or {"type": "commands"}
