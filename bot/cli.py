"""`dutydesk` command line: init, run, status, demo, invite, members, role, roster import, backup,
migrate-db.

Every mistake an operator can make — a bad argument, a missing file, an unwritable path, an
unreachable network — ends in one clear line and exit code 2 (usage, config) or 1 (the
operation failed), never a traceback (tests/e2e/test_cli_errors.py tries them all).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import config as cfg
from bot.config import Config, ConfigError, parse_duration
from bot.i18n import TerminalTexts, Texts, terminal

if TYPE_CHECKING:
    from bot.services.base import Services
    from storage.engine import AnyDatabase

EXAMPLE = "dutydesk.example.toml"
MAX_INVITE_EXPIRY = timedelta(days=365)
MIN_INVITE_EXPIRY = timedelta(minutes=1)


class Failed(Exception):
    """The command could not do its job; the message is the one line the operator reads."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def example_config() -> str:
    return resources.files("bot").joinpath(EXAMPLE).read_text(encoding="utf-8")


def _load(args: argparse.Namespace) -> Config:
    return cfg.load(args.config)


def _texts(config: Config | None = None) -> TerminalTexts:
    """What the CLI prints: catalog texts as a terminal shows them (see TerminalTexts)."""
    return TerminalTexts(config.general.language if config else "zh")


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__


async def _open_database(config: Config) -> AnyDatabase:
    import asyncpg

    from bot.secrets import database_password
    from storage.engine import database

    db = database(config.database_target, password=database_password())
    try:
        return await db.open()
    except (OSError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        await db.close()
        raise Failed(_texts(config)("cli.database_failed", path=db.path, reason=_reason(exc))) from None


async def _open_services(config: Config) -> Services:
    from bot.clock import SystemClock
    from bot.services import base
    from storage import members
    from storage.uow import UnitOfWork

    db = await _open_database(config)
    async with db.tx() as conn:
        await members.sync_units(conn, config.units)
    clock = SystemClock()
    return base.Services(config=config, db=db, uow=UnitOfWork(db, clock.now), clock=clock,
                         texts=Texts(config.general.language))  # for Telegram: HTML


# --- argument types: a bad value is a usage error (exit 2) with argparse's one line --------


def invite_expiry(text: str) -> timedelta:
    limits = f"{text!r}: an invitation lasts from 1m to 365d"
    try:
        value = parse_duration(text.removeprefix("-"))
    except OverflowError:
        raise argparse.ArgumentTypeError(limits) from None
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: write e.g. 12h, 7d, 30d") from None
    if text.startswith("-") or not MIN_INVITE_EXPIRY <= value <= MAX_INVITE_EXPIRY:
        raise argparse.ArgumentTypeError(limits)
    return value


def member_number(text: str) -> int:
    """A member's number as `members` prints it (`12` or `#12`); ASCII digits only."""
    digits = text.removeprefix("#")
    if not (digits.isascii() and digits.isdigit() and 0 < len(digits) <= 9):
        raise argparse.ArgumentTypeError(f"{text!r} is not a member number: see `dutydesk members`")
    return int(digits)


# --- commands ----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    t = _texts()
    path = Path(args.config)
    if path.exists() and not args.force:
        raise Failed(t("cli.init_exists", path=path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(example_config(), encoding="utf-8")
    except OSError as exc:
        raise Failed(t("cli.init_failed", path=path, reason=_reason(exc))) from None
    config = cfg.load(path)

    async def create() -> None:
        s = await _open_services(config)
        await s.db.close()

    asyncio.run(create())
    print(_texts(config)("cli.init_done", path=path, database=config.database_path))
    return 0


async def _bot_username(s: Services) -> str:
    """Config wins (an operator may rename the bot); else what the last `dutydesk run` learnt from getMe."""
    from storage import meta

    return s.config.telegram.bot_username.lstrip("@") or await meta.get(s.db.read, meta.BOT_USERNAME) or ""


def cmd_invite(args: argparse.Namespace) -> int:
    config = _load(args)
    from bot.domain.invites import deep_link
    from bot.services import registration
    from bot.services.errors import ServiceError

    async def go() -> int:
        s = await _open_services(config)
        try:
            inv = await registration.create_invite(s, unit_code=args.unit, role=args.role, name=args.name,
                                                   expires=args.expires)
            username = await _bot_username(s)
        except ServiceError as err:
            raise Failed(terminal(s.texts(err.key, **err.kw)), 2) from None
        finally:
            await s.db.close()
        link = (f"link: {deep_link(username, inv.code)}" if username
                else terminal(s.texts("cli.invite_no_link", code=inv.code)))
        print(f"code: {inv.code}\n{link}\nexpires: {s.fmt.dt(inv.expires_at, year=True)}")
        return 0

    return asyncio.run(go())


def cmd_members(args: argparse.Namespace) -> int:
    config = _load(args)
    t = _texts(config)
    if args.unit is not None and config.unit(args.unit) is None:
        raise Failed(t("core.admin.invite_bad_unit", code=args.unit, units=", ".join(u.code for u in config.units)), 2)

    async def go() -> None:
        from storage import members

        s = await _open_services(config)
        try:
            found = await members.all_members(s.db.read, args.unit)
            for m in found:
                state = "" if m.active else t("cli.members_inactive")
                print(f"#{m.id}\t{s.unit_name(m.unit_code)}\t{m.name}\t{','.join(sorted(m.roles))}{state}")
            if not found:
                print(t("cli.members_none_unit", unit=s.unit_name(args.unit)) if args.unit else t("cli.members_none"))
        finally:
            await s.db.close()

    asyncio.run(go())
    return 0


def cmd_role(args: argparse.Namespace) -> int:
    """`dutydesk role 12 unit_chief`: member #12 holds exactly the roles named (see `members`)."""
    config = _load(args)
    from bot.services import registration
    from bot.services.errors import ServiceError

    async def go() -> None:
        s = await _open_services(config)
        try:
            done = await registration.set_roles(s, None, args.member, args.roles)
        except ServiceError as err:
            raise Failed(terminal(s.texts(err.key, **err.kw)), 2) from None
        finally:
            await s.db.close()
        m = done.member
        print(f"#{m.id}\t{s.unit_name(m.unit_code)}\t{m.name}\t"
              f"{','.join(sorted(done.before))} -> {','.join(sorted(m.roles))}")

    asyncio.run(go())
    return 0


def cmd_phone(args: argparse.Namespace) -> int:
    """`dutydesk phone 12 13800001234` (or `-` to remove): member #12's phone number for SMS alerts."""
    config = _load(args)
    from bot.domain.channels import mask_phone
    from bot.services import phones
    from bot.services.errors import ServiceError

    async def go() -> None:
        s = await _open_services(config)
        try:
            done = await phones.set_phone(s, None, args.member, args.phone)
        except ServiceError as err:
            raise Failed(terminal(s.texts(err.key, **err.kw)), 2) from None
        finally:
            await s.db.close()
        print(f"#{done.member.id}\t{done.member.name}\t{mask_phone(done.phone) or '-'}")

    asyncio.run(go())
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    config = _load(args)
    t = _texts(config)
    if url := config.database_url:  # PostgreSQL: pg_dump (bot/cli_backup_pg.py)
        from bot.cli_backup_pg import backup_pg

        return backup_pg(args.path, url, t)
    from datetime import datetime

    from storage import db as store

    dest = Path(args.path).expanduser()
    if dest.is_dir():  # like cp: into the directory, named by the database and the time
        dest = dest / f"{config.database_path.stem}-{datetime.now():%Y%m%d-%H%M%S}.sqlite3"
    live = config.database_path.resolve()
    if dest.resolve() in (live, live.with_name(live.name + "-wal"), live.with_name(live.name + "-shm")):
        raise Failed(t("cli.backup_is_database", path=dest), 2)

    async def go() -> None:
        db = await _open_database(config)
        try:
            assert isinstance(db, store.Database)  # PostgreSQL: pg_dump (see `dutydesk backup` on PostgreSQL)
            await db.backup(dest)
        except (OSError, sqlite3.Error) as exc:
            raise Failed(t("cli.backup_failed", path=dest, reason=_reason(exc))) from None
        finally:
            await db.close()

    asyncio.run(go())
    print(t("cli.backup_done", path=dest))
    return 0


def cmd_roster_import(args: argparse.Namespace) -> int:
    config = _load(args)
    from bot.services import roster
    from bot.services.errors import ServiceError

    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise Failed(_texts(config)("cli.file_failed", path=args.file, reason=_reason(exc)), 2) from None

    async def go() -> int:
        s = await _open_services(config)
        try:
            text = await roster.import_table(s, None, path.name, content)
        except ServiceError as err:
            raise Failed(terminal(s.texts(err.key, **err.kw)), 2) from None
        finally:
            await s.db.close()
        print(terminal(text))
        return 0

    return asyncio.run(go())


def cmd_run(args: argparse.Namespace) -> int:
    from bot.cli_run import run

    return run(args)


def cmd_status(args: argparse.Namespace) -> int:
    from bot.cli_status import cmd_status as status

    return status(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(verbose=args.verbose))


# --- the parser ------------------------------------------------------------------------------


def _config_option(p: argparse.ArgumentParser, default: str | None) -> None:
    # Before the command it is the main parser's; after it (`dutydesk init --config x.toml`) the
    # subcommand's, with no default of its own so that it never hides one given before.
    p.add_argument("--config", metavar="PATH", default=default if default is not None else argparse.SUPPRESS,
                   help=f"TOML config (default {cfg.DEFAULT_CONFIG_PATH}); before or after the command")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dutydesk", description="DutyDesk（值班台）— district duty bot")
    _config_option(p, str(cfg.DEFAULT_CONFIG_PATH))
    common = argparse.ArgumentParser(add_help=False)
    _config_option(common, None)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, func: Any, parent: Any = sub) -> argparse.ArgumentParser:
        s: argparse.ArgumentParser = parent.add_parser(name, help=help, description=help, parents=[common])
        s.set_defaults(func=func)
        return s

    s = command("init", "write an example config and create the database", cmd_init)
    s.add_argument("--force", action="store_true", help="overwrite an existing config file")
    from bot.cli_run import tcp_port, webhook_url

    s = command("run", "run the bot (long polling, or a webhook with --webhook-url)", cmd_run)
    s.add_argument("--webhook-url", type=webhook_url, metavar="URL",
                   help="public HTTPS address Telegram posts updates to (…/telegram is added)")
    s.add_argument("--webhook-secret-file", metavar="PATH",
                   help="file holding the webhook secret"
                        " (or set DUTYDESK_WEBHOOK_SECRET / DUTYDESK_WEBHOOK_SECRET_FILE)")
    s.add_argument("--webhook-secret", metavar="SECRET",
                   help="the webhook secret itself: visible to every local user in `ps`; prefer the environment")
    s.add_argument("--listen", default="0.0.0.0", metavar="ADDRESS", help="webhook: address to listen on")
    s.add_argument("--port", type=tcp_port, default=8443, help="webhook: port to listen on (default 8443)")
    s.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    command("status", "which `dutydesk run` instance is active, its last heartbeat, the standbys "
                      "(exit 1: no active instance checked in within [ha] lease_seconds)", cmd_status)
    s = command("demo", "play a scripted day offline against the bundled emulator (ignores --config)", cmd_demo)
    s.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    s = command("invite", "create a single-use invitation and print its link", cmd_invite)
    s.add_argument("--unit", required=True, help="unit code, e.g. jianshelu")
    s.add_argument("--role", required=True,
                   help="officer, unit_head, unit_chief, duty, director, leader, admin, info_editor")
    s.add_argument("--name", help="the person's name (default: their Telegram name)")
    s.add_argument("--expires", type=invite_expiry, metavar="DURATION",
                   help="how long the invitation is valid, e.g. 12h, 7d (default [invites] default_expiry)")
    s = command("members", "list members", cmd_members)
    s.add_argument("--unit", help="only this unit (code)")
    s = command("role", "set a member's roles, e.g. `role 12 unit_chief` (numbers from `members`)", cmd_role)
    s.add_argument("member", type=member_number, help="the member's number, as `members` lists it")
    s.add_argument("roles", nargs="+", help="every role the member is to hold, e.g. unit_chief")
    s = command("phone", "set a member's phone number for SMS alerts, e.g. `phone 12 13800001234` (`-` removes it)",
                cmd_phone)
    s.add_argument("member", type=member_number, help="the member's number, as `members` lists it")
    s.add_argument("phone", help="the phone number, or - to remove it")
    s = sub.add_parser("roster", help="duty roster: `roster import FILE` (.xlsx or .csv)", parents=[common])
    rsub = s.add_subparsers(dest="roster_command", required=True, metavar="COMMAND")
    s = command("import", "import a roster table; every day in it replaces that day", cmd_roster_import, rsub)
    s.add_argument("file", help=".xlsx or .csv file")
    s = command("backup", "consistent copy of the live database (into a directory: a dated file name);"
                          " on PostgreSQL with pg_dump", cmd_backup)
    s.add_argument("path", help="backup file, or a directory to put it in")
    from bot.cli_migrate import add_parser as add_migrate_db

    add_migrate_db(command)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as err:
        print(f"配置错误 / config error: {err}", file=sys.stderr)
        return 2
    except Failed as err:
        print(err, file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # `python -m bot.cli` runs this file as __main__; go through the module `bot.cli`, the one
    # bot/cli_run.py imports, so that there is one `Failed` class and `main` catches it.
    from bot.cli import main as module_main

    raise SystemExit(module_main())
