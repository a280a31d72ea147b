"""督查督办 end to end: assign, accept, progress, complete, return, extension, overdue
escalation and chasing, the bulletin, permission checks — on the emulator with a driven clock.

The FakeClock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

from datetime import timedelta

from bot.config import SupervisionPolicy
from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from bot.services import supervision as svc
from bot.services.supervision import TaskDraft
from storage import members
from storage import supervision as store
from tests.conftest import Cast


async def assign(desk: Desk, cast: Cast, *, title: str = "背街小巷环境整治", due: str = "12-04",
                 units: tuple[str, ...] = ("建设路街道",), plan: str | None = None, leader: bool = True) -> int:
    """The director's /task dialogue; returns the new item's id."""
    d = cast.director
    await d.send_command("/task")
    await d.wait_for("事项标题")
    await d.send_text(title)
    await d.press(await d.wait_for("事项来源"), text="领导批示")
    await d.wait_for("办理要求")
    await d.send_text("两周内完成整治，报送前后对比照片")
    units_msg = await d.wait_for("承办单位")
    for unit in units:
        await d.press(units_msg, text=unit)
        await desk.settle()
    await d.press(units_msg, text="✔️ 选好了")
    await d.press(await d.wait_for("责任领导"), text="孙区长" if leader else "暂不指定")
    await d.wait_for("办理时限")
    await d.send_text(due)
    chase = await d.wait_for("催办计划")
    if plan is None:
        await d.press(chase, text="按默认")
    else:
        await d.send_text(plan)
    summary = await d.wait_for("请核对")
    await d.press(summary, text="✅ 确认交办")
    done = await d.wait_for("已交办")
    await desk.settle()
    tasks = await store.list_tasks(desk.db.conn)
    assert tasks and tasks[0].title == title and done.text
    return tasks[0].id


async def complete(head: SimUser, card: SimMessage, summary: str) -> None:
    """The unit head's 办结 from `card`: the summary, then 提交."""
    await head.press(card, text="✅ 办结")
    await head.wait_for("办结情况")
    await head.send_text(summary)
    await head.press(await head.wait_for("提交"), text="📤 提交")


async def accept(desk: Desk, head: SimUser) -> None:
    msg = await head.wait_for("新的督办事项")
    await head.press(msg, text="✍️ 签收")
    await head.wait_for("已签收")
    await desk.settle()


async def test_assign_accept_progress_complete_return_approve(desk: Desk, cast: Cast) -> None:
    task_id = await assign(desk, cast)
    head, director, leader = cast.head, cast.director, cast.leader
    got = await head.wait_for("新的督办事项")
    assert "背街小巷环境整治" in got.text and "领导批示" in got.text and "2026-12-04 18:00" in got.text
    assert "孙区长" in got.text
    await leader.wait_for("责任领导")
    await head.press(got, text="✍️ 签收")
    await head.wait_for("已签收")
    await desk.settle()
    await director.wait_for("已签收督办事项")

    # Progress with a photo attachment, by the officer.
    o = cast.officer
    await o.send_command("/progress")
    await o.wait_for("请输入办理进展")
    await o.send_text("已清理垃圾 12 处")
    await o.wait_for("附件")
    await o.send_photo()
    added = await o.wait_for("已附 1 个附件")
    await o.send_text("补" * 1995)  # the whole report must fit one message: refused, the rest kept
    await o.wait_for("文字已达上限")
    await o.press(added, text="📤 提交")
    await o.wait_for("进展已报送")
    await desk.settle()
    p = await director.wait_for("进展")
    assert "已清理垃圾 12 处" in p.text and "附件：1 个" in p.text and "补补" not in p.text
    await leader.wait_for("已清理垃圾")

    # Completion by the head; the director returns it with a reason and a new deadline.
    await head.send_command("/task", str(task_id))
    detail = await head.wait_for("办理记录")
    await complete(head, detail, "整治完成")
    await head.wait_for("等待审核")
    await desk.settle()
    review = await director.wait_for("已办结")
    await director.press(review, text="↩️ 退回")
    await director.wait_for("退回理由")
    await director.send_text("缺少对比照片")
    await director.wait_for("维持原时限")
    await director.send_text("12-10")
    await director.wait_for("已退回")
    await desk.settle()
    back = await head.wait_for("被退回")
    assert "缺少对比照片" in back.text and "2026-12-10 18:00" in back.text
    a = (await store.get(desk.db.conn, task_id)).assignments[0]  # type: ignore[union-attr]
    assert a.state == "accepted" and a.returned_count == 1

    # Complete again; the director approves: on time, and the item is closed.
    await head.press(back, text="✅ 办结")
    await head.wait_for("办结情况")
    await head.send_text("已补充对比照片")
    await head.send_document("对比照片.pdf")
    await head.press(await head.wait_for("已附 1 个附件"), text="📤 提交")
    await head.wait_for("等待审核")
    await desk.settle()
    review = await director.wait_for("已办结")
    await director.press(review, text="✅ 通过")
    ok = await director.wait_for("已通过")
    assert "按期办结" in ok.text and "各承办单位均已办结" in ok.text
    await desk.settle()
    await head.wait_for("审核通过")
    task = await store.get(desk.db.conn, task_id)
    assert task is not None and task.status == "done"

    # The history keeps everything.
    await director.send_command("/task", str(task_id))
    hist = await director.wait_for("办理记录")
    for piece in ("签收", "报进展", "被退回", "缺少对比照片", "审核通过", "全部办结"):
        assert piece in hist.text, piece


async def test_reminders_overdue_escalation_and_chasing(desk: Desk, cast: Cast) -> None:
    await assign(desk, cast, due="3天")  # Thursday 2026-11-26 18:00 Beijing
    head, director, leader = cast.head, cast.director, cast.leader
    # Not accepted within 4 h: the director is told.
    await desk.advance(hours=4, minutes=1)
    warn = await director.wait_for("仍未签收")
    assert "建设路街道" in warn.text
    await accept(desk, head)

    # 3 days before (Monday 18:00) and 1 day before (Wednesday 18:00).
    # (The messages read "还剩 3天", with a space, like the incident reminders.)
    await desk.advance(hours=4)
    await head.wait_for("还剩 3天")
    await desk.advance(days=2)
    r = await head.wait_for("还剩 1天")
    assert "2026-11-26 18:00" in r.text
    lr = await leader.wait_for("您负责的督办事项")
    assert "还剩 3天" in lr.text and "建设路街道" in lr.text
    await leader.wait_for("还剩 1天")
    await desk.advance(hours=22)  # Thursday 16:00: 2 h before
    await head.wait_for("还剩 2小时")
    await leader.wait_for("还剩 2小时")

    await director.send_command("/tasks", "逾期")
    assert "没有符合条件" in (await director.wait_for("督办事项")).text

    await desk.advance(hours=2, minutes=1)  # past the deadline
    await head.wait_for("记为逾期")
    esc = await director.wait_for("逾期：")
    assert "建设路街道" in esc.text and "2026-11-26 18:00" in esc.text
    await leader.wait_for("逾期：")
    await director.send_command("/tasks", "逾期")
    listing = await director.wait_for("督办事项（1）")
    assert "背街小巷环境整治" in listing.text and "已逾期" in listing.text

    await desk.advance(days=1)
    await head.wait_for("催办")
    await desk.advance(days=1)
    await head.wait_for("催办")
    task = (await store.list_tasks(desk.db.conn))[0]
    assert task.assignments[0].overdue_at is not None

    # Completion stops the chasing; it is completed late.
    await complete(head, head.last, "已完成")  # type: ignore[arg-type]
    await head.wait_for("等待审核")
    await desk.settle()
    await director.press(await director.wait_for("已办结"), text="✅ 通过")
    assert "逾期办结" in (await director.wait_for("已通过")).text
    await desk.settle()
    before = len(head.inbox)
    await desk.advance(days=2)
    assert not [m for m in head.inbox[before:] if "催办" in (m.text or "")]


async def test_extension_asked_approved_and_refused(desk: Desk, cast: Cast) -> None:
    task_id = await assign(desk, cast, due="11-30")
    head, director = cast.head, cast.director
    await accept(desk, head)
    accepted = head.last
    assert accepted is not None
    await head.press(accepted, text="⏳ 申请延期")
    await head.wait_for("希望延至")
    await head.send_text("12-15")
    await head.wait_for("延期理由")
    await head.send_text("涉及多个部门协调")
    await head.wait_for("等待审批")
    await desk.settle()
    req = await director.wait_for("申请延期")
    assert "2026-11-30 18:00" in req.text and "2026-12-15 18:00" in req.text
    await director.press(req, text="✅ 同意延期")
    await director.wait_for("已同意")
    await desk.settle()
    await head.wait_for("延期申请已同意")
    a = (await store.get(desk.db.conn, task_id)).assignments[0]  # type: ignore[union-attr]
    assert desk.services.fmt.dt(a.due_at, year=True) == "2026-12-15 18:00"

    # A second request is refused; the deadline stays.
    await head.press(accepted, text="⏳ 申请延期")
    await head.wait_for("希望延至")
    await head.send_text("2026-12-31 17:00")
    await head.wait_for("延期理由")
    await head.send_text("再延一次")
    await desk.settle()
    req2 = await director.wait_for("申请延期")
    await director.press(req2, text="❌ 不同意")
    await desk.settle()
    await head.wait_for("未同意")
    # Pressing again is answered, not acted on twice.
    await director.press(req2, text="✅ 同意延期")
    answer = await director.wait_for_answer()
    assert "审批过" in (answer.text or "")

    # The old deadline no longer reminds; history keeps both dates.
    await director.send_command("/task", str(task_id))
    hist = await director.wait_for("延期申请")
    assert "2026-11-30 18:00 → 2026-12-15 18:00，已同意" in hist.text
    assert "2026-12-15 18:00 → 2026-12-31 17:00，未同意" in hist.text
    await desk.advance(days=7, hours=9)  # past the original 11-30 18:00
    assert not [m for m in head.inbox if "记为逾期" in (m.text or "")]


async def test_permissions_and_forged_buttons(desk: Desk, cast: Cast) -> None:
    task_id = await assign(desk, cast)
    msg = await cast.head.wait_for("新的督办事项")
    aid = (await store.get(desk.db.conn, task_id)).assignments[0].id  # type: ignore[union-attr]

    # Only directors assign.
    await cast.officer.send_command("/task")
    assert "用法" in (await cast.officer.wait_for("/task")).text
    # Another unit may not even see it.
    other = cast.other_officer
    await other.send_command("/task", str(task_id))
    assert "没有编号" in (await other.wait_for("督办事项")).text
    await other.send_command("/help")
    await other.wait_for("/tasks")

    # Forged callback data from the other unit's officer, and a unit head pressing a director's button.
    await other.send_command("/tasks")
    listing = await other.wait_for()
    await other.press_raw(f"sv:acc:{aid}", listing.message_id)
    ans = await other.wait_for_answer()
    assert "无权" in (ans.text or "")
    await cast.head.press_raw(f"sv:ok:{aid}", msg.message_id)
    ans = await cast.head.wait_for_answer()
    assert "无权" in (ans.text or "")
    await cast.head.press_raw("sv:acc:999999", msg.message_id)
    ans = await cast.head.wait_for_answer()
    assert "失效" in (ans.text or "")
    await cast.head.press_raw("sv:acc:1;drop", msg.message_id)
    await cast.head.wait_for_answer()
    a = (await store.get(desk.db.conn, task_id)).assignments[0]  # type: ignore[union-attr]
    assert a.state == "assigned"

    # The other unit's /tasks shows nothing of ours; the director's shows it, filterable.
    await other.send_command("/tasks")
    assert "没有符合条件" in (await other.wait_for()).text
    await cast.director.send_command("/tasks", "建设路街道 待签收")
    assert "背街小巷" in (await cast.director.wait_for("督办事项")).text
    await cast.director.send_command("/tasks", "棉纺路街道")
    assert "没有符合条件" in (await cast.director.wait_for()).text

    # The officer cannot report completion (unit head only), even with forged data.
    await cast.head.press(msg, text="✍️ 签收")
    await desk.settle()
    await cast.officer.press_raw(f"sv:done:{aid}", msg.message_id)
    ans = await cast.officer.wait_for_answer()
    assert "无权" in (ans.text or "")


async def test_weekly_bulletin(desk: Desk, cast: Cast) -> None:
    # Two units: one completes on time, the other goes overdue.
    task_id = await assign(desk, cast, title="防汛隐患排查", due="11-25", units=("建设路街道", "棉纺路街道"))
    # 棉纺路街道 has only an officer: it sees the item without a 签收 it could not use; the director is told.
    warn = await cast.director.wait_for("尚无登记的单位办公室主任")
    assert "棉纺路街道" in warn.text and "建设路街道" not in warn.text
    seen = await cast.other_officer.wait_for("新的督办事项")
    assert "防汛隐患排查" in seen.text and [t for t, _ in seen.buttons] == ["🔎 详情"]
    await accept(desk, cast.head)
    t = await store.get(desk.db.conn, task_id)
    assert t is not None
    await complete(cast.head, cast.head.last, "排查完毕")  # type: ignore[arg-type]
    await desk.settle()
    await cast.director.press(await cast.director.wait_for("已办结"), text="✅ 通过")
    await desk.settle()

    # Monday 10:00 → next Monday 09:00 is 6 d 23 h away; nothing before.
    await desk.advance(days=6, hours=22)
    assert not [m for m in cast.director.inbox if (m.text or "").startswith("📊 督查督办通报")]
    await desk.advance(hours=1, minutes=1)
    b = await cast.director.wait_for("各单位（2026 年）")
    assert "建设路街道：0 / 1 / 0 / 0" in b.text
    assert "棉纺路街道：1 / 0 / 0 / 1" in b.text
    assert "防汛隐患排查" in b.text and "逾期未办结（1）" in b.text
    # Restart: the next one is planned once, and fires once a week.
    await desk.restart()
    await desk.advance(days=7)
    await desk.advance(hours=1)
    bulletins = [m for m in cast.director.inbox if (m.text or "").startswith("📊 督查督办通报")]
    assert len(bulletins) == 2


async def test_return_keeping_the_deadline_keeps_its_reminders(desk: Desk, cast: Cast) -> None:
    task_id = await assign(desk, cast, due="12-04")  # reminders 12-01, 12-03 18:00 and 12-04 16:00
    head, director = cast.head, cast.director
    await accept(desk, head)
    await complete(head, head.last, "已整治完毕")  # type: ignore[arg-type]
    await desk.settle()
    await director.press(await director.wait_for("已办结"), text="↩️ 退回")
    await director.wait_for("退回理由")
    await director.send_text("请补充整治前后照片")
    keep = await director.wait_for("维持原时限")
    await director.press(keep, text="维持原时限（2026-12-04 18:00）")
    assert "2026-12-04 18:00" in (await director.wait_for("已退回")).text
    await desk.settle()
    back = await head.wait_for("被退回")
    assert "请补充整治前后照片" in back.text and "2026-12-04 18:00" in back.text
    a = (await store.get(desk.db.conn, task_id)).assignments[0]  # type: ignore[union-attr]
    assert a.state == "accepted" and a.overdue_at is None

    # Submitting cancelled the reminders; returning planned them again from the same deadline.
    await desk.advance(days=8, hours=8, minutes=1)  # Tuesday 12-01 18:01
    r = await head.wait_for("还剩 3天")
    assert "2026-12-04 18:00" in r.text and "办理中" in r.text

    # A bad new deadline is refused and changes nothing.
    await complete(head, back, "已补充照片")
    await desk.settle()
    await director.press(await director.wait_for("已办结"), text="↩️ 退回")
    await director.wait_for("退回理由")  # an answer typed before its question is not read as one
    await director.send_text("照片不清晰")
    await director.wait_for("维持原时限")
    await director.send_text("下个月吧")
    assert "没看懂" in (await director.wait_for("时限")).text
    await director.send_text("2026-11-30")  # before now
    await director.wait_for("已经过去")
    a = (await store.get(desk.db.conn, task_id)).assignments[0]  # type: ignore[union-attr]
    assert a.state == "submitted" and a.returned_count == 1


async def test_a_return_with_a_new_deadline_does_not_wash_out_a_late_completion(desk: Desk, cast: Cast) -> None:
    task_id = await assign(desk, cast, due="明天")  # 11-24 18:00
    head, director = cast.head, cast.director
    await accept(desk, head)
    await desk.advance(days=1, hours=9)  # 11-24 19:00: an hour past the deadline
    await head.send_command("/task", str(task_id))
    await complete(head, await head.wait_for("办理记录"), "已整治完毕")
    await desk.settle()
    await director.press(await director.wait_for("已办结"), text="↩️ 退回")
    await director.wait_for("退回理由")  # an answer typed before its question is not read as one
    await director.send_text("请补充整治前后照片")
    await director.wait_for("维持原时限")
    await director.send_text("11-30")
    await director.wait_for("已退回")
    await desk.settle()
    back = await head.wait_for("被退回")
    await complete(head, back, "已补充照片")  # well before the new deadline
    await desk.settle()
    await director.press(await director.wait_for("已补充照片"), text="✅ 通过")
    assert "逾期办结" in (await director.wait_for("已通过")).text
    a = (await store.get(desk.db.conn, task_id)).assignments[0]  # type: ignore[union-attr]
    assert a.late and a.finished_late
    await director.send_command("/stats", "2026-11")  # the new deadline, 11-30, is in November
    assert "督办事项 按时办结 0、逾期 1、未到期 0" in (await director.wait_for("统计")).text


async def test_bulletin_on_a_configured_schedule_to_a_group_and_on_demand() -> None:
    policy = SupervisionPolicy(bulletin_cron="30 17 * * fri", bulletin_chat_id=-100500)
    async with Desk(config_overrides={"supervision": policy}) as desk:
        director = await desk.register("director", "刘主任", "office", "director")
        await desk.register("head", "王主任", "jianshelu", "unit_head")
        officer = await desk.register("officer", "李信息", "jianshelu", "officer")
        group = desk.emu.group(-100500, "区委办督查群", [director])
        boss = await members.by_telegram_id(desk.db.conn, director.id)
        assert boss is not None
        draft = TaskDraft(title="老旧小区加装电梯", source="meeting", units=["jianshelu", "xushui"],
                          due_at=(desk.services.now() + timedelta(days=2)).isoformat())
        await svc.assign(desk.services, boss, draft)
        await desk.settle()

        # Monday 10:00 → Friday 17:30 is 4 d 7 h 30 min away; due Wednesday 10:00, so both are overdue.
        await desk.advance(days=4, hours=7, minutes=29)
        assert not [m for m in group.messages if "督查督办通报" in (m.text or "")]
        await desk.advance(minutes=2)
        await desk.settle()
        posted = [m for m in group.messages if "督查督办通报" in (m.text or "")]
        assert len(posted) == 1
        text = posted[0].text or ""
        assert "建设路街道：1 / 0 / 0 / 1" in text and "须水街道：1 / 0 / 0 / 1" in text
        assert "逾期未办结（2）" in text and "老旧小区加装电梯" in text
        assert "督查督办通报" in (await director.wait_for("督查督办通报")).text

        # On demand: the director may ask; a unit's officer may not.
        await director.send_command("/bulletin")
        assert "逾期未办结（2）" in (await director.wait_for("督查督办通报")).text
        await officer.send_command("/bulletin")
        refused = (await officer.wait_for()).text
        assert "无权" in refused and "督查督办通报" not in refused


async def test_progress_chooses_among_items_and_forwards_files(desk: Desk, cast: Cast) -> None:
    first = await assign(desk, cast, title="防汛隐患排查", due="12-04")
    await accept(desk, cast.head)
    second = await assign(desk, cast, title="安全生产大检查", due="12-10", leader=False)
    await accept(desk, cast.head)
    o, director = cast.officer, cast.director

    # Two items in hand: /progress asks which one.
    await o.send_command("/progress")
    choice = await o.wait_for("要报送哪个事项")
    assert [t for t, _ in choice.buttons] == [f"#{second} 安全生产大检查", f"#{first} 防汛隐患排查"]
    await o.press(choice, text=f"#{first} 防汛隐患排查")
    await o.wait_for("防汛隐患排查")
    await o.send_text("/tasks")  # a command inside the dialogue is not taken as the progress text
    await o.send_photo(caption="排查河道 3 处")
    await o.press(await o.wait_for("提交"), text="📤 提交")
    await o.wait_for("进展已报送（附件 1 个）")
    await desk.settle()
    note = await director.wait_for("排查河道 3 处")
    assert "防汛隐患排查" in note.text and "安全生产大检查" not in note.text and "/tasks" not in note.text
    photos = [m for m in director.inbox if m.kind == "photo"]
    assert len(photos) == 1 and photos[0].caption == f"#{first}"

    # History of the other item is untouched; a bad /task argument gets the usage line.
    await director.send_command("/task", str(second))
    hist = await director.wait_for("办理记录")
    assert "排查河道" not in hist.text
    await director.send_command("/task", "七")
    assert "用法" in (await director.wait_for()).text
