"""The demo's transcript as a story an office worker can follow: who wrote what, which button
they pressed, what popped up, which message changed and how — in the catalog's words.

The emulator's own `format_transcript` is for developers and keeps what they need (button data,
message numbers, silent callback answers); none of that appears here.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.emulator import BotApiEmulator
from bot.emulator.models import SimMessage, TranscriptEntry
from bot.i18n import TerminalTexts, Texts

INDENT = " " * 12  # continuation lines of a message, under its first line


class Story:
    """Renders transcript entries; remembers what each message said, so an edit shows what changed."""

    def __init__(self, emu: BotApiEmulator, texts: Texts) -> None:
        # A terminal, not Telegram: names and what people typed print as typed (TerminalTexts).
        self.emu, self.t = emu, TerminalTexts(texts.lang)
        self._shown: dict[tuple[int, int], SimMessage] = {}

    def render(self, entries: Iterable[TranscriptEntry]) -> str:
        out = []
        for e in entries:
            text = self._entry(e).rstrip()
            if text:
                lines = [line.rstrip() for line in text.splitlines()]
                out.append(self.t("demo.story.time", seconds=f"{e.time:6.1f}") + "  "
                           + "\n".join([lines[0], *((INDENT + line) if line else "" for line in lines[1:])]))
        return "\n".join(out)

    # -- one entry --------------------------------------------------------------------------

    def _who(self, e: TranscriptEntry) -> str:
        name = self.emu.name_of(e.actor)
        return self.t("demo.story.in_group", name=name, chat=self.emu.name_of(e.chat_id)) if e.chat_id < 0 else name

    def _entry(self, e: TranscriptEntry) -> str:
        t, msg = self.t, e.message
        if e.event == "message" and msg is not None:
            self._shown[(msg.chat_id, msg.message_id)] = msg
            if msg.from_bot:
                return t("demo.story.bot_says", whom=self.emu.name_of(e.chat_id), text=self._body(msg))
            return t("demo.story.says", who=self._who(e), text=self._body(msg))
        if e.event == "press":
            if e.detail is None:
                return t("demo.story.pressed_forged", who=self._who(e))
            return t("demo.story.pressed", who=self._who(e), button=e.detail)
        if e.event == "answer":  # a silent answer shows nothing on the phone
            if not e.detail:
                return ""
            return t("demo.story.alert" if e.alert else "demo.story.toast", text=e.detail)
        if e.event == "edit" and msg is not None:
            return t("demo.story.edited", whom=self.emu.name_of(e.chat_id), text=self._change(msg))
        if e.event in ("pin", "unpin"):
            return t(f"demo.story.{e.event}ned", chat=self.emu.name_of(e.chat_id))
        if e.event == "delete":
            return t("demo.story.deleted", whom=self.emu.name_of(e.chat_id))
        if e.event == "service":
            return t("demo.story.group_changed", chat=self.emu.name_of(e.chat_id))
        if e.event == "error":
            return t("demo.story.failed", whom=self.emu.name_of(e.chat_id), detail=e.detail or "")
        return ""  # injected network faults (benchmarks) are not part of a story

    def _body(self, msg: SimMessage) -> str:
        t = self.t
        if msg.kind == "text":
            body = msg.text or ""
        elif msg.kind == "location":
            body = t("demo.story.location", lat=msg.latitude, lon=msg.longitude)
        elif msg.kind == "document":
            body = t("demo.story.document", name=msg.file_name or "")
        else:
            body = t(f"demo.story.{msg.kind}") if t.has(f"demo.story.{msg.kind}") else f"[{msg.kind}]"
        if msg.kind != "text" and msg.text:
            body += " " + msg.text  # a caption
        if msg.buttons:
            body += "\n" + t("demo.story.buttons", buttons=self._buttons(msg))
        if msg.keyboard:
            body += "\n" + t("demo.story.keyboard", buttons=" ".join(f"[{b}]" for b in msg.keyboard))
        return body

    @staticmethod
    def _buttons(msg: SimMessage) -> str:
        return " ".join(f"[{text}]" for text, _data in msg.buttons)

    def _change(self, msg: SimMessage) -> str:
        """What an edit changed: the lines that are new, and the buttons if they changed."""
        before = self._shown.get((msg.chat_id, msg.message_id))
        self._shown[(msg.chat_id, msg.message_id)] = msg
        if before is None:
            return self._body(msg)
        old_lines = set((before.text or "").splitlines())
        parts = [line for line in (msg.text or "").splitlines() if line.strip() and line not in old_lines]
        if msg.buttons != before.buttons:
            parts.append(self.t("demo.story.buttons", buttons=self._buttons(msg)) if msg.buttons
                         else self.t("demo.story.buttons_gone"))
        return "\n".join(parts) or self.t("demo.story.unchanged")
