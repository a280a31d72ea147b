"""What handlers are given: the application with its dependencies as typed attributes (`Deps`) and
the per-update context (`DeskContext`) that hands them out. bot/app.py builds them; handlers
import this module, never bot/app.py (tests/unit/test_layers.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackContext

from bot.channels.failover import Failover
from bot.channels.sender import ChannelSender
from bot.delivery import OutboxSender
from bot.desk_bot import DeskBot
from bot.domain.members import Member
from bot.i18n import Texts
from bot.notice_progress import BroadcastProgress
from bot.services.base import Services
from bot.services.registration import commands_for
from bot.upstream import UpstreamPusher
from reminders.scheduler import DeadlineScheduler
from storage import updates

log = logging.getLogger(__name__)


@dataclass
class Deps:
    services: Services
    scheduler: DeadlineScheduler
    sender: OutboxSender | None = None
    upstream: UpstreamPusher | None = None
    progress: BroadcastProgress | None = None  # the live 已送达 line of notices (bot/notice_progress.py)
    channels: ChannelSender | None = None  # group robots and SMS (bot/channels/sender.py), when configured
    failover: Failover | None = None  # Telegram refusing a person, or down: the other channels
    handled: updates.Handled = updates.Handled()  # handled before start-up (handlers.skip_redelivered)


class DeskApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application with our dependencies attached (see DeskContext)."""

    deps: Deps


class DeskContext(CallbackContext[DeskBot, dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Handlers reach services as typed properties, never through bot_data strings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Drafts read ahead for this update (handlers.common.load_drafts); one context per update.
        self.drafts_read: dict[tuple[int, str], dict[str, Any]] = {}
        self.incoming: Update | None = None  # the update this context is for (handlers.common.sent_time)
        # The person's dialogue step when the update reached the dialogue map (handlers/dialogs.py).
        self.dialog_state: object = None

    @classmethod
    def from_update(cls, update: object, application: Any) -> DeskContext:
        ctx = super().from_update(update, application)
        ctx.incoming = update if isinstance(update, Update) else None
        return ctx

    @property
    def deps(self) -> Deps:
        return self.application.deps  # type: ignore[attr-defined, no-any-return]

    @property
    def services(self) -> Services:
        return self.deps.services

    @property
    def t(self) -> Texts:
        return self.deps.services.texts



async def set_member_commands(app: DeskApplication, member: Member) -> None:
    """Per-member command menu; a server that refuses setMyCommands must not stop the bot."""
    t = app.deps.services.texts
    cmds = [BotCommand(c, t.help_line(c).split("—", 1)[-1].strip()[:256]) for c in commands_for(member)]
    try:
        await app.bot.set_my_commands(cmds, scope=BotCommandScopeChat(member.telegram_id))
    except TelegramError as exc:
        log.warning("setMyCommands refused for a member: %s", exc)
