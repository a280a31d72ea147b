"""On time means sent on time (issue 23, item 3).

An answer sent before its deadline while the bot was down waits in Telegram's queue; when the bot
comes back it is handled before the deadline effects that came due meanwhile, and it is judged by
when it was sent (the message's own date, which the emulator stamps with the fake clock): no 迟报,
no overdue alert. A button press has no date: it is judged by the latest answer the person had sent
in the dialogue, or the message the button is on. Should the deadline effect run first after all
(the answer reached the bot late though it was running), the 迟报 is withdrawn and whoever got it
is told.

The fake clock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.domain.incidents import Stage, StageState
from bot.domain.notices import Audience, AudienceSpec
from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from bot.services import notices as notice_svc
from storage import incidents, leave, members, notices
from storage import supervision as store
from tests.conftest import Cast
from tests.e2e.flows import file_report
from tests.e2e.test_leave import ask_leave, decide
from tests.e2e.test_supervision import accept, assign


def count(who: SimUser, text: str) -> int:
    return sum(text in (m.text or "") for m in who.inbox)


def with_button(who: SimUser, label: str) -> SimMessage:
    """The person's latest message carrying a button labelled `label`."""
    return next(m for m in reversed(who.inbox) if any(label in text for text, _data in m.buttons))


async def pause(desk: Desk, **delta: float) -> None:
    """The bot is down; time passes (people may act meanwhile: their updates wait at Telegram)."""
    if desk.runtime is not None:
        await desk.stop_bot()
    await desk.clock.advance(timedelta(**delta))  # type: ignore[union-attr]


async def resume(desk: Desk) -> None:
    await desk.start_bot()
    await desk.settle()


async def _incident(desk: Desk, cast: Cast) -> incidents.Incident:
    await file_report(desk, cast.officer)
    found = await incidents.get(desk.db.read, 1)
    assert found is not None
    return found


async def _written_now(desk: Desk, officer: SimUser) -> None:
    await officer.press(with_button(officer, "📝 书面报告"), text="📝 书面报告")
    await officer.press(await officer.wait_for("以下为目前掌握的情况"), text="✅ 确认无误")
    await officer.wait_for("书面报告已报送")
    await desk.settle()


async def _full_up_to_the_last(desk: Desk, officer: SimUser) -> SimMessage:
    """📄 续报 and four of its five answers; returns the fifth question."""
    await officer.press(with_button(officer, "📄 续报"), text="📄 续报（起因/处置/后果）")
    for ask, answer in (("起因？", "电线老化"), ("背景？", "老旧小区"), ("发展经过？", "十分钟内扑灭"),
                        ("处置情况？", "消防到场处置")):
        await officer.wait_for(ask)  # the question itself, not the intro naming every element
        await officer.send_text(answer)
    return await officer.wait_for("后果（")


async def _stage(desk: Desk, stage: Stage) -> tuple[datetime | None, StageState]:
    inc = await incidents.get(desk.db.read, 1)
    assert inc is not None
    rec = inc.stage(stage)
    assert rec is not None
    return rec.filed_at, rec.state(desk.clock.now())


async def test_a_full_report_sent_before_its_deadline_while_the_bot_was_down_is_on_time(desk: Desk, cast: Cast) -> None:
    inc = await _incident(desk, cast)
    await _written_now(desk, cast.officer)
    await desk.advance(hours=2, minutes=50)
    await _full_up_to_the_last(desk, cast.officer)
    await pause(desk, minutes=5)
    await cast.officer.send_text("三间商铺受损")  # 2:55, the deadline is 3:00; the bot is down
    sent = desk.clock.now()
    await pause(desk, minutes=20)
    await resume(desk)  # 3:15
    done = await cast.officer.wait_for("续报已报送")
    assert "迟报" not in done.text
    assert count(cast.officer, "已超过时限") == 0 and count(cast.director, "迟报：") == 0
    filed = await cast.director.wait_for("续报（起因/处置/后果）")
    assert "迟报" not in filed.text
    assert await _stage(desk, Stage.FULL) == (sent.replace(microsecond=0), StageState.ON_TIME)
    assert inc.learnt_at + timedelta(hours=3) > sent


async def test_a_written_report_confirmed_by_button_while_the_bot_was_down_is_on_time(desk: Desk, cast: Cast) -> None:
    """确认无误 has no date: it is judged by when the page it is on was shown (1:50)."""
    await _incident(desk, cast)
    await desk.advance(hours=1, minutes=50)
    o = cast.officer
    await o.press(with_button(o, "📝 书面报告"), text="📝 书面报告")
    review = await o.wait_for("以下为目前掌握的情况")
    shown = desk.clock.now()
    await pause(desk, minutes=5)
    await o.press(review, text="✅ 确认无误")  # 1:55; the deadline is 2:00
    await pause(desk, minutes=20)
    await resume(desk)  # 2:15
    done = await o.wait_for("书面报告已报送")
    assert "迟报" not in done.text
    assert count(o, "已超过时限") == 0 and count(cast.director, "迟报：") == 0
    assert await _stage(desk, Stage.WRITTEN) == (shown.replace(microsecond=0), StageState.ON_TIME)


async def test_the_last_answer_by_button_is_judged_by_the_answer_before_it(desk: Desk, cast: Cast) -> None:
    await _incident(desk, cast)
    await _written_now(desk, cast.officer)
    await desk.advance(hours=2, minutes=50)
    last = await _full_up_to_the_last(desk, cast.officer)
    answered = desk.clock.now()
    await pause(desk, minutes=8)
    await cast.officer.press(last, text="暂不清楚")  # 2:58
    await pause(desk, minutes=30)
    await resume(desk)
    assert "迟报" not in (await cast.officer.wait_for("续报已报送")).text
    assert count(cast.director, "迟报：") == 0
    assert await _stage(desk, Stage.FULL) == (answered.replace(microsecond=0), StageState.ON_TIME)


async def test_a_late_report_queued_while_down_is_late_and_said_so_once(desk: Desk, cast: Cast) -> None:
    await _incident(desk, cast)
    await _written_now(desk, cast.officer)
    await desk.advance(hours=2, minutes=50)
    await _full_up_to_the_last(desk, cast.officer)
    await pause(desk, minutes=20)
    await cast.officer.send_text("三间商铺受损")  # 3:10: ten minutes late
    await pause(desk, minutes=5)
    await resume(desk)
    assert "迟报 10分钟" in (await cast.officer.wait_for("续报已报送")).text
    # The office learns it once, from the report itself: handled before the deadline effect, it
    # leaves nothing overdue for a separate 迟报 alert to announce.
    assert "迟报 10分钟" in (await cast.director.wait_for("续报（起因/处置/后果）")).text
    assert count(cast.director, "迟报：") == 0
    _filed_at, state = await _stage(desk, Stage.FULL)
    assert state is StageState.FILED_LATE


async def test_a_late_flag_raised_before_an_answer_sent_in_time_arrived_is_withdrawn(desk: Desk, cast: Cast) -> None:
    """The bot was running, but the answer sent at 2:59 reached it at 3:01, after the 迟报 went out."""
    await _incident(desk, cast)
    await _written_now(desk, cast.officer)
    await desk.advance(hours=2, minutes=50)
    await _full_up_to_the_last(desk, cast.officer)
    sent = desk.clock.now() + timedelta(minutes=9)
    await desk.advance(minutes=11)  # 3:01
    await cast.director.wait_for("迟报：")
    desk.emu.clock = lambda: sent.timestamp()  # Telegram stamped it at 2:59
    try:
        await cast.officer.send_text("三间商铺受损")
        done = await cast.officer.wait_for("续报已报送")
    finally:
        clock = desk.clock
        desk.emu.clock = lambda: clock.now().timestamp()
    assert "迟报" not in done.text
    await desk.settle()
    fixed = await cast.director.wait_for("更正")
    assert "作废" in fixed.text and "续报" in fixed.text
    assert count(cast.officer, "迟报提醒作废") == 1
    assert await _stage(desk, Stage.FULL) == (sent.replace(microsecond=0), StageState.ON_TIME)
    kinds = [kind for _at, _actor, kind, _d in await incidents.events(desk.db.read, 1)]
    assert "late" in kinds and "late_withdrawn" in kinds  # the record keeps both


async def test_a_report_back_sent_on_the_return_day_while_down_is_on_time(desk: Desk, cast: Cast) -> None:
    await ask_leave(cast.officer, end="11-25")  # Tue–Wed: back Thursday; alerted Friday 09:00 if not
    await desk.settle()
    await decide(cast.head)
    await desk.settle()
    await desk.advance(days=3)  # Thursday 10:00
    await cast.officer.wait_for("返岗日")
    await pause(desk, hours=5)
    await cast.officer.send_command("/back")  # Thursday 15:00
    await pause(desk, hours=20)
    await resume(desk)  # Friday 11:00, past the overdue check
    done = await cast.officer.wait_for("已销假")
    assert "逾期" not in done.text and "15:00" in done.text
    assert count(cast.director, "仍未销假") == 0 and count(cast.officer, "已过返岗日") == 0
    assert "按时销假" in (await cast.director.wait_for("销假：李信息")).text
    req = await leave.get(desk.db.read, 1)
    assert req is not None and req.returned_at is not None and req.back_alerted_at is None


async def test_a_completion_submitted_before_the_deadline_while_down_is_on_time(desk: Desk, cast: Cast) -> None:
    task_id = await assign(desk, cast, due="3天")  # Thursday 18:00
    await accept(desk, cast.head)
    await desk.advance(days=3, hours=7)  # Thursday 17:00
    head = cast.head
    await head.send_command("/task", str(task_id))
    await head.press(await head.wait_for("办理记录"), text="✅ 办结")
    await head.wait_for("办结情况")
    await head.send_text("整治完成，照片已存档")  # 17:00
    submit = await head.wait_for("提交")
    await pause(desk, minutes=30)
    await head.press(submit, text="📤 提交")  # 17:30: by button, judged by the summary sent at 17:00
    await pause(desk, hours=2)
    await resume(desk)  # 19:30
    await head.wait_for("办结报告已提交")
    assert count(head, "记为逾期") == 0 and count(cast.director, "逾期：") == 0
    got = await cast.director.wait_for("整治完成")
    assert "逾期" not in got.text
    a = await store.assignment(desk.db.read, 1)
    assert a is not None and a.submitted_at is not None and a.submitted_at <= a.due_at and not a.came_late


async def test_a_receipt_pressed_before_the_deadline_while_down_counts(desk: Desk, cast: Cast) -> None:
    sender = await members.by_telegram_id(desk.db.read, cast.director.id)
    assert sender is not None
    draft = notice_svc.NoticeDraft(title="关于防汛值班的通知", body="请做好防汛值班。",
                                   audience=AudienceSpec(Audience.UNITS, units=("jianshelu",)))
    n = await notice_svc.send_notice(desk.services, sender, draft)  # 8 hours to sign
    await desk.settle()
    got = await cast.officer.wait_for("防汛值班")
    await cast.head.press(await cast.head.wait_for("防汛值班"), text="✅ 已阅/收到")
    await desk.advance(hours=7)
    await pause(desk, minutes=30)
    await cast.officer.press(got, text="✅ 已阅/收到")  # 7:30, before the deadline at 8:00
    await pause(desk, hours=1)
    await resume(desk)
    assert count(cast.head, "仍未签收") == 0
    tally = await cast.director.wait_for("最终情况")
    assert "签收 2/2" in tally.text
    receipts = {r.name: r for r in await notices.receipts(desk.db.read, n.id)}
    acked = receipts["李信息"].acked_at
    assert acked is not None and n.due_at is not None and acked <= n.due_at


async def test_deadlines_do_not_wait_for_ever_on_an_unreachable_bot_api(desk: Desk, cast: Cast,
                                                                        monkeypatch: object) -> None:
    import bot.app

    await _incident(desk, cast)
    monkeypatch.setattr(bot.app, "CATCH_UP_WAIT", timedelta(seconds=0.5))  # type: ignore[attr-defined]
    await pause(desk, hours=2, minutes=5)
    desk.emu.fail_next("500", count=10_000, methods=["getUpdates"])
    await resume(desk)  # the scheduler was released after CATCH_UP_WAIT although no poll got through
    assert count(cast.director, "迟报：") == 1


async def test_in_webhook_mode_too_what_waited_is_handled_before_the_deadlines(desk: Desk, cast: Cast) -> None:
    """Telegram pushes what it queued while the bot was down once the webhook is set; the deadlines
    that came due meanwhile wait until it holds nothing more (getWebhookInfo) and all was handled."""
    import socket

    from bot.app import Runtime

    await _incident(desk, cast)
    await desk.advance(hours=1, minutes=50)
    o = cast.officer
    await o.press(with_button(o, "📝 书面报告"), text="📝 书面报告")
    review = await o.wait_for("以下为目前掌握的情况")
    await pause(desk, minutes=5)
    await o.press(review, text="✅ 确认无误")  # 1:55
    await pause(desk, minutes=20)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert desk.config is not None
    desk.runtime = Runtime(desk.config, desk.emu.token, clock=desk.clock, db_path=desk.db_target)
    await desk.runtime.start(webhook={"listen": "127.0.0.1", "port": port, "url_path": "telegram",
                                      "webhook_url": f"http://127.0.0.1:{port}/telegram", "secret_token": "s3cret",
                                      "allowed_updates": None})
    await asyncio.wait_for(desk.runtime.deps.scheduler.released.wait(), 30)
    await desk.settle()
    assert "迟报" not in (await o.wait_for("书面报告已报送")).text
    assert count(cast.director, "迟报：") == 0


async def test_a_holiday_trip_reported_before_departure_while_down_counts_as_in_advance() -> None:
    """A leader leaving the city over a holiday must report before departure; 提交 pressed on the
    departure day (the bot down) and handled the next morning is still in advance."""
    from datetime import UTC

    from bot.clock import FakeClock
    from tests.e2e.test_leave import _desk, _office

    clock = FakeClock(datetime(2026, 9, 30, 15, 0, tzinfo=UTC))  # 23:00 on 09-30, the day of departure
    async with _desk(clock) as desk:
        office = await _office(desk)
        who = office.congress_vice
        await who.send_command("/leave")
        await who.press(await who.wait_for("请假类别"), text="事假")
        await who.press(await who.wait_for("从哪天开始"), text="今天")
        await who.wait_for("到哪天结束")
        await who.send_text("10-04")
        await who.wait_for("去向")
        await who.send_text("上海")
        await who.press(await who.wait_for("是否离开"), text="是，离开郑州")
        await who.wait_for("事由")
        await who.send_text("探亲")
        await who.press(await who.wait_for("代理人"), text="无代理人")
        review = await who.wait_for("请核对")
        await pause(desk, minutes=40)
        await who.press(review, text="✅ 提交")  # 23:40 on 09-30
        await pause(desk, hours=1)
        await resume(desk)  # 00:40 on 10-01: departed by now, but it was sent before
        done = await who.wait_for(lambda m: "已提交" in (m.text or "") or "出发前" in (m.text or ""))
        assert "已提交" in done.text and "国庆节" in done.text
        report = await office.director.wait_for("节假日离京报备")
        assert "迟报" not in report.text


async def test_just_now_means_when_the_person_said_it(desk: Desk, cast: Cast) -> None:
    """"刚刚" typed while the bot was down is the moment it was typed: the deadlines count from then."""
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.wait_for("发生时间")
    await pause(desk, minutes=1)
    said = desk.clock.now()
    await o.send_text("刚刚")
    await pause(desk, minutes=40)
    await resume(desk)
    await o.wait_for("事发地点")
    await o.share_location(34.7466, 113.6253)
    await o.press(await o.wait_for("伤亡情况"), text="无伤亡")
    await o.wait_for("简要描述")
    await o.send_text("居民楼三层起火")
    await o.press(await o.wait_for("请核对"), text="✅ 确认上报")
    await o.wait_for("事件编号")
    inc = await incidents.get(desk.db.read, 1)
    assert inc is not None and inc.occurred_at == said.replace(microsecond=0)
    written = inc.stage(Stage.WRITTEN)
    assert written is not None and written.due_at == said.replace(microsecond=0) + timedelta(hours=2)


async def test_today_pressed_before_midnight_while_down_is_that_day() -> None:
    """今天 pressed at 23:50 (the bot down) and handled after midnight is the day it was pressed, not
    the next one (asked on, after midnight, that leave has begun: only sick leave is asked afterwards)."""
    from datetime import UTC

    from bot.clock import FakeClock
    from tests.e2e.test_leave import _desk, _office

    clock = FakeClock(datetime(2026, 9, 30, 15, 45, tzinfo=UTC))  # 23:45 on 09-30
    async with _desk(clock) as desk:
        office = await _office(desk)
        who = office.congress_vice
        await who.send_command("/leave")
        await who.press(await who.wait_for("请假类别"), text="事假")
        ask = await who.wait_for("从哪天开始")
        await pause(desk, minutes=5)
        await who.press(ask, text="今天")  # 23:50
        await pause(desk, minutes=20)
        await resume(desk)  # 00:10 on 10-01
        assert "开始：09-30" in (await who.wait_for("到哪天结束")).text


async def test_a_forward_pressed_in_time_but_handled_after_the_breach_withdraws_it(desk: Desk, cast: Cast,
                                                                                  monkeypatch: object) -> None:
    """已上报市委 pressed at 10:08 (the bot down), the 10-minute target at 10:10: Telegram is unreachable
    a moment after the restart, so the breach check runs before the press is handled. The press
    counts when it was made: no 超时上报 on record, and whoever got the breach hears it is withdrawn."""
    import bot.app
    from bot.domain.accountability import MarkKind
    from storage import incident_forwards, incident_marks

    inc = await _incident(desk, cast)
    alert = await cast.director.wait_for(inc.number)
    await desk.advance(minutes=5)
    monkeypatch.setattr(bot.app, "CATCH_UP_WAIT", timedelta(seconds=0.3))  # type: ignore[attr-defined]
    await pause(desk, minutes=3)
    await cast.director.press(alert, text="📤 已上报市委")  # 10:08, waits in Telegram's queue
    await pause(desk, minutes=7)  # 10:15
    # One failed poll: PTB retries it a second later, well after the 0.3 s catch-up wait ran out.
    desk.emu.fail_next("500", count=1, methods=["getUpdates"])
    await resume(desk)
    breach = await cast.director.wait_for("超时上报")
    assert breach.message_id < (await cast.director.wait_for("上报市委，在目标")).message_id
    withdrawn = [m for m in cast.director.inbox if "超时上报提醒作废" in (m.text or "")]
    assert len(withdrawn) == 1 and "10:00" in withdrawn[0].text  # judged by the alert it was pressed on
    assert count(cast.leader, "超时上报提醒作废") == count(cast.leader, "⏱ 超时上报")  # whoever was told
    assert count(cast.officer, "超时上报") == 0  # the unit never heard of it
    clock = await incident_forwards.first_of(desk.db.read, inc.id)
    assert clock is not None and clock.breached_at is None and clock.forwarded_at is not None
    assert clock.forwarded_at <= clock.started_at + timedelta(minutes=10)
    assert [m for m in await incident_marks.of(desk.db.read, inc.id) if m.kind is MarkKind.FORWARD_LATE] == []
    kinds = [kind for _at, _actor, kind, _d in await incidents.events(desk.db.read, inc.id)]
    assert "forward_breached" in kinds and "forward_breach_withdrawn" in kinds  # the record keeps both


async def test_a_holiday_report_sent_before_departure_while_down_is_in_advance() -> None:
    """/holiday: 报备 pressed at 23:40 on the day of departure (the bot down), handled after midnight."""
    from datetime import UTC

    from bot.clock import FakeClock
    from tests.e2e.test_leave import _desk, _office

    clock = FakeClock(datetime(2026, 9, 30, 15, 0, tzinfo=UTC))  # 23:00 on 09-30, the day of departure
    async with _desk(clock) as desk:
        office = await _office(desk)
        who = office.congress_vice
        await who.send_command("/holiday")
        await who.press(await who.wait_for("哪天出发"), text="今天")
        await who.wait_for("哪天返回")
        await who.send_text("10-04")
        await who.wait_for("去向")
        await who.send_text("上海")
        await who.wait_for("联系方式")
        await who.send_text("13800000000")
        summary = await who.wait_for("请核对后报备")
        await pause(desk, minutes=40)
        await who.press(summary, text="🏮 报备")  # 23:40 on 09-30
        await pause(desk, hours=1)
        await resume(desk)  # 00:40 on 10-01: departed by now, but it was sent before
        done = await who.wait_for("节假日离京报备 #")
        assert "迟报" not in done.text and "出发后" not in done.text
        report = await office.director.wait_for("节假日离京报备")
        assert "迟报" not in report.text
        async with desk.db.read.execute("SELECT late FROM holiday_reports") as cur:
            assert [r[0] for r in await cur.fetchall()] == [0]


async def _assigned_document(desk: Desk, cast: Cast, **kw: str) -> SimMessage:
    from tests.e2e.test_documents import propose, register

    card = await register(cast.duty, summary=None, **kw)
    await propose(cast.duty, card)
    return card


async def test_a_document_done_in_time_but_handled_after_the_overdue_alert_is_withdrawn(desk: Desk,
                                                                                      cast: Cast) -> None:
    """办结 typed at 09:59 on the last day reached the bot at 10:01, after the overdue alert went out."""
    from storage import documents

    await _assigned_document(desk, cast)  # limit: 11-26 10:00
    await cast.leader.press(await cast.leader.wait_for("请批办"), text="✅ 批办")
    handler = cast.head
    card = await handler.wait_for("交办")
    await desk.advance(days=3, minutes=-2)  # 09:58
    await handler.press(card, text="✅ 办结")
    await handler.wait_for("办理结果")
    sent = desk.clock.now() + timedelta(minutes=1)  # 09:59
    await desk.advance(minutes=3)  # 10:01: flagged overdue, everyone told
    await handler.wait_for("记为逾期")
    await cast.director.wait_for("办文逾期")
    desk.emu.clock = lambda: sent.timestamp()  # Telegram stamped the answer at 09:59
    try:
        await handler.send_text("已部署排查")
        done = await handler.wait_for("已办结")
    finally:
        clock = desk.clock
        desk.emu.clock = lambda: clock.now().timestamp()
    assert "按时办结" in done.text
    await desk.settle()
    for told in (handler, cast.director, cast.duty):  # the overdue alert went to them: corrected
        assert count(told, "逾期提醒作废") == 1, told.first_name
    d = await documents.get(desk.db.read, 1)
    assert d is not None and d.overdue_at is None and d.late is False and d.done_at == sent.replace(microsecond=0)


async def test_a_phone_approval_signed_before_its_limit_while_down_is_on_time(desk: Desk, cast: Cast) -> None:
    from storage import documents

    duty, leader = cast.duty, cast.leader
    await _assigned_document(desk, cast, title="关于寒潮天气应急响应的紧急通知", urgency="特急")
    await duty.press([m for m in duty.inbox if "已呈" in (m.text or "")][-1], text="📞 电话请示")
    await duty.wait_for("已记录电话请示")  # to be signed by 11-24 10:00
    sign = await leader.wait_for("请于")
    await desk.advance(hours=23)
    await pause(desk, minutes=30)
    await leader.press(sign, text="✍️ 补签")  # 09:30 on 11-24, the bot down
    await pause(desk, hours=2)
    await resume(desk)  # 11:30: past the limit for signing
    await leader.wait_for("已补签")
    await desk.settle()
    assert count(cast.director, "未在") == 0
    d = await documents.get(desk.db.read, 1)
    assert d is not None and d.signed_at is not None and d.sign_due_at is not None and d.signed_at <= d.sign_due_at
    async with desk.db.read.execute("SELECT kind FROM document_events WHERE kind LIKE 'sign%'") as cur:
        assert [r[0] for r in await cur.fetchall()] == ["signed"]


async def test_a_takeover_pressed_in_time_while_down_is_recorded_when_pressed(desk: Desk, cast: Cast) -> None:
    """接班 pressed five minutes after the change (the bot down), handled after the takeover window:
    taken at the press, no alert to the director."""
    from storage.db import from_db
    from tests.e2e.test_unsaved_answers import Scene, a_handover

    s = Scene(desk, cast)
    await a_handover(s)  # 陈值班 hands over to 吴值班 at 10:01
    await cast.duty.press(s.msgs["handover"], text="✅ 交班")
    await cast.duty.wait_for("已交班")
    await desk.settle()
    incoming = s.people["duty2"]
    take = await incoming.wait_for("🔁 接班")
    await pause(desk, minutes=5)
    await incoming.press(take, text="✅ 接班")
    await pause(desk, hours=1)
    await resume(desk)
    await incoming.wait_for("已接班")
    assert count(cast.director, "交接班未完成") == 0
    async with desk.db.read.execute("SELECT handed_at, taken_at FROM handovers") as cur:
        handed, taken = await cur.fetchone()  # type: ignore[misc]
    assert from_db(taken) < desk.clock.now() - timedelta(minutes=30) and from_db(handed) <= from_db(taken)


async def test_now_in_the_duty_log_while_down_is_not_when_the_bot_got_to_it(desk: Desk, cast: Cast) -> None:
    duty = cast.duty
    await duty.send_command("/log")
    await duty.press(await duty.wait_for("请选择类别"), text="来电")
    asked = await duty.wait_for("什么时间")
    await pause(desk, minutes=10)
    await duty.press(asked, text="现在")  # 10:10, the bot down
    await pause(desk, hours=2)
    await resume(desk)  # 12:10
    await duty.wait_for("来自谁")
    await duty.send_text("须水街道 张三")
    await duty.wait_for("主要内容")
    await duty.send_text("报告停电")
    await duty.press(await duty.wait_for("处理情况"), text="暂未处理")
    await duty.press(await duty.wait_for("还有什么待办"), text="无待办")
    await duty.press(await duty.wait_for("可发送照片"), text="完成")
    saved = await duty.wait_for("已保存")
    assert "10:" in saved.text and "12:10" not in saved.text


async def test_a_takeover_pressed_in_time_but_handled_after_the_alert_withdraws_it(desk: Desk, cast: Cast,
                                                                                  monkeypatch: object) -> None:
    """Telegram unreachable a moment after the restart: the 'no 接班' alert goes out before the 接班
    pressed in time is handled; the director hears it no longer holds."""
    import bot.app
    from tests.e2e.test_unsaved_answers import Scene, a_handover

    s = Scene(desk, cast)
    await a_handover(s)
    await cast.duty.press(s.msgs["handover"], text="✅ 交班")
    await desk.settle()
    incoming = s.people["duty2"]
    take = await incoming.wait_for("🔁 接班")
    monkeypatch.setattr(bot.app, "CATCH_UP_WAIT", timedelta(seconds=0.3))  # type: ignore[attr-defined]
    await pause(desk, minutes=5)
    await incoming.press(take, text="✅ 接班")  # in time, waits in Telegram's queue
    await pause(desk, hours=1)
    # One failed poll: PTB retries it a second later, well after the 0.3 s catch-up wait ran out.
    desk.emu.fail_next("500", count=1, methods=["getUpdates"])
    await resume(desk)
    alert = await cast.director.wait_for("交接班未完成")
    fixed = await cast.director.wait_for("按时接班")
    assert alert.message_id < fixed.message_id and "作废" in fixed.text and "吴值班" in fixed.text
    assert count(cast.director, "⚠️ 交接班未完成") == 1


async def test_a_finding_made_before_midnight_while_down_is_of_that_day(desk: Desk, cast: Cast) -> None:
    """瞒报's reason sent at 23:58 on 11-30 (the bot down), handled after midnight: the finding is of
    11-30, so November's 通报 counts it, not December's."""
    from bot.domain.accountability import MarkKind
    from storage import incident_marks
    from tests.e2e.flows import record_event

    number = await record_event(desk, cast.duty, source="媒体/网络", when="1小时前")
    await desk.advance(days=7, hours=13, minutes=55)  # 11-30 23:55
    d = cast.director
    await d.send_command("/incident", number)
    await d.press(await d.wait_for("时间线"), text="🚫 认定瞒报")
    await d.wait_for("请输入理由")
    await pause(desk, minutes=3)
    said = desk.clock.now()
    await d.send_text("事发后一小时未报告，媒体已报道")  # 23:58
    await pause(desk, minutes=10)
    await resume(desk)  # 12-01 00:08
    await d.wait_for("已认定事件")
    inc = await incidents.by_number(desk.db.read, number)
    assert inc is not None
    found = [m for m in await incident_marks.of(desk.db.read, inc.id) if m.kind is MarkKind.CONCEALED]
    assert len(found) == 1 and found[0].at == said.replace(microsecond=0)
    assert found[0].at.astimezone(desk.config.tz).day == 30  # type: ignore[union-attr]
