"""`dutydesk migrate-db` and `dutydesk backup` on PostgreSQL (issue #28): a desk's SQLite file, filled by
driving the real bot, moved into PostgreSQL and verified; refusals that leave the target as it was.

Each test has its own database (migrate_<random>), dropped at the end. Skipped, with the reason, when
no PostgreSQL answers at 127.0.0.1:5432 or DUTYDESK_TEST_PG=off.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot import harness
from bot.harness import Desk
from storage import transfer
from tests.e2e.flows import file_report
from tests.e2e.test_duty_log import write_entry

HOSTILE = "<张&三> 🚒 \"O'Neil\""


@pytest.fixture(scope="session")
def pg_server() -> str:
    reason = asyncio.run(harness.test_server_problem())
    if reason:
        print(f"\nskipping the PostgreSQL tests of dutydesk migrate-db and backup: {reason}", file=sys.stderr)
        pytest.skip(reason)
    return harness.test_server()


@pytest.fixture
async def pg_url(pg_server: str) -> AsyncIterator[str]:
    """An empty database of this test's own on the test server (migrate_<random>), dropped at the end."""
    import asyncpg

    name = f"migrate_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield urlunsplit(urlsplit(pg_server)._replace(path=f"/{name}", query=""))
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def dutydesk(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "DUTYDESK_DATABASE_PASSWORD")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=full)


async def migrate(cwd: Path, source: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(dutydesk, cwd, "migrate-db", "--from", str(source), "--to", url, *extra)


async def fetch(url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    import asyncpg

    pg = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await pg.fetch(sql, *args)]
    finally:
        await pg.close()


def init_desk(tmp: Path) -> Path:
    """`dutydesk init` in tmp: a config and a real, small DutyDesk database (its units)."""
    out = dutydesk(tmp, "--config", str(tmp / "dutydesk.toml"), "init")
    assert out.returncode == 0, out.stderr
    return tmp / "dutydesk.sqlite3"


def pg_config(tmp: Path, url: str) -> Path:
    """The example config pointed at PostgreSQL."""
    path = tmp / "pg.toml"
    text = (tmp / "dutydesk.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('database = "dutydesk.sqlite3"', f'database = "{url}"', 1), encoding="utf-8")
    return path


async def counts(url: str) -> dict[str, int]:
    """Rows per table of the desk (PgDatabase's own desk_schema, the schema version, left out)."""
    rows = await fetch(url, "SELECT relname::text FROM pg_stat_user_tables WHERE relname != 'desk_schema'")
    names = [str(r[0]) for r in rows]
    return {n: int((await fetch(url, f'SELECT count(*) FROM "{n}"'))[0][0]) for n in names}


# --- refused before the target is touched (no PostgreSQL needed) --------------------------------


def test_a_password_in_the_address_is_refused_and_not_echoed(tmp_path: Path) -> None:
    db = init_desk(tmp_path)
    for url in ("postgresql://duty:s3cret@127.0.0.1/desk", "postgresql://duty@127.0.0.1/desk?password=s3cret"):
        out = dutydesk(tmp_path, "migrate-db", "--from", str(db), "--to", url)
        assert out.returncode == 2 and "不能带密码" in out.stderr and "DUTYDESK_DATABASE_PASSWORD" in out.stderr
        assert "s3cret" not in out.stderr + out.stdout
    out = dutydesk(tmp_path, "migrate-db", "--from", str(db), "--to", "mysql://duty@127.0.0.1/desk")
    assert out.returncode == 2 and "不是 PostgreSQL 数据库地址" in out.stderr
    assert "never the URL" in dutydesk(tmp_path, "migrate-db", "--help").stdout.replace("\n", " ")


def test_a_file_that_is_no_dutydesk_database_or_at_another_version_is_refused(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/none"  # never reached: the source is refused first
    (tmp_path / "notes.txt").write_text("not a database " * 100, encoding="utf-8")
    sqlite3.connect(tmp_path / "other.sqlite3").execute("CREATE TABLE t (x)").connection.close()
    for name, why in (("notes.txt", "file is not a database"), ("other.sqlite3", "no table"),
                      ("missing.sqlite3", "no such file")):
        out = dutydesk(tmp_path, "migrate-db", "--from", str(tmp_path / name), "--to", url)
        assert out.returncode == 2 and "不是值班台数据库" in out.stderr and why in out.stderr, out.stderr
    db = init_desk(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {transfer.code_version() - 1}")
    out = dutydesk(tmp_path, "migrate-db", "--from", str(db), "--to", url)
    assert out.returncode == 2 and f"第 {transfer.code_version() - 1} 版" in out.stderr and "dutydesk run" in out.stderr
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {transfer.code_version() + 1}")
    out = dutydesk(tmp_path, "migrate-db", "--from", str(db), "--to", url)
    assert out.returncode == 2 and "更新版本的 dutydesk" in out.stderr


def test_a_running_bot_holding_the_lease_is_refused(tmp_path: Path) -> None:
    import fcntl

    db = init_desk(tmp_path)
    with open(str(db) + ".lease", "wb") as lease:
        fcntl.flock(lease.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # what `dutydesk run` holds
        out = dutydesk(tmp_path, "migrate-db", "--from", str(db), "--to", "postgresql://postgres@127.0.0.1:1/x")
    assert out.returncode == 1 and "请先停止机器人" in out.stderr and ".lease" in out.stderr


# --- on PostgreSQL ------------------------------------------------------------------------------


async def test_a_desk_moves_to_postgresql_verified_and_the_bot_carries_on_there(tmp_path: Path, pg_url: str) -> None:
    """Filled through the real bot on SQLite (hostile names and text, NULLs, an open incident with its
    deadlines), moved, verified; then the same bot on PostgreSQL: the deadline fires once, ids go on."""
    db = tmp_path / "desk.sqlite3"
    async with Desk(db_path=db) as desk:
        officer = await desk.register("officer", HOSTILE, "jianshelu", "officer")
        duty = await desk.register("duty", "陈值班", "office", "duty")
        director = await desk.register("director", "刘主任", "office", "director")
        number = await file_report(desk, officer, gps=False, place="A&B <路> 🔥", description="</b>&amp; 起火 🚒")
        await write_entry(duty, source=HOSTILE, content="<i>未闭合 & 😀", action=None, pending=None)
        await officer.send_command("/report")  # a second report, left half-way
        await officer.press(await officer.wait_for("类别"), text="火灾")
        occurred = await officer.wait_for("发生时间")
        await desk.settle()
        await desk.stop_bot()
        with sqlite3.connect(db) as conn:
            names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                     if n not in transfer.NOT_MOVED]
            source_counts = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
        out = await migrate(tmp_path, db, pg_url)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].split() == ["表", "SQLite", "行数", "PostgreSQL", "行数", "抽查行数", "结果"]
        table_rows = {line.split()[0]: line.split()[1:] for line in lines[1:-1]}
        assert set(table_rows) == set(source_counts)
        for name, n in source_counts.items():  # sampled: every row of a small table, else 50 + first + last
            copied, target, sampled, result = table_rows[name]
            assert (int(copied), int(target), result) == (n, n, "已核对"), name
            assert int(sampled) == n if n <= 50 else 50 <= int(sampled) <= 52
        assert lines[-1].startswith(f"迁移完成，核对无误：{len(source_counts)} 张表") and pg_url in lines[-1]
        target_counts = await counts(pg_url)
        assert {name: target_counts[name] for name in source_counts} == source_counts
        with sqlite3.connect(db) as conn:  # every identity gives max(id) + 1 next (a table never used: 1)
            tops = {n: conn.execute(f'SELECT coalesce(max(id), 0) FROM "{n}"').fetchone()[0] for n in names
                    if "id" in [c[1] for c in conn.execute(f'PRAGMA table_info("{n}")')]}
        identities = await fetch(pg_url, "SELECT table_name::text, pg_get_serial_sequence(table_name, 'id') "
                                         "FROM information_schema.columns WHERE table_schema = current_schema() "
                                         "AND column_name = 'id' AND is_identity = 'YES'")
        assert len(identities) > 30 and tops["members"] == 3 and tops["incidents"] == 1
        for table, seq in identities:
            assert await fetch(pg_url, f"SELECT last_value, is_called FROM {seq}") == [(tops[table] + 1, False)], table
        assert await fetch(pg_url, "SELECT name, username, phone FROM members WHERE telegram_id = $1",
                           officer.id) == [(HOSTILE, None, None)]
        assert await fetch(pg_url, "SELECT place, description, status, acked_at, latitude FROM incidents "
                                   "WHERE number = $1", number) == [
            ("A&B <路> 🔥", "</b>&amp; 起火 🚒", "open", None, None)]
        assert await fetch(pg_url, "SELECT source, content, action, pending, pending_done_at FROM duty_log") == [
            (HOSTILE, "<i>未闭合 & 😀", "", "", None)]

        # The same bot, clock and people, now on PostgreSQL.
        desk.db_target = pg_url
        assert desk.config is not None
        desk.config = desk.config.replace(general=dataclasses.replace(desk.config.general, database=pg_url))
        try:
            await desk.start_bot()
            assert desk.db.path == pg_url
            await officer.press(occurred, text="刚刚")  # the dialogue goes on at its step
            await officer.wait_for("事发地点")
            await officer.send_text("中原路 <2号> & 🚧")
            await officer.press(await officer.wait_for("伤亡情况"), text="无伤亡")
            await officer.wait_for("简要描述")
            await officer.send_text("迁移后续报")
            await officer.press(await officer.wait_for("请核对"), text="✅ 确认上报")
            assert "2026-0002" in ((await officer.wait_for("事件编号")).text or "")
            await desk.settle()
            def reminders() -> int:
                return sum(1 for m in duty.inbox if "尚未上报市委" in (m.text or "") and number in (m.text or ""))

            assert reminders() == 0
            await desk.advance(minutes=8, seconds=5)  # the incident's forward clock, from the SQLite days
            await duty.wait_for(lambda m: "尚未上报市委" in (m.text or "") and number in (m.text or ""))
            await desk.advance(minutes=30)
            assert reminders() == 1
            alert = await director.wait_for(number)
            await director.press(alert, text="📤 已上报市委")
            assert "分钟" in (await director.wait_for_answer()).text
            assert number == "2026-0001"
            newcomer = await desk.register("newcomer", "新人 <b>", "xushui", "officer")
            assert await fetch(pg_url, "SELECT id, place FROM incidents ORDER BY id") == [
                (1, "A&B <路> 🔥"), (2, "中原路 <2号> & 🚧")]
            assert await fetch(pg_url, "SELECT id FROM members WHERE telegram_id = $1", newcomer.id) == [(4,)]
            assert await fetch(pg_url, "SELECT forwarded_at IS NOT NULL FROM incidents WHERE id = 1") == [(True,)]
        finally:
            await desk.stop_bot()
            desk.db_target = str(db)  # the harness drops only schemas it made; this database is the fixture's


async def test_a_target_that_holds_rows_is_refused_and_left_as_it_was(tmp_path: Path, pg_url: str) -> None:
    db = init_desk(tmp_path)
    first = await migrate(tmp_path, db, pg_url)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE units SET name = '改过' WHERE code = 'xushui'")
    before = await counts(pg_url)
    again = await migrate(tmp_path, db, pg_url)
    assert again.returncode == 2 and "已有数据" in again.stderr and "units 11" in again.stderr
    assert "DROP SCHEMA public CASCADE" in again.stderr and "createdb" in again.stderr
    assert await counts(pg_url) == before
    assert await fetch(pg_url, "SELECT name FROM units WHERE code = 'xushui'") == [("须水街道",)]


async def test_a_value_that_does_not_fit_stops_the_move_naming_table_row_and_column(
    tmp_path: Path, pg_url: str,
) -> None:
    db = init_desk(tmp_path)
    with sqlite3.connect(db) as conn:  # SQLite keeps text that is no number in an INTEGER column
        conn.execute("UPDATE units SET active = 'yes' WHERE code = 'xushui'")
    out = await migrate(tmp_path, db, pg_url)
    assert out.returncode == 1, out.stderr
    assert "表 units 的行 code='xushui'，列 active 的值 'yes'不是整数" in out.stderr, out.stderr
    assert "未做任何改动" in out.stderr
    assert sum((await counts(pg_url)).values()) == 0  # rolled back: not a row
    with sqlite3.connect(db) as conn:  # text that is not UTF-8
        conn.execute("UPDATE units SET active = 1, name = CAST(X'E5BBBAFF' AS TEXT) WHERE code = 'xushui'")
    out = await migrate(tmp_path, db, pg_url)
    assert out.returncode == 1 and "表 units 的行 code='xushui'，列 name 的值 '建\\\\xff'不是 UTF-8 文本" \
        in out.stderr, out.stderr
    with sqlite3.connect(db) as conn:  # the row put right, the same target takes the move
        conn.execute("UPDATE units SET name = '须水街道' WHERE code = 'xushui'")
    out = await migrate(tmp_path, db, pg_url)
    assert out.returncode == 0, out.stderr
    assert await fetch(pg_url, "SELECT active FROM units WHERE code = 'xushui'") == [(1,)]


async def test_the_instances_run_time_rows_stay_behind(tmp_path: Path, pg_url: str) -> None:
    """desk_instances (active/standby heartbeats) is the old processes' state, not the district's."""
    db = init_desk(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS desk_instances (instance TEXT PRIMARY KEY, host TEXT NOT NULL, "
                     "pid INTEGER NOT NULL, role TEXT NOT NULL, started_at TEXT NOT NULL, active_since TEXT, "
                     "heartbeat_at TEXT NOT NULL)")  # the lease's 0020, where it has not landed yet
        conn.execute("INSERT INTO desk_instances VALUES ('old-host:1', 'old-host', 1, 'active', "
                     "'2026-12-05T10:00:00.000000Z', '2026-12-05T10:00:00.000000Z', '2026-12-05T10:00:00.000000Z')")
    out = await migrate(tmp_path, db, pg_url)
    assert out.returncode == 0, out.stderr
    assert "desk_instances" not in out.stdout
    assert [r for r in await fetch(pg_url, "SELECT to_regclass('desk_instances')::text") if r[0]] == [] or \
        await fetch(pg_url, "SELECT count(*) FROM desk_instances") == [(0,)]


async def test_backup_on_postgresql_is_a_dump_pg_restore_lists(tmp_path: Path, pg_url: str) -> None:
    db = init_desk(tmp_path)
    assert (await migrate(tmp_path, db, pg_url)).returncode == 0
    config = pg_config(tmp_path, pg_url)
    (tmp_path / "backups").mkdir()
    out = await asyncio.to_thread(dutydesk, tmp_path, "--config", str(config), "backup", str(tmp_path / "backups"))
    assert out.returncode == 0, out.stderr
    [dump] = list((tmp_path / "backups").iterdir())
    assert dump.suffix == ".dump" and (dump.stat().st_mode & 0o777) == 0o600
    assert "pg_restore" in out.stdout and str(dump) in out.stdout
    listed = subprocess.run(["pg_restore", "-l", str(dump)], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "TABLE DATA public units" in listed.stdout, listed.stderr

    # A desk in a schema of its own (?search_path=…, which libpq does not know): that schema alone is
    # dumped, and what pg_restore puts back is the desk.
    in_schema = f"{pg_url}?search_path=desk_b"
    assert (await migrate(tmp_path, db, in_schema)).returncode == 0
    config = pg_config(tmp_path, in_schema)
    out = await asyncio.to_thread(dutydesk, tmp_path, "--config", str(config), "backup", str(tmp_path / "b.dump"))
    assert out.returncode == 0, out.stderr
    assert f"pg_restore --no-owner --dbname {pg_url} {tmp_path / 'b.dump'}" in out.stdout
    listed = subprocess.run(["pg_restore", "-l", str(tmp_path / "b.dump")], capture_output=True, text=True, timeout=60)
    assert "TABLE DATA desk_b units" in listed.stdout and " public " not in listed.stdout
    import asyncpg

    restored = f"migrate_restored_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(harness.test_server())
    try:
        await admin.execute(f"CREATE DATABASE {restored}")
        into = urlunsplit(urlsplit(pg_url)._replace(path=f"/{restored}"))
        done = await asyncio.to_thread(subprocess.run, ["pg_restore", "--no-owner", "--dbname", into,
                                                        str(tmp_path / "b.dump")], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert await fetch(into, "SELECT count(*) FROM desk_b.units") == [(11,)]
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {restored} WITH (FORCE)")
        await admin.close()


async def test_backup_without_pg_dump_or_with_an_older_one_says_what_to_install(tmp_path: Path, pg_url: str) -> None:
    init_desk(tmp_path)
    config = pg_config(tmp_path, pg_url)
    empty = tmp_path / "bin-empty"
    empty.mkdir()
    out = await asyncio.to_thread(dutydesk, tmp_path, "--config", str(config), "backup", str(tmp_path / "b.dump"),
                                  env={"PATH": str(empty)})
    major = (await fetch(pg_url, "SHOW server_version_num"))[0][0]
    major = int(str(major)) // 10000
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (f"找不到 pg_dump，无法备份 PostgreSQL 数据库：请安装 PostgreSQL {major} "
                                  f"或更新版本的客户端（如 apt install postgresql-client-{major}）。")
    old = tmp_path / "bin-old"
    old.mkdir()
    fake = old / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n", encoding="utf-8")
    fake.chmod(0o755)
    out = await asyncio.to_thread(dutydesk, tmp_path, "--config", str(config), "backup", str(tmp_path / "b.dump"),
                                  env={"PATH": f"{old}:/usr/bin:/bin"})
    assert out.returncode == 2 and "pg_dump 是 9.6 版" in out.stderr and f"postgresql-client-{major}" in out.stderr
    assert not (tmp_path / "b.dump").exists()


async def test_a_row_whose_parent_is_gone_stops_the_move_and_says_which(tmp_path: Path, pg_url: str) -> None:
    """SQLite checks foreign keys only when told to: a row left by a time it was not is named, not copied."""
    db = init_desk(tmp_path)
    with sqlite3.connect(db) as conn:  # foreign_keys is off on a plain connection
        conn.execute("INSERT INTO member_roles(member_id, role) VALUES (999, 'officer')")
    out = await migrate(tmp_path, db, pg_url)
    assert out.returncode == 1, out.stderr
    assert "迁移失败，已全部回滚" in out.stderr and "member_roles" in out.stderr and "(999)" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert sum((await counts(pg_url)).values()) == 0


async def test_a_copy_that_does_not_verify_is_rolled_back(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Counts and sampled rows are compared before the commit: a difference is shown and leaves the target empty."""
    import asyncpg

    from bot.cli import Failed
    from bot.cli_migrate import migrate as migrate_in_process
    from bot.i18n import TerminalTexts
    from storage.transfer import _copy

    db = init_desk(tmp_path)
    copy = _copy.copy_table

    async def lossy(src: sqlite3.Connection, pg: asyncpg.Connection, plan: object) -> int:
        n = await copy(src, pg, plan)  # type: ignore[arg-type]
        if plan.table.name == "units":  # type: ignore[attr-defined]
            await pg.execute("UPDATE units SET name = name || '?' WHERE code = 'xushui'")
            await pg.execute("DELETE FROM units WHERE code = 'office'")
        return n

    monkeypatch.setattr(_copy, "copy_table", lossy)
    with pytest.raises(Failed) as err:
        await migrate_in_process(db, pg_url, TerminalTexts("zh"))
    assert err.value.code == 1 and "核对未通过，已全部回滚，目标数据库仍为空" in str(err.value)
    shown = capsys.readouterr().out.splitlines()
    assert [line.split() for line in shown if line.startswith("units ")] == [["units", "11", "10", "11", "不一致"]]
    assert [line.split()[-1] for line in shown[1:] if not line.startswith(" ") and not line.startswith("units ")] \
        == ["已核对"] * (len([line for line in shown if not line.startswith(" ")]) - 2)
    assert "  units：name at code='xushui': '须水街道' ≠ '须水街道?'" in shown
    assert "  units：code='office': 0 rows in the target" in shown
    assert sum((await counts(pg_url)).values()) == 0


async def test_backup_hands_pg_dump_the_password_in_its_environment_only(tmp_path: Path, pg_url: str) -> None:
    """A stand-in pg_dump records what it was given: the password is in PGPASSWORD, never in its arguments."""
    init_desk(tmp_path)
    config = pg_config(tmp_path, pg_url)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pg_dump"
    fake.write_text("#!/bin/sh\n"
                    "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 99.1'; exit 0; fi\n"
                    f"echo \"$@\" > {tmp_path}/argv; echo \"$PGPASSWORD\" > {tmp_path}/password; echo DUMP\n",
                    encoding="utf-8")
    fake.chmod(0o755)
    out = await asyncio.to_thread(dutydesk, tmp_path, "--config", str(config), "backup", str(tmp_path / "x.dump"),
                                  env={"PATH": f"{bin_dir}:/usr/bin:/bin", "DUTYDESK_DATABASE_PASSWORD": "Pa55-word"})
    assert out.returncode == 0, out.stderr
    argv = (tmp_path / "argv").read_text(encoding="utf-8")
    assert "Pa55-word" not in argv and "--format=custom" in argv and f"--dbname={pg_url}" in argv
    assert (tmp_path / "password").read_text(encoding="utf-8").strip() == "Pa55-word"
    assert (tmp_path / "x.dump").read_text(encoding="utf-8") == "DUMP\n"
    assert (tmp_path / "x.dump").stat().st_mode & 0o777 == 0o600
    assert "Pa55-word" not in out.stdout + out.stderr
