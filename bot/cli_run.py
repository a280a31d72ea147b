"""`dutydesk run`: the bot in the foreground, its logging (no secret in any line), the webhook
settings and their secret, and the one line that says it is up. (bot/cli.py has the parser.)"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from bot import config as cfg
from bot import loop
from bot.cli import Failed, _load, _open_database, _reason, _texts
from bot.config import Config
from bot.i18n import TerminalTexts

WEBHOOK_PATH = "telegram"

log = logging.getLogger("dutydesk")


class _Redact(logging.Filter):
    """Belt and braces: no log line may carry a secret (httpx logs request URLs, which hold the token)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if any(s in msg for s in self.secrets):
            for s in self.secrets:
                msg = msg.replace(s, "<secret>")
            record.msg, record.args = msg, ()
        return True


def channel_secrets(config: Config) -> list[str]:
    """The robots' and the SMS gateway's secrets, to keep out of the log (a platform's answer or an
    error may echo one; httpx logs every request's URL, with a webhook's access_token or key). One not
    set is for the start-up to refuse (bot/app.py), not for logging."""
    from bot.channels.sender import read_secrets
    from bot.domain.channels import url_tokens

    tokens = [t for r in config.robots for t in url_tokens(r.url)]
    try:
        return [*read_secrets(config).values(), *tokens]
    except cfg.ConfigError:
        return tokens


def setup_logging(secrets: Iterable[str] = (), level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # PTB's "Application started/stopping": our own start-up line says what matters (cli.started).
    logging.getLogger("telegram.ext.Application").setLevel(max(level, logging.WARNING))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


# --- `run`'s argument types (bot/cli.py's parser uses them) --------------------------------


def tcp_port(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def webhook_url(text: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not a URL: write e.g. https://desk.example.gov.cn")
    url = text.rstrip("/")
    return url if url.endswith("/" + WEBHOOK_PATH) else f"{url}/{WEBHOOK_PATH}"


# --- running ----------------------------------------------------------------------------------


def _webhook(args: argparse.Namespace, t: TerminalTexts) -> tuple[dict[str, Any] | None, str, list[str]]:
    """The webhook settings (None: long polling), its secret (kept out of the logs), and warnings."""
    from bot import secrets

    if not args.webhook_url:
        if args.webhook_secret is not None or args.webhook_secret_file:
            raise Failed(t("cli.secret_without_webhook"), 2)
        return None, "", []
    secret = secrets.webhook_secret(given=args.webhook_secret, path=args.webhook_secret_file)
    warnings = [t("cli.secret_on_command_line")] if secret.on_command_line else []
    if secret.loose_file:
        warnings.append(t("cli.secret_file_loose", path=secret.loose_file))
    return {
        "listen": args.listen, "port": args.port, "url_path": WEBHOOK_PATH, "webhook_url": args.webhook_url,
        "secret_token": secret.value, "allowed_updates": None,
    }, secret.value, warnings


def started_line(app: Any, config: Config, webhook: dict[str, Any] | None) -> str:
    """The one line `dutydesk run` prints once it is up (never a secret)."""
    t = _texts(config)
    mode = (t("cli.mode_webhook", url=webhook["webhook_url"], listen=webhook["listen"], port=webhook["port"])
            if webhook else t("cli.mode_polling"))
    return t("cli.started", username=app.bot.username, database=config.database_target, mode=mode,
             timezone=config.general.timezone)


def run(args: argparse.Namespace) -> int:
    config = _load(args)
    t = _texts(config)
    webhook, secret, warnings = _webhook(args, t)
    token = cfg.token_from_env()
    from bot.secrets import database_password

    setup_logging([token, secret, *channel_secrets(config), database_password() or ""],
                  logging.DEBUG if args.verbose else logging.INFO)
    for warning in warnings:
        log.warning(warning)
    from telegram.error import InvalidToken, TelegramError

    from bot.app import Runtime

    async def check_database() -> None:  # an unusable database is one line, not a traceback
        await (await _open_database(config)).close()

    asyncio.run(check_database())
    runtime = Runtime(config, token)
    url = config.telegram.base_url
    from bot.lease import keeper_for

    keeper = keeper_for(config, t, webhook=webhook)

    async def serve() -> None:  # only the instance holding the lease runs (issue 28; bot/lease.py)
        try:
            await runtime.run_forever(on_started=lambda app: log.info(started_line(app, config, webhook)),
                                      wait_turn=keeper.take, webhook=webhook, before_listen=keeper.close_web)
        finally:
            await keeper.release()

    from bot.lease import MIN_SERVER_VERSION, LeaseUnsupported

    try:
        loop.run(serve())
    except LeaseUnsupported as exc:
        raise Failed(t("cli.lease_unsupported", version=exc.version, least=".".join(map(str, MIN_SERVER_VERSION))),
                     1) from None
    except InvalidToken:
        # Never print the exception: PTB puts the rejected token itself into its message.
        raise Failed(t("cli.token_rejected", url=url), 2) from None
    except TelegramError as exc:
        raise Failed(t("cli.telegram_failed", url=url, error=str(exc).replace(token, "<token>"))) from None
    except OSError as exc:
        if webhook is None:
            raise
        # the webhook's port is taken, or the address is not this machine's
        raise Failed(t("cli.listen_failed", listen=args.listen, port=args.port, reason=_reason(exc))) from None
    return 0
