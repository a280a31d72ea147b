"""Routine information end to end: /info, adoption marks, quota reminders, week close, monthly bulletin.

The FakeClock starts Monday 2026-11-23 10:00 Beijing: the quota week ends Friday 11-27 17:00,
reminders come Thursday 17:00 and Friday 12:00, the bulletin on 12-01 09:00.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import InfoPolicy
from bot.domain.info import InfoDraft, Mark
from bot.emulator import SimUser
from bot.harness import Desk
from bot.services import info as svc
from storage import deadlines, members
from storage.uow import Tx
from tests.conftest import Cast

BJ = ZoneInfo("Asia/Shanghai")


async def advance_to(desk: Desk, *when: int) -> None:
    await desk.advance(datetime(*when, tzinfo=BJ) - desk.clock.now())  # type: ignore[misc, attr-defined]


async def submit(desk: Desk, user: SimUser, title: str = "一条信息", kind: str = "dynamic") -> int:
    """Through the service layer (the dialogue itself is tested once, below)."""
    member = await members.by_telegram_id(desk.db.conn, user.id)
    assert member is not None
    draft = InfoDraft(kind=kind, title=title, body="正文")
    done = await svc.submit(desk.services, member, draft, at=desk.services.now())
    await desk.settle()
    return done.item.id


async def mark(desk: Desk, who: SimUser, item_id: int, value: Mark) -> None:
    member = await members.by_telegram_id(desk.db.conn, who.id)
    assert member is not None
    await svc.mark(desk.services, member, item_id, value.value)
    await desk.settle()


def texts(user: SimUser) -> list[str]:
    return [m.text or "" for m in user.inbox]


async def test_submit_dialogue_review_and_adoption(desk: Desk, cast: Cast) -> None:
    editor = await desk.register("editor", "吴编辑", "office", "info_editor")
    o = cast.officer
    await o.send_command("/info")
    await o.press(await o.wait_for("请选择信息类别"), text="经济运行")
    await o.wait_for("信息标题")
    await o.send_text("建设路街道前三季度<b>经济</b>运行平稳")
    await o.wait_for("信息正文")
    await o.send_text("规上工业增加值同比增长 6.1%。")
    check = await o.wait_for("请核对")
    await o.send_photo()
    await o.wait_for("已附附件，共 1 个")
    await o.press(check, text="✅ 提交")
    receipt = await o.wait_for("已报送")
    assert "还差 1 条" in receipt.text and "11-27 17:00" in receipt.text
    await desk.settle()

    review = await cast.director.wait_for("新报送信息 #1")
    assert "<b>经济</b>" in review.text  # user text escaped, shown as typed
    assert "经济运行" in review.text and "李信息" in review.text
    assert "新报送信息 #1" in (await editor.wait_for("新报送信息 #1")).text
    assert not any("新报送信息" in t for t in texts(cast.duty) + texts(cast.leader) + texts(cast.head))

    await cast.director.press(review, text="市采用")
    answer = await cast.director.wait_for_answer()
    assert "市采用" in (answer.text or "")
    await desk.settle()
    told = await o.wait_for("已被标记为「市采用」")
    assert "+3 分" in told.text
    assert "+3 分" in (await cast.head.wait_for("市采用")).text
    assert not any("市采用" in t for t in texts(cast.other_officer))
    editor_copy = next(m for m in editor.inbox if "新报送信息 #1" in (m.text or ""))
    assert "已标记：市采用（刘主任" in (editor_copy.text or "")  # every reviewer's copy was edited

    await cast.director.press(review, text="市采用")  # the same mark twice is refused
    assert "无需重复标记" in ((await cast.director.wait_for_answer()).text or "")

    await editor.press(editor_copy, text="领导批示")  # an info editor upgrades the mark
    await desk.settle()
    assert "+5 分" in (await o.wait_for("领导批示")).text


async def test_permissions_and_forged_buttons(desk: Desk, cast: Cast) -> None:
    item = await submit(desk, cast.officer)
    review = await cast.director.wait_for("新报送信息")
    # an officer forging the director's button on a message of their own chat
    await cast.officer.press_raw(f"n:city:{item}", cast.officer.inbox[-1].message_id)
    assert "无权" in ((await cast.officer.wait_for_answer()).text or "")
    await cast.leader.press_raw(f"n:province:{item}", cast.leader.inbox[-1].message_id)
    assert "无权" in ((await cast.leader.wait_for_answer()).text or "")
    for forged in ("n:city:99999", "n:bogus:1", f"n:pending:{item}", "n:city:1:2", "n:city"):
        await cast.director.press_raw(forged, review.message_id)
        assert "失效" in ((await cast.director.wait_for_answer()).text or ""), forged
    await desk.settle()
    from storage import info

    got = await info.get(desk.db.conn, item)
    assert got is not None and got.mark is Mark.PENDING
    await cast.duty.send_command("/info")
    assert "无权" in (await cast.duty.wait_for()).text
    await cast.admin.send_command("/infostats")
    assert "无权" in (await cast.admin.wait_for()).text


async def test_quota_reminders_only_to_short_units_and_week_rollover(desk: Desk, cast: Cast) -> None:
    await submit(desk, cast.officer, "一")
    await submit(desk, cast.head, "二")  # 建设路街道 meets its quota of 2
    await submit(desk, cast.other_officer, "三")  # 棉纺路街道 still owes 1
    await advance_to(desk, 2026, 11, 26, 16, 59)
    assert not any("政务信息报送提醒" in t for t in texts(cast.other_officer))
    await advance_to(desk, 2026, 11, 26, 17, 0)
    remind = await cast.other_officer.wait_for("政务信息报送提醒")
    assert "棉纺路街道" in remind.text and "还差 1 条" in remind.text and "11-27 17:00" in remind.text
    assert not any("政务信息报送提醒" in t for t in texts(cast.officer) + texts(cast.head) + texts(cast.director))

    await advance_to(desk, 2026, 11, 27, 12, 0)  # the second reminder, the button opens /info
    second = await cast.other_officer.wait_for("政务信息报送提醒")
    await cast.other_officer.press(second, text="✍️ 报送信息")
    await cast.other_officer.wait_for("请选择信息类别")
    await cast.other_officer.send_command("/cancel")

    await advance_to(desk, 2026, 11, 27, 17, 0)  # the week closes
    from bot.domain import cron
    from storage import info

    week_end = cron.parse("0 17 * * fri").at_or_after(desk.clock.now(), BJ)
    short = {code for code, _sent, _quota in await info.short_weeks(desk.db.conn, week_end)}
    assert "mianfanglu" in short and "jianshelu" not in short and "office" not in short
    assert {"xushui", "jiaoti", "huanbao", "jianshe"} <= short

    await advance_to(desk, 2026, 11, 27, 18, 0)  # after the deadline: counts for next week
    member = await members.by_telegram_id(desk.db.conn, cast.officer.id)
    assert member is not None
    draft = InfoDraft(kind="other", title="下周的", body="x")
    done = await svc.submit(desk.services, member, draft, at=desk.services.now())
    assert "12-04 17:00" in done.receipt and "已报送 1 条" in done.receipt

    await advance_to(desk, 2026, 12, 3, 17, 0)  # next Thursday: both units short again
    assert "还差 1 条" in (await cast.officer.wait_for("政务信息报送提醒")).text
    assert "还差 2 条" in (await cast.other_officer.wait_for("政务信息报送提醒")).text


async def test_monthly_bulletin_ranking_and_infostats(desk: Desk, cast: Cast) -> None:
    a1 = await submit(desk, cast.officer, "甲一")
    a2 = await submit(desk, cast.head, "甲二")
    a3 = await submit(desk, cast.officer, "甲三")
    b1 = await submit(desk, cast.other_officer, "乙一")
    await mark(desk, cast.director, a1, Mark.DISTRICT)  # 1
    await mark(desk, cast.director, a2, Mark.CITY)  # 3
    await mark(desk, cast.director, a3, Mark.REJECTED)  # 0
    await mark(desk, cast.director, b1, Mark.PROVINCE)  # 5

    await cast.officer.send_command("/infostats")
    stats = await cast.officer.wait_for("政务信息报送统计")
    lines = stats.text.splitlines()
    assert "2026年11月" in lines[0]
    assert "1. 棉纺路街道：报送 1，采用 1（区0/市0/省1/批示0），得分 5，定额达标 0/0 周" in lines
    assert "2. 建设路街道：报送 3，采用 2（区1/市1/省0/批示0），得分 4，定额达标 0/0 周" in lines
    assert "3. 须水街道：报送 0，采用 0（区0/市0/省0/批示0），得分 0，定额达标 0/0 周" in lines
    assert "合计：报送 4 条，采用 3 条。" in lines
    assert not any("区委办公室" in line for line in lines)  # the office owes no quota

    await advance_to(desk, 2026, 12, 1, 8, 59)
    assert not any("情况通报" in t for t in texts(cast.director))
    await advance_to(desk, 2026, 12, 1, 9, 0)
    bulletin = await cast.director.wait_for("2026年11月 政务信息报送情况通报")
    assert "2. 建设路街道：报送 3，采用 2（区1/市1/省0/批示0），得分 4，定额达标 1/1 周" in bulletin.text
    assert "1. 棉纺路街道：报送 1，采用 1（区0/市0/省1/批示0），得分 5，定额达标 0/1 周" in bulletin.text
    assert not any("情况通报" in t for t in texts(cast.officer) + texts(cast.leader))

    # A December upgrade counts in December; November's figures stay as they were.
    await mark(desk, cast.director, a1, Mark.INSTRUCTION)
    await cast.director.send_command("/infostats", "2026-12")
    dec = await cast.director.wait_for("2026年12月")
    assert "1. 建设路街道：报送 0，采用 1（区0/市0/省0/批示1），得分 5" in dec.text
    await cast.director.send_command("/infostats", "11")
    nov = await cast.director.wait_for("2026年11月")
    assert "2. 建设路街道：报送 3，采用 1（区0/市1/省0/批示0），得分 3" in nov.text
    await cast.director.send_command("/infostats", "十一月")
    assert "用法" in (await cast.director.wait_for()).text


async def test_a_failing_effect_is_undone_and_the_schedule_goes_on(
    desk: Desk, cast: Cast, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """A quota reminder that fails half-way: what it wrote is undone, never sent (the savepoint of
    storage/uow.py), and the next Thursday's reminder is still planned and goes out."""
    real = svc.remind_short_units

    async def failing(s: object, tx: Tx, week_end: datetime) -> int:
        await tx.send_text(cast.director.id, "写了一半的提醒")
        raise RuntimeError("boom")

    monkeypatch.setattr(svc, "remind_short_units", failing)
    await advance_to(desk, 2026, 11, 26, 17, 0)
    await desk.settle()
    assert "info: quota reminder failed" in caplog.text
    assert not any("写了一半的提醒" in t for t in texts(cast.director))
    monkeypatch.setattr(svc, "remind_short_units", real)
    await advance_to(desk, 2026, 12, 3, 17, 0)
    assert "还差 2 条" in (await cast.officer.wait_for("政务信息报送提醒")).text


async def test_recurring_rows_survive_restart_once(desk: Desk, cast: Cast) -> None:
    async def pending() -> list[tuple[str, str, str]]:
        async with desk.db.conn.execute(
            "SELECT kind, stage, due_at FROM deadlines WHERE kind LIKE 'info.%' AND fired_at IS NULL "
            "AND cancelled_at IS NULL ORDER BY kind, stage"
        ) as cur:
            return [tuple(r) for r in await cur.fetchall()]  # type: ignore[misc]

    before = await pending()
    assert [(k, s) for k, s, _ in before] == [
        ("info.monthly", "0 9 1 * *"), ("info.remind", "0 12 * * fri"), ("info.remind", "0 17 * * thu"),
        ("info.week_close", "0 17 * * fri")]
    await desk.restart()
    assert await pending() == before
    await submit(desk, cast.other_officer)
    await desk.stop_bot()
    await desk.clock.advance(days=3, hours=7)  # type: ignore[attr-defined]  # Thu 17:00 while down
    await desk.start_bot()
    await desk.settle()
    assert "还差 1 条" in (await cast.other_officer.wait_for("政务信息报送提醒")).text
    after = {(k, s): due for k, s, due in await pending()}
    assert len(after) == 4 and after[("info.remind", "0 17 * * thu")] > before[2][2]


async def test_rows_planted_in_the_old_notation_fire_and_carry_on_as_crontabs(desk: Desk, cast: Cast) -> None:
    """A database from before the crontab notation holds rows staged "thu 17:00": at start-up they are
    the configured schedule's rows (kept, not doubled), fire on time, and plant the next as a crontab."""
    async def pending() -> list[tuple[str, str]]:
        return sorted(await deadlines.pending_recurring(desk.db.read, ["info.remind"]))

    async with desk.db.tx() as conn:
        await conn.execute("UPDATE deadlines SET stage='thu 17:00' WHERE kind='info.remind' AND stage='0 17 * * thu'")
    await desk.restart()
    assert await pending() == [("info.remind", "0 12 * * fri"), ("info.remind", "thu 17:00")]
    await submit(desk, cast.other_officer)
    await advance_to(desk, 2026, 11, 26, 17, 0)
    assert "还差 1 条" in (await cast.other_officer.wait_for("政务信息报送提醒")).text
    assert await pending() == [("info.remind", "0 12 * * fri"), ("info.remind", "0 17 * * thu")]


async def test_bulletin_also_goes_to_the_bound_group() -> None:
    group_id = -100777
    async with Desk(config_overrides={"info": InfoPolicy(bulletin_chat_id=group_id, weekly_quota=1)}) as desk:
        group = desk.emu.group(group_id, "信息工作群")
        director = await desk.register("director", "刘主任", "office", "director")
        officer = await desk.register("officer", "李信息", "jianshelu", "officer")
        group.add(director)
        await submit(desk, officer)
        await advance_to(desk, 2026, 12, 1, 9, 0)
        assert "定额每周 1 条" in (await director.wait_for("情况通报")).text
        posted = [m.text or "" for m in group.messages]
        assert any("1. 建设路街道：报送 1，采用 0（区0/市0/省0/批示0），得分 0，定额达标 1/1 周" in t for t in posted)
