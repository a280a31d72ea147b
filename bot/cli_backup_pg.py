"""`dutydesk backup DEST` on a PostgreSQL config: pg_dump's custom format, owner-only, and how to restore.

pg_dump must be at least the server's major version (an older one refuses a newer server). The
password reaches it as PGPASSWORD in its own environment, never on its command line, which any
local user reads with `ps`.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.cli import Failed, _reason
from bot.cli_migrate import check_url
from bot.i18n import TerminalTexts
from bot.secrets import database_password

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


async def server_major(url: str, secret: str | None) -> int:
    import asyncpg

    pg = await asyncpg.connect(url, password=secret)
    try:
        return int(pg.get_server_version().major)
    finally:
        await pg.close()


def pg_dump_major(pg_dump: str) -> tuple[int, str]:
    """(major, as printed) of `pg_dump --version`, e.g. (15, "15.20"); (0, text) when unreadable."""
    out = subprocess.run([pg_dump, "--version"], capture_output=True, text=True, timeout=30)
    m = _VERSION.search(out.stdout)
    if not m:
        return 0, out.stdout.strip() or out.stderr.strip()
    return int(m.group(1)), m.group(0).split()[-1]


def pg_dump_args(url: str) -> tuple[list[str], str]:
    """pg_dump's arguments for the desk at `url`, and the address to restore into. libpq knows no
    `search_path` in an address: a desk kept in a schema of its own is dumped with --schema."""
    from storage.address import schema_of

    parts = urlsplit(url)
    rest = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    bare = urlunsplit(parts._replace(query=urlencode(rest)))
    schema = schema_of(url)
    return ["--format=custom", "--no-password", f"--dbname={bare}", *([f"--schema={schema}"] if schema else [])], bare


def destination(path: str, url: str) -> Path:
    dest = Path(path).expanduser()
    if dest.is_dir():  # like cp, and like the SQLite backup: into the directory, dated
        from storage.address import schema_of

        name = schema_of(url) or urlsplit(url).path.strip("/") or "dutydesk"
        dest = dest / f"{name}-{datetime.now():%Y%m%d-%H%M%S}.dump"
    return dest


def backup_pg(path: str, url: str, t: TerminalTexts) -> int:
    check_url(url, t)
    secret = database_password()  # None: PGPASSWORD or ~/.pgpass, which pg_dump reads itself
    dest = destination(path, url)
    try:
        major = asyncio.run(server_major(url, secret))
    except Exception as exc:  # noqa: BLE001 - asyncpg's and the socket's errors alike: one line
        raise Failed(t("cli.database_failed", path=url, reason=_reason(exc))) from None
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise Failed(t("cli.backup_pg_missing", major=major), 2)
    found, shown = pg_dump_major(pg_dump)
    if found < major:
        raise Failed(t("cli.backup_pg_old", found=shown, major=major), 2)
    args, bare = pg_dump_args(url)
    env = dict(os.environ)
    if secret is not None:
        env["PGPASSWORD"] = secret
    partial = dest.with_name(dest.name + ".partial")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)  # owner-only from the first byte
    except OSError as exc:
        raise Failed(t("cli.backup_failed", path=dest, reason=_reason(exc))) from None
    try:
        os.fchmod(fd, 0o600)
        done = subprocess.run([pg_dump, *args], stdout=fd, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              env=env, text=True)
    finally:
        os.close(fd)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise Failed(t("cli.backup_pg_failed", exit=done.returncode, reason=lines[-1] if lines else "?"))
    try:
        os.replace(partial, dest)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise Failed(t("cli.backup_failed", path=dest, reason=_reason(exc))) from None
    print(t("cli.backup_pg_done", path=dest, url=bare))
    return 0
