"""JSON control endpoints under /_control/ for drivers in another process.

The in-process API (``emu.user(...)``, ``SimUser``) is the main one; this mirrors its most
useful parts so e.g. a chaos test can keep users talking while the bot process restarts.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .models import JSONDict

if TYPE_CHECKING:
    from .control import SimUser
    from .emulator import BotApiEmulator
    from .server import Request, Response


class ControlApi:
    def __init__(self, emu: BotApiEmulator) -> None:
        self.emu = emu

    async def handle(self, req: Request, action: str) -> Response:
        from .server import Response

        try:
            args: JSONDict = dict(parse_qsl(req.query)) if req.query else {}
            if req.body:
                body = json.loads(req.body)
                if isinstance(body, dict):
                    args.update(body)
            result = await self._dispatch(action, args)
        except (KeyError, LookupError, ValueError, TypeError, TimeoutError) as exc:
            return Response(400, _dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        if isinstance(result, _Text):
            return Response(200, result.encode(), "text/plain; charset=utf-8")
        return Response(200, _dumps({"ok": True, "result": result}))

    def _user(self, a: JSONDict) -> SimUser:
        uid = int(a["user_id"])
        user = self.emu.get_user(uid)
        if user is None:
            user = self.emu.user(uid, str(a.get("first_name") or f"User{uid}"), a.get("username"))
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
            if a.get("raw"):
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
            return _Text(emu.format_transcript())
        if action == "wait_idle":
            await emu.wait_idle(float(a.get("quiet", 0.05)), float(a.get("timeout", 10)))
            return True
        raise KeyError(f"unknown control action {action!r}")


class _Text(str):
    """A plain-text (not JSON) control answer."""


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
