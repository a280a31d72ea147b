"""Unit chiefs (单位主要负责人, `unit_chief`) apart from unit office heads (`unit_head`): invites,
/members, re-roling with one command (chat and CLI), the migration's review list, what a chief
receives (the unit's major incidents and overdue items), and whose leave goes where.

The fake clock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.config import LeavePolicy, LeavePost
from bot.domain.members import Role
from bot.emulator import BotApiEmulator
from bot.harness import TOKEN, Desk
from storage import incidents, members
from storage.db import migrations
from tests.conftest import Cast
from tests.e2e.flows import file_report


async def test_invite_members_and_help_know_the_unit_chief(desk: Desk, cast: Cast) -> None:
    chief = await desk.register("chief", "高主任", "jianshelu", "unit_chief")
    welcome = [m for m in chief.inbox if "欢迎" in (m.text or "")][-1]
    assert "单位主要负责人" in welcome.text and "/incidents" in welcome.text and "/report" not in welcome.text
    await cast.admin.send_command("/members")
    listing = (await cast.admin.wait_for("人员名单")).text
    assert "高主任 — 单位主要负责人" in listing and "王主任 — 单位办公室主任" in listing
    await cast.admin.send_command("/invite")
    usage = (await cast.admin.wait_for("用法：/invite")).text
    assert "unit_chief（单位主要负责人）" in usage and "unit_head（单位办公室主任）" in usage
    await cast.admin.send_command("/invite", "xushui unit_chief 孙主任")
    assert "须水街道，单位主要负责人，孙主任" in (await cast.admin.wait_for("邀请已生成")).text
    # what a chief may look at: the unit's incidents and who of the unit is away, not another unit's
    await chief.send_command("/away")
    await chief.wait_for("无人请假外出")
    await chief.send_command("/incidents")
    await chief.wait_for("没有未结")


async def test_chief_receives_major_incidents_and_missed_deadlines_of_own_unit(desk: Desk, cast: Cast) -> None:
    chief = await desk.register("chief", "高主任", "jianshelu", "unit_chief")
    other_chief = await desk.register("other_chief", "钱主任", "mianfanglu", "unit_chief")
    await file_report(desk, cast.officer, category="其他")  # not major: the office head, not the chief
    await cast.head.wait_for("突发事件")
    assert not [m for m in chief.inbox if "突发事件" in (m.text or "")]
    number = await file_report(desk, cast.officer, category="火灾")  # major
    alert = await chief.wait_for(number)
    assert "火灾" in alert.text
    # The chief sees and follows it; 已收到 is the office's (#24): no button, and a forged press is refused.
    assert [t for t, _ in alert.buttons] == ["🔎 详情"]
    inc = await incidents.by_number(desk.db.read, number)
    assert inc is not None
    await chief.press_raw(f"i:ack:{inc.id}", alert.message_id)
    assert "无权" in ((await chief.wait_for_answer()).text or "")
    assert (await incidents.get(desk.db.read, inc.id)).acked_by is None  # type: ignore[union-attr]
    assert not [m for m in other_chief.inbox if number in (m.text or "")]
    # the written report is missed: the escalation reaches the unit's chief (overdue items of the unit)
    await desk.advance(hours=2, minutes=1)
    escalation = await chief.wait_for("迟报")
    assert "建设路街道" in escalation.text
    assert not [m for m in other_chief.inbox if "迟报" in (m.text or "")]


async def test_chief_hears_of_the_units_overdue_supervision_item(desk: Desk, cast: Cast) -> None:
    from tests.e2e.test_supervision import accept, assign

    chief = await desk.register("chief", "高主任", "jianshelu", "unit_chief")
    await assign(desk, cast, due="3天")
    await accept(desk, cast.head)
    await desk.advance(days=3, hours=8, minutes=1)  # Thursday 18:01
    overdue = await chief.wait_for("逾期：")
    assert "建设路街道" in overdue.text
    await chief.send_command("/tasks")
    assert "背街小巷环境整治" in (await chief.wait_for("督办事项")).text


POSTS = (LeavePost("party_secretary", "区委书记", (5,)), LeavePost("district_head", "区长", (4,)))


async def test_whose_leave_goes_where() -> None:
    """The unit office head's leave goes to the unit's chief; the chief's to the district government
    (政府办主任签报 → 区长审批 → 报区委备案); the unit's staff still ask the office head."""
    from tests.e2e.test_leave import ask_leave, decide

    overrides = {"leave": dataclasses.replace(LeavePolicy(), posts=POSTS)}
    async with Desk(config_overrides=overrides) as desk:
        head = await desk.register("head", "王主任", "jianshelu", "unit_head")  # 1
        chief = await desk.register("chief", "高主任", "jianshelu", "unit_chief")  # 2
        gov = await desk.register("gov", "张秘书长", "zhengfu", "director")  # 3
        district_head = await desk.register("dh", "孙区长", "zhengfu", "leader")  # 4
        secretary = await desk.register("sec", "吴书记", "quwei", "leader")  # 5
        director = await desk.register("director", "刘主任", "office", "director")  # 6
        officer = await desk.register("officer", "李信息", "jianshelu", "officer")  # 7

        await ask_leave(head, end="11-24")
        await desk.settle()
        await head.wait_for("已送「本单位主要负责人审批」：高主任")
        await decide(chief)
        await desk.settle()
        await head.wait_for("#1 已批准")
        await director.wait_for("请假备案 #1：已批准")
        assert not [m for m in gov.inbox if "请假审批" in (m.text or "")]

        await ask_leave(chief, start="11-26", end="11-27")
        await desk.settle()
        await decide(gov)
        await desk.settle()
        await decide(district_head)
        await desk.settle()
        await chief.wait_for("#2 已批准")
        await secretary.wait_for("请假报备 #2")  # 报区委备案

        await ask_leave(officer, start="11-30", end="11-30")
        await desk.settle()
        await officer.wait_for("已送「本单位负责人审批」：王主任")
        assert not [m for m in chief.inbox if "请假审批 #3" in (m.text or "")]


async def test_admin_re_roles_a_member_with_one_command(desk: Desk, cast: Cast) -> None:
    head = await members.by_telegram_id(desk.db.conn, cast.head.id)
    admin = await members.by_telegram_id(desk.db.conn, cast.admin.id)
    assert head is not None and admin is not None
    await cast.admin.send_command("/role", f"#{head.id} unit_chief")
    done = (await cast.admin.wait_for("已设置")).text
    assert "王主任" in done and "单位办公室主任 → 单位主要负责人" in done
    fresh = await members.by_id(desk.db.conn, head.id)
    assert fresh is not None and fresh.roles == {Role.UNIT_CHIEF}
    # bad input changes nothing and says why
    await cast.admin.send_command("/role", f"{head.id} boss")
    assert "boss" in (await cast.admin.wait_for("没有")).text
    for bad in ("abc", "²", "①"):  # digits that are not decimal numbers
        await cast.admin.send_command("/role", f"{bad} unit_chief")
        await cast.admin.wait_for("用法：/role")
    await cast.admin.send_command("/role", "999 unit_chief")
    await cast.admin.wait_for("没有编号为 999")
    await cast.admin.send_command("/role", f"{admin.id} duty")
    await cast.admin.wait_for("不能取消自己的管理员角色")
    await cast.head.send_command("/role", f"{head.id} admin")  # not an admin
    await cast.head.wait_for("无权")
    again = await members.by_id(desk.db.conn, head.id)
    assert again is not None and again.roles == {Role.UNIT_CHIEF}
    me = await members.by_id(desk.db.conn, admin.id)
    assert me is not None and me.roles == {Role.ADMIN}
    async with desk.db.tx() as conn:
        audit = await conn.execute_fetchall("SELECT detail FROM audit_log WHERE action='roles'")
    assert [r[0] for r in audit] == [f"#{head.id}: unit_head → unit_chief"]


def _version(name: str) -> int:
    return next(v for v, n, _sql in migrations() if n == name)


def _database_before_unit_chiefs(path: Path) -> None:
    """A database as the release before unit chiefs left it: street and office members, a pending
    leave request of a street head under the old chain name."""
    mine = _version("unit_chiefs")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        for version, _name, sql in migrations():
            if version < mine:
                conn.executescript(sql)
                conn.execute(f"PRAGMA user_version = {version}")
        now = "2026-11-20T02:00:00.000000Z"
        conn.executemany("INSERT INTO units(code, name, kind) VALUES (?,?,?)",
                         [("jianshelu", "建设路街道", "street"), ("jiaoti", "教体局", "bureau"),
                          ("office", "区委办公室", "office")])
        people = [(1, 20_001, "王主任", "jianshelu", "unit_head"), (2, 20_002, "马局长", "jiaoti", "unit_head"),
                  (3, 20_003, "周管理", "office", "admin"), (4, 20_004, "李信息", "jianshelu", "officer"),
                  (5, 20_005, "某主任", "office", "unit_head")]
        for mid, tid, name, unit, role in people:
            conn.execute("INSERT INTO members(id, telegram_id, name, unit_code, created_at) VALUES (?,?,?,?,?)",
                         (mid, tid, name, unit, now))
            conn.execute("INSERT INTO member_roles(member_id, role) VALUES (?,?)", (mid, role))
        conn.execute("INSERT INTO leave_requests(member_id, unit_code, kind, start_at, end_at, chain, created_at) "
                     "VALUES (1, 'jianshelu', 'personal', ?, ?, 'unit_heads', ?)",
                     ("2026-11-24T16:00:00.000000Z", "2026-11-25T16:00:00.000000Z", now))


async def test_migration_keeps_every_role_and_shows_the_admins_whom_to_review(tmp_path: Path) -> None:
    db = tmp_path / "desk.sqlite3"
    _database_before_unit_chiefs(db)
    emu = BotApiEmulator(token=TOKEN, bot_username="dutydesk_bot")
    await emu.start()
    admin = emu.user(20_003, "周管理", started=True)  # has a chat with the bot from the earlier release
    async with Desk(db_path=db, emulator=emu) as desk:
        review = await admin.wait_for("角色调整", timeout=10)
        assert "#1 王主任（建设路街道）" in review.text and "#2 马局长（教体局）" in review.text
        assert "某主任" not in review.text and "李信息" not in review.text  # office kind, officer: not listed
        everyone = {m.id: m.roles for m in await members.all_members(desk.db.conn)}
        assert everyone == {1: {Role.UNIT_HEAD}, 2: {Role.UNIT_HEAD}, 3: {Role.ADMIN}, 4: {Role.OFFICER},
                            5: {Role.UNIT_HEAD}}  # nothing changed, nothing lost
        from bot.services.leave import _chain

        chain = _chain(desk.services, "unit_heads")  # the pending request keeps its steps
        assert chain is not None and [st.label for st in chain.steps] == ["区政府办公室主任签报", "区长审批"]
        await admin.send_command("/role", "2 unit_chief")
        await admin.wait_for("已设置")
        await desk.restart()
        await desk.settle()
        assert len([m for m in admin.inbox if "角色调整" in (m.text or "")]) == 1  # told once
    await emu.stop()


def test_cli_role(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(tmp_path / "dutydesk.toml"), *args],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)

    assert run("init").returncode == 0
    with sqlite3.connect(tmp_path / "dutydesk.sqlite3") as conn:
        conn.execute("INSERT INTO members(id, telegram_id, name, unit_code, created_at) "
                     "VALUES (7, 30001, '王主任', 'jianshelu', '2026-11-20T02:00:00.000000Z')")
        conn.execute("INSERT INTO member_roles(member_id, role) VALUES (7, 'unit_head')")
    out = run("role", "7", "unit_chief")
    assert out.returncode == 0, out.stderr
    assert "unit_head -> unit_chief" in out.stdout
    bad = run("role", "7", "king")
    assert bad.returncode == 2 and "king" in bad.stderr
    missing = run("role", "99", "duty")
    assert missing.returncode == 2 and "99" in missing.stderr
    with sqlite3.connect(tmp_path / "dutydesk.sqlite3") as conn:
        assert conn.execute("SELECT role FROM member_roles WHERE member_id=7").fetchall() == [("unit_chief",)]
