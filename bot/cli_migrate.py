"""`dutydesk migrate-db`: a district's SQLite file moved into an empty PostgreSQL database, verified.

Stop the bot first: the copy reads one snapshot of the file, and whatever a running bot wrote after
it would be lost. A bot holding the file's lease (`<database>.lease`, `dutydesk run`) is refused.

The password never rides on the command line or in the URL (any local user reads both with `ps`):
DUTYDESK_DATABASE_PASSWORD (or DUTYDESK_DATABASE_PASSWORD_FILE), else PGPASSWORD or ~/.pgpass.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from bot import config as cfg
from bot.cli import Failed, _reason, _texts
from bot.i18n import TerminalTexts
from bot.secrets import DATABASE_PASSWORD_ENV as PASSWORD_ENV
from bot.secrets import database_password

SCHEMES = ("postgresql", "postgres")

HELP = ("copy the SQLite database into an empty PostgreSQL database and verify it. Stop the bot first"
        f" (dutydesk run); the password comes from {PASSWORD_ENV} or PGPASSWORD, never the URL")


def add_parser(command: Any) -> None:
    """`command` is bot.cli.parser's helper: (name, help, func) → the subcommand's parser."""
    s = command("migrate-db", HELP, cmd_migrate_db)
    s.add_argument("--from", dest="source", metavar="SQLITE_FILE",
                   help="the SQLite database (default: [general] database of the config)")
    s.add_argument("--to", dest="target", required=True, metavar="URL",
                   help="postgresql://user@host:port/database (no password in it)")


def check_url(url: str, t: TerminalTexts) -> str:
    """A PostgreSQL URL without a password (usage error, exit 2, otherwise)."""
    try:
        parts = urlsplit(url)
        has_password = parts.password is not None or "password" in parse_qs(parts.query)
    except ValueError:
        raise Failed(t("cli.migrate_url_scheme", url=url), 2) from None
    if has_password:  # the URL is not echoed: it holds the password
        raise Failed(t("cli.migrate_url_password", env=PASSWORD_ENV), 2)
    if parts.scheme not in SCHEMES or not parts.path.strip("/"):
        raise Failed(t("cli.migrate_url_scheme", url=url), 2)
    return url


@contextmanager
def not_running(database: Path, t: TerminalTexts) -> Iterator[None]:
    """Holds `<database>.lease` (the lock `dutydesk run` takes) while the block runs, so no bot starts
    on the file meanwhile; refuses if a running bot holds it. No lease file: no bot ever ran with one."""
    lease = Path(str(database) + ".lease")
    handle: IO[bytes] | None = None
    try:
        handle = lease.open("rb")
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise Failed(t("cli.file_failed", path=lease, reason=_reason(exc))) from None
    try:
        if handle is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Failed(t("cli.migrate_running", path=database, lock=lease)) from None
        yield
    finally:
        if handle is not None:
            handle.close()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def table_lines(report: Any, t: TerminalTexts) -> list[str]:
    """The per-table counts as aligned columns: table, SQLite rows, PostgreSQL rows, sampled, result."""
    head = [t("cli.migrate_col_table"), t("cli.migrate_col_source"), t("cli.migrate_col_target"),
            t("cli.migrate_col_sampled"), t("cli.migrate_col_result")]
    rows = [[c.name, str(c.source_rows), str(c.target_rows), str(c.sampled),
             t("cli.migrate_verified") if c.verified else t("cli.migrate_differs")]
            for c in sorted(report.tables, key=lambda c: c.name)]
    widths = [max(_width(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return ["  ".join(_pad(cell, w, right=0 < i < 4) for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
            .rstrip() for r in [head, *rows]]


def _value_problem(t: TerminalTexts, reason: str) -> str:
    key = f"cli.migrate_value_{reason}"
    return t(key) if t.has(key) else reason


async def _create_schema(url: str, secret: str | None) -> None:
    """PgDatabase.open() creates (or migrates) the schema the code expects (and a `search_path` schema)."""
    from storage.pg import PgDatabase

    db = PgDatabase(url, password=secret)
    try:
        await db.open()
    finally:
        await db.close()


async def migrate(source: Path, url: str, t: TerminalTexts) -> int:
    import asyncpg

    from storage import transfer as tr

    secret = database_password()  # None: asyncpg reads PGPASSWORD or ~/.pgpass itself
    try:
        src = tr.open_source(source)
    except tr.NotDutyDesk as err:
        raise Failed(t("cli.migrate_not_dutydesk", path=source, reason=err.reason), 2) from None
    except tr.WrongVersion as err:
        key = "cli.migrate_version_older" if err.found < err.expected else "cli.migrate_version_newer"
        raise Failed(t(key, path=source, found=err.found, expected=err.expected), 2) from None
    try:
        try:
            await _create_schema(url, secret)
            pg = await asyncpg.connect(url, password=secret)
        except (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise Failed(t("cli.migrate_target_failed", url=url, reason=_reason(exc))) from None
        try:
            report = await tr.transfer(src, pg)
        except tr.TargetNotEmpty as err:
            tables = ", ".join(f"{name} {n}" for name, n in err.counts[:5]) + ("…" if len(err.counts) > 5 else "")
            raise Failed(t("cli.migrate_target_not_empty", url=url, tables=tables), 2) from None
        except tr.SchemaMismatch as err:
            raise Failed(t("cli.migrate_schema_mismatch", url=url, table=err.table or "?",
                           column=err.column or "*")) from None
        except tr.BadValue as err:
            raise Failed(t("cli.migrate_bad_value", table=err.table, key=err.row, column=err.column,
                           value=err.value, problem=_value_problem(t, err.reason))) from None
        except tr.NotDutyDesk as err:
            raise Failed(t("cli.migrate_not_dutydesk", path=source, reason=err.reason), 2) from None
        except sqlite3.Error as exc:  # the file itself (e.g. a damaged page): nothing was committed
            raise Failed(t("cli.database_failed", path=source, reason=_reason(exc))) from None
        except asyncpg.PostgresError as exc:  # e.g. a row whose parent is gone (SQLite's checks were off once)
            parts = (getattr(exc, "message", None) or str(exc).splitlines()[0], getattr(exc, "detail", None))
            reason = " ".join(str(part) for part in parts if part)  # one line: asyncpg's str() adds DETAIL lines
            raise Failed(t("cli.migrate_failed", url=url, reason=reason)) from None
        except tr.NotVerified as err:
            for line in table_lines(err.report, t):
                print(line)
            for check in err.report.tables:
                for detail in check.mismatches[:5]:
                    print(t("cli.migrate_mismatch_line", table=check.name, detail=detail))
            raise Failed(t("cli.migrate_not_verified")) from None
        finally:
            await pg.close()
    finally:
        src.close()
    for line in table_lines(report, t):
        print(line)
    print(t("cli.migrate_done", count=len(report.tables), rows=sum(c.target_rows for c in report.tables),
            path=source, url=url))
    return 0


def cmd_migrate_db(args: argparse.Namespace) -> int:
    config = cfg.load(args.config) if Path(args.config).exists() else None
    t = _texts(config)
    url = check_url(args.target, t)
    if args.source:
        source = Path(args.source).expanduser()
    elif config is not None and config.database_url is None:
        source = config.database_path
    else:
        raise Failed(t("cli.migrate_no_source"), 2)
    with not_running(source, t):
        return asyncio.run(migrate(source, url, t))
