"""`dutydesk` command line: init, run, demo, invite, members, role, backup."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from importlib import resources
from pathlib import Path

from bot import config as cfg
from bot import loop
from bot.config import Config, ConfigError, parse_duration

EXAMPLE = "dutydesk.example.toml"


class _RedactToken(logging.Filter):
    """Belt and braces: no log line may carry the token (httpx logs request URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            msg = record.getMessage()
            if self.token in msg:
                record.msg, record.args = msg.replace(self.token, "<token>"), ()
        return True


def setup_logging(token: str = "", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def example_config() -> str:
    return resources.files("bot").joinpath(EXAMPLE).read_text(encoding="utf-8")


def _load(args: argparse.Namespace) -> Config:
    return cfg.load(args.config)


async def _open_services(config: Config):  # type: ignore[no-untyped-def]
    from bot.clock import SystemClock
    from bot.i18n import Texts
    from bot.services.base import Services
    from storage import members
    from storage.db import Database
    from storage.uow import UnitOfWork

    db = await Database(config.database_path).open()
    async with db.tx() as conn:
        await members.sync_units(conn, config.units)
    clock = SystemClock()
    return Services(config=config, db=db, uow=UnitOfWork(db, clock.now), clock=clock,
                    texts=Texts(config.general.language))


def cmd_init(args: argparse.Namespace) -> int:
    path = Path(args.config)
    if path.exists() and not args.force:
        print(f"{path} 已存在（--force 覆盖）/ already exists (use --force)", file=sys.stderr)
        return 1
    path.write_text(example_config(), encoding="utf-8")
    config = cfg.load(path)

    async def create() -> None:
        s = await _open_services(config)
        await s.db.close()

    asyncio.run(create())
    print(f"已写入配置 {path}，数据库 {config.database_path}\nWrote {path}; database {config.database_path}")
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    config = _load(args)
    from bot.domain.invites import deep_link
    from bot.services import registration
    from bot.services.errors import ServiceError

    async def go() -> int:
        s = await _open_services(config)
        try:
            inv = await registration.create_invite(
                s, unit_code=args.unit, role=args.role, name=args.name,
                expires=parse_duration(args.expires) if args.expires else None,
            )
        except ServiceError as err:
            print(s.texts(err.key, **err.kw), file=sys.stderr)
            return 2
        finally:
            await s.db.close()
        username = config.telegram.bot_username or "YOUR_BOT"
        print(f"code: {inv.code}\nlink: {deep_link(username, inv.code)}\nexpires: {s.fmt.dt(inv.expires_at, year=True)}")
        return 0

    return asyncio.run(go())


def cmd_members(args: argparse.Namespace) -> int:
    config = _load(args)

    async def go() -> None:
        from storage import members

        s = await _open_services(config)
        try:
            for m in await members.all_members(s.db.read, args.unit):
                state = "" if m.active else " (inactive)"
                print(f"#{m.id}\t{s.unit_name(m.unit_code)}\t{m.name}\t{','.join(sorted(m.roles))}{state}")
        finally:
            await s.db.close()

    asyncio.run(go())
    return 0


def cmd_role(args: argparse.Namespace) -> int:
    """`dutydesk role 12 unit_chief`: member #12 holds exactly the roles named (see /members)."""
    config = _load(args)
    from bot.services import registration
    from bot.services.errors import ServiceError

    async def go() -> int:
        s = await _open_services(config)
        try:
            done = await registration.set_roles(s, None, args.member, args.roles)
        except ServiceError as err:
            print(s.texts(err.key, **err.kw), file=sys.stderr)
            return 2
        finally:
            await s.db.close()
        m = done.member
        print(f"#{m.id}\t{s.unit_name(m.unit_code)}\t{m.name}\t{','.join(sorted(done.before))} -> {','.join(sorted(m.roles))}")
        return 0

    return asyncio.run(go())


def cmd_backup(args: argparse.Namespace) -> int:
    config = _load(args)
    from storage.db import Database

    async def go() -> None:
        db = await Database(config.database_path).open()
        try:
            await db.backup(args.path)
        finally:
            await db.close()

    asyncio.run(go())
    print(f"backup written: {args.path}")
    return 0


def cmd_roster_import(args: argparse.Namespace) -> int:
    config = _load(args)
    from bot.services import roster
    from bot.services.errors import ServiceError

    async def go() -> int:
        s = await _open_services(config)
        try:
            path = Path(args.file)
            text = await roster.import_table(s, None, path.name, path.read_bytes())
        except ServiceError as err:
            print(s.texts(err.key, **err.kw), file=sys.stderr)
            return 2
        except OSError as err:
            print(f"{args.file}: {err.strerror}", file=sys.stderr)
            return 2
        finally:
            await s.db.close()
        print(text)
        return 0

    return asyncio.run(go())


def cmd_run(args: argparse.Namespace) -> int:
    config = _load(args)
    token = cfg.token_from_env()
    setup_logging(token, logging.DEBUG if args.verbose else logging.INFO)
    from bot.app import Runtime

    runtime = Runtime(config, token)
    from telegram.error import InvalidToken

    kw: dict[str, object] = {}
    if args.webhook_url:
        if not args.webhook_secret:
            raise ConfigError("command line", "--webhook-secret", "is required with --webhook-url")
        kw["webhook"] = {
            "listen": args.listen, "port": args.port, "url_path": "telegram",
            "webhook_url": args.webhook_url.rstrip("/") + "/telegram" if not args.webhook_url.endswith("/telegram") else args.webhook_url,
            "secret_token": args.webhook_secret, "allowed_updates": None,
        }
    try:
        loop.run(runtime.run_forever(**kw))  # type: ignore[arg-type]
    except InvalidToken:
        # Never print the exception: PTB puts the rejected token itself into its message.
        print("Telegram 拒绝了此令牌（TELEGRAM_BOT_TOKEN）/ the server rejected the bot token", file=sys.stderr)
        return 2
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(verbose=args.verbose))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dutydesk", description="DutyDesk（值班台）— district duty bot")
    p.add_argument("--config", default=str(cfg.DEFAULT_CONFIG_PATH), help="TOML config (default dutydesk.toml)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("init", help="write an example config and create the database")
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_init)
    s = sub.add_parser("run", help="run the bot (polling, or webhook with --webhook-url)")
    s.add_argument("--webhook-url")
    s.add_argument("--webhook-secret")
    s.add_argument("--listen", default="0.0.0.0")
    s.add_argument("--port", type=int, default=8443)
    s.add_argument("-v", "--verbose", action="store_true")
    s.set_defaults(func=cmd_run)
    s = sub.add_parser("demo", help="play a scripted day offline against the bundled emulator")
    s.add_argument("-v", "--verbose", action="store_true")
    s.set_defaults(func=cmd_demo)
    s = sub.add_parser("invite", help="create a single-use invitation")
    s.add_argument("--unit", required=True)
    s.add_argument("--role", required=True)
    s.add_argument("--name")
    s.add_argument("--expires", help="e.g. 7d")
    s.set_defaults(func=cmd_invite)
    s = sub.add_parser("members", help="list members")
    s.add_argument("--unit")
    s.set_defaults(func=cmd_members)
    s = sub.add_parser("role", help="set a member's roles, e.g. `role 12 unit_chief` (ids from `members`)")
    s.add_argument("member", type=int)
    s.add_argument("roles", nargs="+")
    s.set_defaults(func=cmd_role)
    s = sub.add_parser("roster", help="duty roster: `roster import FILE` (.xlsx or .csv)")
    rsub = s.add_subparsers(dest="roster_command", required=True)
    s = rsub.add_parser("import", help="import a roster table; every day in it replaces that day")
    s.add_argument("file")
    s.set_defaults(func=cmd_roster_import)
    s = sub.add_parser("backup", help="consistent copy of the live database")
    s.add_argument("path")
    s.set_defaults(func=cmd_backup)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as err:
        print(f"配置错误 / config error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

