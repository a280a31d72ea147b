"""A reminder never says what is no longer true (issue 23, item 5).

Every reminder kind the scheduler knows (registered with `warns_of`) is made to come due while the
bot is down, and the bot comes back after the moment it warns of: the reminder is not sent ("还剩
0分钟" after the fact), and the overdue effect goes out once. A new reminder kind without a scenario
here fails `test_every_reminder_kind_has_a_scenario`.

The fake clock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.domain import documents as doc_rules
from bot.domain import incidents as incident_rules
from bot.domain import info as info_rules
from bot.domain import notices as notice_rules
from bot.domain import roster as roster_rules
from bot.domain import supervision as task_rules
from bot.domain.notices import Audience, AudienceSpec, NoticeKind
from bot.emulator import SimUser
from bot.harness import Desk
from bot.services import leave as leave_svc
from bot.services import notices as notice_svc
from storage import deadlines, members
from tests.conftest import Cast
from tests.e2e.flows import file_report
from tests.e2e.test_documents import propose as propose_doc
from tests.e2e.test_documents import register as register_doc
from tests.e2e.test_leave import ask_leave, decide
from tests.e2e.test_supervision import accept, assign

Scenario = Callable[[Desk, Cast], Awaitable[None]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(kind: str) -> Callable[[Scenario], Scenario]:
    def add(fn: Scenario) -> Scenario:
        SCENARIOS[kind] = fn
        return fn
    return add


async def down_for(desk: Desk, **delta: float) -> None:
    """The bot is stopped, time passes, the bot starts again and works off what came due."""
    await desk.stop_bot()
    await desk.clock.advance(timedelta(**delta))  # type: ignore[union-attr]
    await desk.start_bot()
    await desk.settle()


def count(who: SimUser, text: str) -> int:
    return sum(text in (m.text or "") for m in who.inbox)


@scenario(incident_rules.REMIND)
async def stage_reminder(desk: Desk, cast: Cast) -> None:
    await file_report(desk, cast.officer)
    await down_for(desk, hours=2, minutes=1)  # the written report: reminder at 1:45, deadline at 2:00
    assert count(cast.officer, "还剩") == 0
    assert count(cast.officer, "已超过时限") == 1
    assert count(cast.director, "迟报：") == 1


@scenario(leave_svc.BACK_REMIND)
async def return_day_reminder(desk: Desk, cast: Cast) -> None:
    await ask_leave(cast.officer, end="11-25")  # Tue–Wed: back Thursday; reminded Thu 09:00, alerted Fri 09:00
    await desk.settle()
    await decide(cast.head)
    await desk.settle()
    await down_for(desk, days=4)  # Friday 10:00
    assert count(cast.officer, "返岗日。") == 0
    assert count(cast.officer, "已过返岗日仍未销假") == 1
    assert count(cast.director, "仍未销假") == 1


@scenario(task_rules.REMIND)
async def task_reminder(desk: Desk, cast: Cast) -> None:
    await assign(desk, cast, due="3天")  # Thursday 18:00; reminders 3 days, 1 day and 2 hours before
    await accept(desk, cast.head)
    await down_for(desk, days=4)
    assert count(cast.head, "还剩") == 0 and count(cast.leader, "还剩") == 0
    assert count(cast.head, "记为逾期") == 1
    assert count(cast.director, "逾期：") == 1


async def _notice(desk: Desk, cast: Cast, **kw: object) -> None:
    sender = await members.by_telegram_id(desk.db.conn, cast.director.id)
    assert sender is not None
    draft = notice_svc.NoticeDraft(title="关于防汛值班的通知", body="请各单位做好防汛值班。",
                                   audience=AudienceSpec(Audience.UNITS, units=("jianshelu",)), **kw)  # type: ignore[arg-type]
    await notice_svc.send_notice(desk.services, sender, draft)
    await desk.settle()


@scenario(notice_rules.RESEND)
async def receipt_reminder(desk: Desk, cast: Cast) -> None:
    await _notice(desk, cast)  # 8 h to sign; asked again at 4 h
    await down_for(desk, hours=9)
    assert count(cast.officer, "再次提醒") == 0
    assert count(cast.director, "签收时限已到") == 1
    assert count(cast.head, "仍未签收") == 1


@scenario(notice_rules.MEETING_REMIND)
async def meeting_reminder(desk: Desk, cast: Cast) -> None:
    start = desk.services.now() + timedelta(hours=3)
    await _notice(desk, cast, kind=NoticeKind.MEETING, meeting_at=start, place="三楼会议室")
    await down_for(desk, hours=4)  # reminded an hour before the meeting, which is over now
    assert count(cast.officer, "会议提醒") == 0
    assert count(cast.director, "签收时限已到") == 1


@scenario(info_rules.REMIND)
async def quota_reminder(desk: Desk, cast: Cast) -> None:
    await down_for(desk, days=5)  # Saturday: Thursday's and Friday's reminders and the week's close passed
    assert count(cast.officer, "政务信息报送提醒") == 0
    async with desk.db.read.execute("SELECT unit_code, count(*) FROM info_weeks GROUP BY unit_code") as cur:
        weeks = {r[0]: r[1] for r in await cur.fetchall()}
    assert weeks and set(weeks.values()) == {1}  # the week was closed, once
    # The recurring reminders go on: next week's are planted.
    pending = await deadlines.pending_recurring(desk.db.read, [info_rules.REMIND])
    assert len(pending) == 2 and await deadlines.next_due_at(desk.db.read) is not None


@scenario(incident_rules.FORWARD_REMIND)
async def forward_reminder(desk: Desk, cast: Cast) -> None:
    await file_report(desk, cast.officer)
    await down_for(desk, minutes=11)  # reminded at 8 minutes to forward upstream; the target at 10
    assert count(cast.duty, "尚未上报市委") == 0
    assert count(cast.director, "⏱ 超时上报") == 1


async def _assigned_document(desk: Desk, cast: Cast, **kw: str) -> None:
    card = await register_doc(cast.duty, summary=None, **kw)
    await propose_doc(cast.duty, card)


@scenario(doc_rules.REMIND)
async def document_reminder(desk: Desk, cast: Cast) -> None:
    await _assigned_document(desk, cast)  # limit Thursday 10:00; reminded a day and two hours before
    await cast.leader.press(await cast.leader.wait_for("请批办"), text="✅ 批办")
    await desk.settle()
    await down_for(desk, days=2, hours=22, minutes=30)  # Thursday 08:30: both reminders due, one is said
    assert count(cast.head, "还剩") == 1 and count(cast.head, "还剩 1小时30分钟") == 1
    await down_for(desk, hours=1, minutes=31)  # past the limit: no more 还剩
    assert count(cast.head, "还剩") == 1
    assert count(cast.head, "记为逾期") == 1
    assert count(cast.director, "办文逾期") == 1


@scenario(doc_rules.SIGN_REMIND)
async def sign_reminder(desk: Desk, cast: Cast) -> None:
    await _assigned_document(desk, cast, title="关于寒潮天气应急响应的紧急通知", urgency="特急")
    await cast.duty.press([m for m in cast.duty.inbox if "已呈" in (m.text or "")][-1], text="📞 电话请示")
    await cast.duty.wait_for("已记录电话请示")  # to be signed within 24 hours; reminded 2 hours before
    await desk.settle()
    await down_for(desk, hours=24, minutes=1)
    assert count(cast.leader, "请补签") == 0
    assert count(cast.director, "未在") == 1


async def _evening_shift_change(desk: Desk, cast: Cast) -> SimUser:
    """Today's roster: 陈值班 on the day shift to 17:30, 吴值班 on the night shift from 17:30."""
    from datetime import datetime, time

    from bot.domain.roster import Slot
    from storage import roster

    incoming = await desk.register("duty2", "吴值班", "office", "duty")
    assert desk.config is not None
    s = desk.services
    day = s.now().astimezone(desk.config.tz).date()
    change = datetime.combine(day, time(17, 30), desk.config.tz)
    out_m = await members.by_telegram_id(desk.db.conn, cast.duty.id)
    in_m = await members.by_telegram_id(desk.db.conn, incoming.id)
    assert out_m is not None and in_m is not None
    async with s.uow() as tx:
        await roster.replace_shift(tx.conn, day, "day", [Slot(day, "day", 1, out_m.id, change - timedelta(hours=9),
                                                              change)], tx.now, None)
        await roster.replace_shift(tx.conn, day, "night", [Slot(day, "night", 1, in_m.id, change,
                                                                change + timedelta(hours=15))], tx.now, None)
    return incoming


@scenario(roster_rules.HANDOVER)
async def handover_draft(desk: Desk, cast: Cast) -> None:
    """The bot down through the 17:30 shift change and its takeover window (30 minutes): no handover
    draft asking for a 交班 and 接班 already overdue, no alert about it; the next 17:30 is planted."""
    incoming = await _evening_shift_change(desk, cast)
    await down_for(desk, hours=8, minutes=10)  # 18:10
    assert count(cast.duty, "🔁 交接班") == 0 and count(incoming, "🔁") == 0
    assert count(cast.director, "交接班未完成") == 0
    async with desk.db.read.execute("SELECT count(*) FROM handovers") as cur:
        assert (await cur.fetchone())[0] == 0  # type: ignore[index]
    pending = await deadlines.pending_recurring(desk.db.read, [roster_rules.HANDOVER])
    assert sorted(stage for _kind, stage in pending) == ["30 17 * * *", "30 8 * * *"]


async def test_a_shift_change_the_bot_wakes_up_for_in_time_still_sends_the_draft(desk: Desk, cast: Cast) -> None:
    """Down at 17:30 but back at 17:45, inside the takeover window: the draft goes out then."""
    await _evening_shift_change(desk, cast)
    await down_for(desk, hours=7, minutes=45)
    assert count(cast.duty, "🔁 交接班") == 1


async def test_every_reminder_kind_has_a_scenario(desk: Desk) -> None:
    assert desk.runtime is not None
    assert desk.runtime.deps.scheduler.reminder_kinds == set(SCENARIOS)


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
async def test_a_reminder_past_its_moment_is_not_sent(desk: Desk, cast: Cast, kind: str) -> None:
    await SCENARIOS[kind](desk, cast)


async def test_of_two_reminders_due_at_once_only_the_later_is_sent(desk: Desk, cast: Cast) -> None:
    await assign(desk, cast, due="3天")  # reminders Monday 18:00 (3 days) and Wednesday 18:00 (1 day)
    await accept(desk, cast.head)
    await down_for(desk, days=2, hours=8, minutes=30)  # Wednesday 18:30, the deadline a day ahead
    assert count(cast.head, "还剩 3天") == 0
    assert count(cast.head, "还剩 23小时30分钟") == 1  # the true time left, not the planned "1天"
