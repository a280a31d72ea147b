"""Duty roster, statistics, chart and Excel export end to end (issue #10)."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook

from bot.emulator import SimUser
from bot.harness import Desk
from storage import roster
from tests.conftest import Cast
from tests.e2e.flows import file_report

HEADER = ["日期", "白班一岗", "白班二岗", "夜班一岗", "夜班二岗", "带班领导"]


def xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def count(user: SimUser, needle: str) -> int:
    return sum(1 for m in user.inbox if needle in (m.text or ""))


async def more_duty(desk: Desk) -> tuple[SimUser, SimUser]:
    return (await desk.register("duty2", "吴值班", "office", "duty"),
            await desk.register("duty3", "郑值班", "office", "duty"))


async def import_week(desk: Desk, cast: Cast) -> None:
    # FakeClock starts Monday 2026-11-23 10:00 Beijing: the day shift of the 23rd.
    data = xlsx([HEADER, ["2026-11-23", "陈值班", "吴值班", "郑值班", None, "孙区长"],
                 ["2026-11-24", "陈值班", None, "吴值班", None, "孙区长"]])
    await cast.admin.send_document("值班表.xlsx", content=data)
    done = await cast.admin.wait_for("值班表")
    assert "已导入：2 天（2026-11-23 至 2026-11-24），共 7 个岗位" in done.text, done.text


async def test_import_xlsx_and_show_the_week(desk: Desk, cast: Cast) -> None:
    await more_duty(desk)
    await import_week(desk, cast)
    await cast.duty.send_command("/duty")
    view = await cast.duty.wait_for("当前值班")
    assert "当前值班：陈值班、吴值班" in view.text and "带班领导：孙区长" in view.text
    assert "白班 08:30–17:30：陈值班、吴值班" in view.text and "夜班 17:30–08:30：郑值班" in view.text
    assert "11月25日（周三）\n  （未排班）" in view.text
    assert "/duty set" not in view.text  # duty officers may look, not edit
    await cast.duty.send_command("/duty", "set 今天 白班 陈值班")
    await cast.duty.wait_for("无权")
    await cast.admin.send_command("/duty", "set 11-30 夜班")
    assert "用法" not in (await cast.admin.wait_for("已更新")).text
    await cast.admin.send_command("/duty", "set 11-23 早班 陈值班")
    await cast.admin.wait_for("班次看不懂，请写 白班 / 夜班 或 带班")
    slots = await roster.between(desk.db.conn, desk.clock.now().date(), desk.clock.now().date())
    assert sorted((x.shift, x.post) for x in slots) == [("day", 1), ("day", 2), ("leader", 1), ("night", 1)]


async def test_bad_roster_lists_problems_and_changes_nothing(desk: Desk, cast: Cast) -> None:
    data = xlsx([HEADER, ["2026-11-23", "陈值班", "无此人", None, None, "李信息"],
                 ["某天", None, None, None, None, None]])
    await cast.admin.send_document("值班表.xlsx", content=data)
    msg = await cast.admin.wait_for("未导入")
    assert "第 2 行：「无此人」不是已登记的在用人员" in msg.text
    assert "第 2 行：「李信息」不是区领导或办公室主任" in msg.text and "第 3 行：日期「某天」看不懂" in msg.text
    assert await roster.between(desk.db.conn, desk.clock.now().date(), desk.clock.now().date()) == []
    # Only admins and directors may import; a duty officer is refused.
    await cast.duty.send_document("值班表.xlsx", content=data)
    assert "无权" in (await cast.duty.wait_for("无权")).text


async def test_alerts_go_to_the_officers_on_shift(desk: Desk, cast: Cast) -> None:
    duty2, duty3 = await more_duty(desk)
    await import_week(desk, cast)
    number = await file_report(desk, cast.officer)  # a fire: major
    await cast.duty.wait_for(f"突发事件 {number}")
    await duty2.wait_for(f"突发事件 {number}")
    await cast.leader.wait_for(f"突发事件 {number}")
    await cast.director.wait_for(f"突发事件 {number}")
    assert count(duty3, number) == 0  # on the night shift, not on now
    # The 8-minute "not yet forwarded" reminder goes to the officers on shift only (at its time: one
    # fired after the 10-minute target would be dropped, tests/e2e/test_stale_reminders.py).
    await desk.advance(minutes=8, seconds=5)
    assert count(cast.duty, "尚未上报市委") == 1 and count(duty2, "尚未上报市委") == 1
    assert count(duty3, "尚未上报市委") == 0
    # At the missed written report, the leader on duty hears of it too.
    await desk.advance(hours=1, minutes=53)
    await cast.leader.wait_for("迟报")
    await duty2.wait_for("迟报")
    assert count(duty3, "迟报") == 0
    assert count(cast.admin, "值班表缺失") == 0

    # /duty set by the director moves the day shift; the next alert follows it.
    await cast.director.send_command("/duty", "set 今天 白班 郑值班")
    assert "已更新 11月23日（周一） 白班：郑值班" in (await cast.director.wait_for("已更新")).text
    second = await file_report(desk, cast.officer, category="其他", casualties="无伤亡")
    await duty3.wait_for(f"突发事件 {second}")
    assert count(duty2, second) == 0 and count(cast.leader, second) == 0
    await cast.director.send_command("/duty", "set 今天 白班 李信息")
    assert "不是值班员" in (await cast.director.wait_for("不是值班员")).text


async def test_no_roster_alerts_every_duty_member_and_tells_admins_once(desk: Desk, cast: Cast) -> None:
    duty2, _ = await more_duty(desk)
    number = await file_report(desk, cast.officer)
    await cast.duty.wait_for(number)
    await duty2.wait_for(number)
    gap = await cast.admin.wait_for("值班表缺失")  # with the alert, no clock moved
    assert "11月23日（周一）" in gap.text
    await file_report(desk, cast.officer, category="其他")
    await desk.advance(hours=2)
    assert count(cast.admin, "值班表缺失") == 1
    async with desk.db.conn.execute("SELECT day, told_at IS NOT NULL FROM roster_gaps") as cur:
        assert [tuple(r) for r in await cur.fetchall()] == [("2026-11-23", 1)]
    # Before 08:30 it is still the 23rd's duty day; after it, a new day and a new notice.
    await desk.advance(hours=20, minutes=31)
    await file_report(desk, cast.officer, category="其他")
    assert "11月24日（周二）" in (await cast.admin.wait_for("值班表缺失")).text


async def test_rostered_duty_all_on_leave_without_stand_in_alerts_every_duty_member(desk: Desk, cast: Cast) -> None:
    duty2, duty3 = await more_duty(desk)
    await import_week(desk, cast)
    for user in (cast.duty, duty2):  # the day shift, both away with nobody standing in
        await desk.db.conn.execute(
            "INSERT INTO leave_requests(member_id, unit_code, kind, start_at, end_at, destination, reason, chain,"
            " status, created_at, on_leave) VALUES (?, 'office', 'personal', ?, ?, '郑州', '家事', 'staff',"
            " 'approved', ?, 1)", (await member_id(desk, user), utc(22, 16), utc(24, 16), utc(20, 1)))
    number = await file_report(desk, cast.officer)
    await duty3.wait_for(f"突发事件 {number}")  # off shift, but the only duty officer at hand
    assert count(cast.duty, number) == 0 and count(duty2, number) == 0
    assert "请假" in (await cast.admin.wait_for("值班表缺失")).text
    await desk.advance(minutes=8, seconds=30)
    assert count(duty3, "尚未上报市委") == 1


def test_cli_roster_import(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(tmp_path / "dutydesk.toml"), *args],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)

    assert run("init").returncode == 0
    db = sqlite3.connect(tmp_path / "dutydesk.sqlite3")
    db.execute("INSERT INTO members(id, telegram_id, name, unit_code, created_at) "
               "VALUES (1, 11, '陈值班', 'office', '2026-11-01T00:00:00.000000Z')")
    db.execute("INSERT INTO member_roles(member_id, role) VALUES (1, 'duty')")
    db.commit()
    csv_file = tmp_path / "roster.csv"
    csv_file.write_text("日期,白班一岗,夜班一岗\n2026-12-01,陈值班,\n2026-12-02,,陈值班\n", encoding="utf-8")
    out = run("roster", "import", str(csv_file))
    assert out.returncode == 0, out.stderr
    assert "2 天" in out.stdout
    rows = db.execute("SELECT day, shift, starts_at FROM roster_slots ORDER BY day").fetchall()
    assert rows == [("2026-12-01", "day", "2026-12-01T00:30:00.000000Z"),
                    ("2026-12-02", "night", "2026-12-02T09:30:00.000000Z")]
    csv_file.write_text("日期,白班一岗\n2026-12-03,无此人\n", encoding="gbk")
    bad = run("roster", "import", str(csv_file))
    assert bad.returncode == 2 and "无此人" in bad.stderr


# --- statistics, chart, export --------------------------------------------------------

BJ_NOV = "2026-11-{:02d}T{:02d}:{:02d}:00.000000Z"


def utc(day: int, hh: int, mm: int = 0) -> str:
    """A UTC timestamp as stored (Beijing = UTC+8)."""
    return BJ_NOV.format(day, hh, mm)


async def member_id(desk: Desk, user: SimUser) -> int:
    async with desk.db.conn.execute("SELECT id FROM members WHERE telegram_id=?", (user.id,)) as cur:
        row = await cur.fetchone()
    return int(row[0])


async def script_history(desk: Desk, cast: Cast) -> str:
    """One fire in 建设路街道 (first report on time, forwarded after 5 minutes, written report
    overdue), plus leave, a notice, two supervision items and information items written as rows."""
    number = await file_report(desk, cast.officer)
    alert = await cast.duty.wait_for(f"突发事件 {number}")
    await desk.advance(minutes=5)
    await cast.duty.press(alert, text="📤 已上报市委")
    await cast.duty.wait_for_answer()
    await desk.advance(hours=2, minutes=1)  # written report (2 h) now overdue; full report (3 h) not yet due
    officer, head, director = [await member_id(desk, u) for u in (cast.officer, cast.head, cast.director)]
    conn = desk.db.conn
    await conn.execute(
        "INSERT INTO leave_requests(member_id, unit_code, kind, start_at, end_at, destination, reason, chain, status,"
        " created_at) VALUES (?, 'jianshelu', 'personal', ?, ?, '北京', '=家事+1', 'staff', 'approved', ?)",
        (head, utc(19, 16), utc(22, 16), utc(18, 1)))
    await conn.execute(
        "INSERT INTO notices(id, kind, sender_id, unit_code, title, created_at, due_at) "
        "VALUES (1, 'notice', ?, 'office', '防汛会议通知', ?, ?)", (director, utc(20, 1), utc(20, 9)))
    await conn.execute("INSERT INTO notice_recipients(notice_id, member_id, unit_code, asked_id, acked_at) "
                       "VALUES (1, ?, 'jianshelu', ?, ?)", (officer, officer, utc(20, 1, 30)))
    await conn.execute("INSERT INTO notice_recipients(notice_id, member_id, unit_code, asked_id) "
                       "VALUES (1, ?, 'jianshelu', ?)", (head, head))
    await conn.execute("INSERT INTO supervision_tasks(id, title, source, created_by, created_at, due_at) "
                       "VALUES (1, '背街小巷整治', '区委常委会议定事项', ?, ?, ?)", (director, utc(10, 1), utc(21, 10)))
    await conn.execute("INSERT INTO supervision_assignments(task_id, unit_code, state, due_at, done_at) "
                       "VALUES (1, 'mianfanglu', 'done', ?, ?)", (utc(21, 10), utc(20, 3)))
    await conn.execute("INSERT INTO supervision_assignments(task_id, unit_code, state, due_at) "
                       "VALUES (1, 'jiaoti', 'accepted', ?)", (utc(21, 10),))
    for i, mark in enumerate(("city", "pending", "rejected")):
        await conn.execute("INSERT INTO info_items(unit_code, author_id, kind, title, body, submitted_at, week_end, "
                           "mark) VALUES ('xushui', ?, 'dynamic', ?, '正文', ?, ?, ?)",
                           (officer, f"信息{i}", utc(16 + i, 2), utc(20, 9), mark))
    return number


async def test_stats_figures_chart_and_permissions(desk: Desk, cast: Cast) -> None:
    await script_history(desk, cast)
    await cast.director.send_command("/stats")
    text = (await cast.director.wait_for("统计")).text
    assert "统计（2026-11-01 至 2026-11-23）" in text
    jianshelu = text.split("建设路街道")[1].split("棉纺路街道")[0]
    assert "突发事件 1 起；首报 按时1/迟报0/漏报0、书面报告 按时0/迟报1/漏报0" in jianshelu
    assert "及时率 50%" in jianshelu and "平均首报用时 0分钟" in jianshelu and "上报市委用时 5分钟" in jianshelu
    assert "请假 3 天；当前外出 0 人" in jianshelu and "通知签收率 50%（1/2）；平均签收用时 30分钟" in jianshelu
    assert "督办事项 按时办结 1、逾期 0" in text.split("棉纺路街道")[1].split("须水街道")[0]
    assert "督办事项 按时办结 0、逾期 1" in text.split("教体局")[1]
    assert "政务信息 报送 3、采用 1、得分 3" in text.split("须水街道")[1].split("教体局")[0]
    photo = await cast.director.wait_for(lambda m: m.kind == "photo")
    rec = desk.emu.file(photo.file_id or "")
    assert rec is not None and rec.content.startswith(b"\x89PNG")
    from PIL import Image

    img = Image.open(io.BytesIO(rec.content))
    assert img.format == "PNG" and img.size[0] >= 600

    for user in (cast.duty, cast.leader):
        await user.send_command("/stats", "week")
        assert "2026-11-23 至 2026-11-23" in (await user.wait_for("统计")).text
    for user in (cast.officer, cast.head, cast.admin):
        await user.send_command("/stats")
        await user.wait_for("无权")
        await user.send_command("/export")
        await user.wait_for("无权")
    await cast.director.send_command("/stats", "2026-13")
    await cast.director.wait_for("用法")


async def test_export_workbook_has_every_sheet_and_row(desk: Desk, cast: Cast) -> None:
    from openpyxl import load_workbook

    number = await script_history(desk, cast)
    await cast.leader.send_command("/export", "2026-11")
    doc = await cast.leader.wait_for(lambda m: m.kind == "document")
    assert doc.file_name == "值班台统计_2026-11-01_2026-11-30.xlsx" and "突发事件 1 起" in (doc.text or "")
    rec = desk.emu.file(doc.file_id or "")
    assert rec is not None
    wb = load_workbook(io.BytesIO(rec.content))
    assert wb.sheetnames[:9] == ["突发事件", "报送通报", "问责记录", "事件要素", "要素版本", "请销假", "通知签收",
                                 "督查督办", "政务信息"]
    inc = list(wb["突发事件"].iter_rows(values_only=True))
    assert inc[0][:4] == ("事件编号", "单位", "类别", "状态") and "书面报告情况" in inc[0]
    assert len(inc) == 2 and inc[1][0] == number and inc[1][1] == "建设路街道" and inc[1][2] == "火灾"
    row = dict(zip(inc[0], inc[1], strict=True))
    assert row["首报时间"].strftime("%Y-%m-%d %H:%M") == "2026-11-23 10:00"  # Beijing time
    assert row["上报用时（分钟）"] == 5 and row["首报情况"] == "按时" and row["书面报告情况"] == "迟报（未报）"
    assert wb["突发事件"].column_dimensions["A"].width == 11
    leave = list(wb["请销假"].iter_rows(values_only=True))
    assert len(leave) == 2 and leave[1][1] == "王主任" and leave[1][4].strftime("%m-%d %H:%M") == "11-20 00:00"
    assert leave[1][5].strftime("%m-%d %H:%M") == "11-22 23:59"  # whole days: the last day, not the next midnight
    assert leave[1][8] == "=家事+1" and wb["请销假"]["I2"].data_type == "s"  # typed text, never a live formula
    notes = list(wb["通知签收"].iter_rows(values_only=True))
    assert [r[8] for r in notes[1:]] == ["李信息", "王主任"] and notes[1][10] == 30 and notes[2][9] is None
    tasks = list(wb["督查督办"].iter_rows(values_only=True))
    assert [(r[3], r[9]) for r in tasks[1:]] == [("教体局", "逾期"), ("棉纺路街道", "按时办结")]
    info = list(wb["政务信息"].iter_rows(values_only=True))
    assert [(r[6], r[7]) for r in info[1:]] == [("市采用", 3), ("待审核", 0), ("未采用", 0)]
    # The chart font draws every unit name and label.
    from bot.services.stats_chart import missing_glyphs

    names = "".join(u.name for u in desk.services.config.units)
    assert missing_glyphs(names + "各单位突发事件报送及时率按时报送占比（%）无事件") == set()
