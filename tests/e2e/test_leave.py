"""请销假 end to end: each shipped chain approved and refused, reminders, stand-ins,
the holiday rule, report-back on time / late / missing, forged buttons, bad dates.

The fake clock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.clock import FakeClock
from bot.config import CalendarPolicy, HolidayPeriod, LeavePolicy, LeavePost
from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from storage import leave, members

# (key, name, unit, role) in registration order: member ids are 1, 2, 3 …
PEOPLE = (
    ("head", "王主任", "jianshelu", "unit_head"),  # 1 street office head (街道党政办主任)
    ("officer", "李信息", "jianshelu", "officer"),  # 2
    ("gov_office", "张秘书长", "zhengfu", "director"),  # 3 政府办主任
    ("district_head", "孙区长", "zhengfu", "leader"),  # 4 区长
    ("vice_head", "周副区长", "zhengfu", "leader"),  # 5
    ("secretary", "吴书记", "quwei", "leader"),  # 6 区委书记
    ("director", "刘主任", "office", "director"),  # 7 区委办主任
    ("duty", "陈值班", "office", "duty"),  # 8
    ("congress_head", "郑主任", "renda", "leader"),  # 9 人大主任
    ("congress_vice", "钱副主任", "renda", "leader"),  # 10
    ("cppcc_head", "冯主席", "zhengxie", "leader"),  # 11 政协主席
    ("cppcc_vice", "何副主席", "zhengxie", "leader"),  # 12
    ("bureau_head", "马局长", "jiaoti", "unit_chief"),  # 13 bureau chief (局长)
    ("deputy_secretary", "赵副书记", "quwei", "leader"),  # 14 区委副书记
    ("chief", "高主任", "jianshelu", "unit_chief"),  # 15 street chief (街道办事处主任)
)
POSTS = (
    LeavePost("party_secretary", "区委书记", (6,)),
    LeavePost("district_head", "区长", (4,)),
    LeavePost("congress_head", "区人大常委会主任", (9,)),
    LeavePost("cppcc_head", "区政协主席", (11,)),
)


class Office:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.p: dict[str, SimUser] = {}

    def __getattr__(self, key: str) -> SimUser:
        return self.p[key]


async def _office(desk: Desk) -> Office:
    office = Office(desk)
    for key, name, unit, role in PEOPLE:
        office.p[key] = await desk.register(key, name, unit, role)
    everyone = await members.all_members(desk.db.conn)
    assert [m.name for m in everyone if m.id == 4] == ["孙区长"]
    return office


def _desk(clock: FakeClock | None = None, calendar: CalendarPolicy | None = None) -> Desk:
    overrides = {"leave": dataclasses.replace(LeavePolicy(), posts=POSTS), "calendar": calendar or CalendarPolicy()}
    return Desk(clock=clock, config_overrides=overrides)


@pytest.fixture
async def office() -> AsyncIterator[Office]:
    async with _desk() as desk:
        yield await _office(desk)


async def ask_leave(
    who: SimUser, *, kind: str = "事假", start: str = "明天", end: str = "11-25", dest: str = "北京",
    leaves_city: bool = True, reason: str = "家中有事", standin: str | None = None,
) -> str:
    """/leave → … → 提交; returns the text of the bot's answer to 提交."""
    await who.send_command("/leave")
    await who.press(await who.wait_for("请假类别"), text=kind)
    ask = await who.wait_for("从哪天开始")
    if start in ("今天", "明天"):
        await who.press(ask, text=start)
    else:
        await who.send_text(start)
    ask = await who.wait_for("到哪天结束")
    if end in ("今天", "明天"):
        await who.press(ask, text=end)
    else:
        await who.send_text(end)
    await who.wait_for("去向")
    await who.send_text(dest)
    await who.press(await who.wait_for("是否离开郑州"), text="是，离开郑州" if leaves_city else "否，不离开郑州")
    await who.wait_for("请假事由")
    await who.send_text(reason)
    await who.press(await who.wait_for("代理人"), text=standin or "无代理人")
    await who.press(await who.wait_for("请核对后提交"), text="✅ 提交")
    # the confirmation (sent before any progress message) or the refusal
    done = await who.wait_for(lambda m: "已提交" in (m.text or "") or "已送「" not in (m.text or ""))
    return done.text or ""


async def decide(who: SimUser, approve: bool = True, comment: str | None = None,
                 card: SimMessage | None = None) -> str:
    """Press 批准/不批准 on `card` (or on the approver's next unread 请假审批 card), then comment or skip it.

    wait_for consumes what it matched: a test that already read the card passes it in.
    """
    if card is None:
        card = await who.wait_for("请假审批")
    await who.press(card, text="✅ 批准" if approve else "❌ 不批准")
    ask = await who.wait_for("审批意见" if approve else "理由")
    if comment:
        await who.send_text(comment)
    else:
        await who.press(ask, text="不填写意见")
    done = await who.wait_for("请假申请")
    return done.text or ""


async def test_street_chief_chain_approved(office: Office) -> None:
    desk = office.desk
    text = await ask_leave(office.chief, standin="李信息")
    assert "#1" in text
    await desk.settle()
    card = await office.gov_office.wait_for("区政府办公室主任签报")
    assert "高主任" in card.text and "北京" in card.text and "离开郑州" in card.text and "李信息" in card.text
    assert "11-24 至 11-25（共 2天）" in card.text
    await office.chief.wait_for("已送「区政府办公室主任签报」：张秘书长")
    assert "已批准请假" in await decide(office.gov_office, card=card)
    await desk.settle()
    await office.chief.wait_for("张秘书长 已同意")
    await office.chief.wait_for("已送「区长审批」：孙区长")
    assert "已批准请假" in await decide(office.district_head, comment="同意，注意安全")
    await desk.settle()
    approved = await office.chief.wait_for("已批准")
    assert "注意安全" in approved.text
    await office.officer.wait_for("由您代理")
    await office.secretary.wait_for("请假报备 #1")
    await office.director.wait_for("请假备案 #1：已批准")
    await office.duty.wait_for("请假备案 #1：已批准")
    # the approver's card lost its buttons and shows who decided
    edited = office.gov_office.inbox
    assert any("已由 张秘书长 批准" in (m.text or "") and not m.buttons for m in edited)
    # the trail
    await office.chief.send_command("/leave_history")
    hist = await office.chief.wait_for("请假记录")
    for bit in ("已批准", "张秘书长 同意（区政府办公室主任签报）", "孙区长 同意（区长审批）", "注意安全"):
        assert bit in hist.text
    # who is away tomorrow
    await office.duty.send_command("/away", "11-24")
    away = await office.duty.wait_for("请假外出")
    assert "建设路街道" in away.text and "高主任" in away.text and "代理人 李信息" in away.text
    await office.duty.send_command("/away")
    await office.duty.wait_for("无人请假外出")
    await office.duty.send_command("/away", "week")
    assert "高主任" in (await office.duty.wait_for("请假外出")).text


async def test_bureau_chief_chain_refused(office: Office) -> None:
    desk = office.desk
    await ask_leave(office.bureau_head)
    await desk.settle()
    assert "已不批准" in await decide(office.gov_office, approve=False, comment="近期工作任务重")
    await desk.settle()
    refused = await office.bureau_head.wait_for("未获批准")
    assert "近期工作任务重" in refused.text
    await office.director.wait_for("请假备案 #1：未批准")
    assert not [m for m in office.district_head.inbox if "请假审批" in (m.text or "")]
    req = await leave.get(desk.db.conn, 1)
    assert req is not None and req.status.value == "refused"


@pytest.mark.parametrize(("requester", "approver", "step"), [
    ("congress_vice", "congress_head", "区人大常委会主任审批"),
    ("vice_head", "district_head", "区长审批"),
    ("cppcc_vice", "cppcc_head", "区政协主席审批"),
])
async def test_body_chains(office: Office, requester: str, approver: str, step: str) -> None:
    desk = office.desk
    who, boss = office.p[requester], office.p[approver]
    await ask_leave(who, kind="年休假", end="11-27")
    await desk.settle()
    await who.wait_for(f"已送「{step}」")
    await decide(boss)
    await desk.settle()
    await who.wait_for("已批准")
    await office.secretary.wait_for("请假报备 #1")
    await office.director.wait_for("请假备案 #1")
    # and refused, for a second request later in the year
    await ask_leave(who, start="12-07", end="12-08")
    await desk.settle()
    await decide(boss, approve=False)
    await desk.settle()
    await who.wait_for("#2 未获批准")


@pytest.mark.parametrize(("requester", "approver", "step"), [
    ("deputy_secretary", "secretary", "区委书记审批"),  # 区委领导
    ("officer", "head", "本单位负责人审批"),  # 其他人员
])
async def test_committee_and_staff_chains(office: Office, requester: str, approver: str, step: str) -> None:
    desk = office.desk
    who, boss = office.p[requester], office.p[approver]
    await ask_leave(who, end="11-24")
    await desk.settle()
    await who.wait_for(f"#1 已送「{step}」：{boss.first_name}")
    await decide(boss, comment="同意")
    await desk.settle()
    await who.wait_for("#1 已批准")
    archived = await office.director.wait_for("请假备案 #1：已批准")
    assert who.first_name in archived.text
    await ask_leave(who, start="12-07", end="12-08")
    await desk.settle()
    await decide(boss, approve=False, comment="年底任务重")
    await desk.settle()
    assert "年底任务重" in (await who.wait_for("#2 未获批准")).text
    await office.duty.wait_for("请假备案 #2：未批准")
    member = await members.by_telegram_id(desk.db.conn, who.id)
    assert member is not None
    statuses = [(r.id, r.status.value) for r in await leave.for_member(desk.db.conn, member.id)]
    assert sorted(statuses) == [(1, "approved"), (2, "refused")]


async def test_export_hook_for_statistics(office: Office) -> None:
    from bot.services.leave import export_rows

    desk = office.desk
    await _approve_now(office, office.officer, office.head, end="11-25", standin="王主任")
    await ask_leave(office.officer, start="12-07", end="12-08")
    await desk.settle()
    s = desk.services
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    asked = await export_rows(s, monday, datetime(2026, 11, 30, tzinfo=UTC))
    assert [(r["id"], r["status"], r["member_name"], r["standin_name"]) for r in asked] == [
        (1, "approved", "李信息", "王主任"), (2, "pending", "李信息", None)]
    kinds = [e["kind"] for e in asked[0]["trail"]]
    assert kinds[0] == "submitted" and "approved" in kinds and kinds[-1] == "approved_final"
    assert [(a["member_id"], a["decision"]) for a in asked[0]["approvers"]] == [(1, "approved")]
    # by the leave's own dates: only December's request falls in December
    december = await export_rows(s, datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), by="period")
    assert [r["id"] for r in december] == [2]
    with pytest.raises(ValueError):
        await export_rows(s, monday, monday, by="month")


async def test_away_is_scoped_by_role(office: Office) -> None:
    await _approve_now(office, office.officer, office.head, start="明天", end="11-25", dest="开封", standin="王主任")
    await _approve_now(office, office.congress_vice, office.congress_head, start="11-25", end="11-26", dest="上海")
    # district-wide roles see every unit, grouped by unit
    await office.director.send_command("/away", "week")
    seen = (await office.director.wait_for("请假外出（2 人）")).text
    assert seen.index("建设路街道") < seen.index("李信息") < seen.index("区人大") < seen.index("钱副主任")
    assert "去向 开封" in seen and "代理人 王主任" in seen and "代理人 无" in seen
    await office.secretary.send_command("/away", "2026-11-26")
    seen = (await office.secretary.wait_for("请假外出")).text
    assert "钱副主任" in seen and "李信息" not in seen
    # a unit head sees their own unit only
    await office.head.send_command("/away", "week")
    seen = (await office.head.wait_for("请假外出")).text
    assert "李信息" in seen and "钱副主任" not in seen
    await office.bureau_head.send_command("/away", "week")
    await office.bureau_head.wait_for("无人请假外出")
    # officers may not look; a bad argument explains itself
    await office.officer.send_command("/away")
    await office.officer.wait_for("无权")
    await office.duty.send_command("/away", "下个月")
    await office.duty.wait_for("用法：/away")


async def test_waiting_approver_is_reminded(office: Office) -> None:
    desk = office.desk
    await ask_leave(office.chief)
    await desk.settle()
    await office.gov_office.wait_for("请假审批")
    await desk.advance(hours=1, minutes=59)
    assert not [m for m in office.gov_office.inbox if "已等待您审批" in (m.text or "")]
    await desk.advance(minutes=2)
    reminder = await office.gov_office.wait_for("已等待您审批 2小时")
    await office.gov_office.press(reminder, text="✅ 批准")
    await office.gov_office.press(await office.gov_office.wait_for("审批意见"), text="不填写意见")
    await desk.settle()
    await office.district_head.wait_for("请假审批 #1")
    # the reminder was a card too: deciding closed it (buttons gone, who decided)
    # (its edit is a paced outbox row of its own: wait for it, as a person looking at the chat would)
    def card() -> SimMessage:
        return [m for m in office.gov_office.inbox if m.message_id == reminder.message_id][0]

    await desk.until(lambda: "已由 张秘书长 批准" in (card().text or ""))
    closed = card()
    assert "已由 张秘书长 批准" in closed.text and not closed.buttons
    seen = len(office.gov_office.inbox)
    await desk.advance(hours=2)
    await office.district_head.wait_for("已等待您审批")
    # the first approver, done, is not reminded again
    assert not [m for m in office.gov_office.inbox[seen:] if "已等待" in (m.text or "")]


async def _approve_now(office: Office, who: SimUser, approver: SimUser, **kw: object) -> None:
    await ask_leave(who, **kw)  # type: ignore[arg-type]
    await office.desk.settle()
    await decide(approver)
    await office.desk.settle()


async def test_away_approver_goes_to_stand_in_and_empty_step_is_skipped(office: Office) -> None:
    desk = office.desk
    # The district head takes today off with the vice head standing in: a written report to the
    # party secretary, in effect at once (the office never approves it: see test_leave_reports.py).
    text = await ask_leave(office.district_head, start="今天", end="今天", dest="郑州", leaves_city=False,
                           standin="周副区长")
    assert "外出报告 #1" in text
    await desk.settle()
    await office.vice_head.wait_for("由您代理")
    # The government office director is away too, without a stand-in. His own request goes by the
    # 其他人员 chain: 区政府 has no unit head, so the district office decides it.
    await ask_leave(office.gov_office, start="今天", end="今天", dest="郑州", leaves_city=False)
    await desk.settle()
    await office.gov_office.wait_for("已送「区委办公室审批」：刘主任")
    await decide(office.director)
    await desk.settle()
    await office.gov_office.wait_for("#2 已批准")
    # Now a street chief asks: 政府办主任 is away (no stand-in) → skipped; 区长 away → 周副区长.
    await ask_leave(office.chief)
    await desk.settle()
    card = await office.vice_head.wait_for("区长审批")
    assert "代 孙区长 审批" in card.text
    await office.chief.wait_for("已送「区长审批」：周副区长")
    hist = [e[2] for e in await leave.events(desk.db.conn, 3)]
    assert "step_skipped" in hist
    await decide(office.vice_head, card=card)
    await desk.settle()
    await office.chief.wait_for("#3 已批准")


async def test_alerts_skip_members_on_leave(office: Office) -> None:
    from bot.domain.report_draft import ReportDraft
    from bot.services.incidents import file_first_report

    desk = office.desk
    await _approve_now(office, office.duty, office.director, start="今天", end="今天", dest="家中",
                       leaves_city=False, kind="病假")
    # the duty officer chose no stand-in: skipped; the director still gets it
    officer = await members.by_id(desk.db.conn, 2)
    assert officer is not None
    now = desk.services.now().isoformat()
    draft = ReportDraft(category="fire", occurred_at=now, place="建设路", description="起火", deaths=0, injured=0,
                        missing=0)
    await file_first_report(desk.services, officer, draft, at=desk.services.now())
    await desk.settle()
    await office.director.wait_for("突发事件")
    await office.head.wait_for("突发事件")
    assert not [m for m in office.duty.inbox if "突发事件" in (m.text or "")]
    # the unit's office head goes on leave (approved by the unit's chief) with the officer standing in;
    # the next alert goes to the officer
    await ask_leave(office.head, start="今天", end="今天", dest="郑州", leaves_city=False, standin="李信息")
    await desk.settle()
    await office.head.wait_for("已送「本单位主要负责人审批」：高主任")
    await decide(office.chief)
    await desk.settle()
    from bot.services.routing import alert_audience
    from storage import incidents

    inc = await incidents.get(desk.db.conn, 1)
    assert inc is not None
    names = {m.name for m in await alert_audience(desk.db.conn, inc, desk.services.policy, at=desk.services.now())}
    assert "王主任" not in names and "李信息" in names and "陈值班" not in names
    # after reporting back, alerts reach them again
    await office.head.send_command("/back")
    await office.head.wait_for("已销假")
    names = {m.name for m in await alert_audience(desk.db.conn, inc, desk.services.policy, at=desk.services.now())}
    assert "王主任" in names


async def test_holiday_rule() -> None:
    clock = FakeClock(datetime(2026, 9, 28, 2, 0, tzinfo=UTC))  # Monday before National Day
    async with _desk(clock) as desk:
        office = await _office(desk)
        text = await ask_leave(office.congress_vice, start="09-30", end="10-04", dest="上海")
        assert "法定节假日" in text and "国庆节" in text
        await desk.settle()
        report = await office.director.wait_for("节假日离京报备")
        assert "国庆节" in report.text and "钱副主任" in report.text and "随请假申请 #1" in report.text
        assert not report.buttons  # a report: nothing to decide
        await office.gov_office.wait_for("节假日离京报备")
        card = await office.congress_head.wait_for("请假审批")
        assert "法定节假日" in card.text
        # staying in the city over the holiday: no advance report
        await ask_leave(office.cppcc_vice, start="10-02", end="10-03", dest="家中", leaves_city=False)
        await desk.settle()
        assert len([m for m in office.director.inbox if "节假日离京" in (m.text or "")]) == 1
        # sick leave after the fact, over a holiday, out of the city: the request is taken and the
        # holiday report with it, marked late (a report after departure is accepted, never refused)
        await clock.set(datetime(2026, 10, 2, 2, 0, tzinfo=UTC))
        who = office.vice_head
        await who.send_command("/leave")
        await who.press(await who.wait_for("请假类别"), text="病假")
        await who.wait_for("从哪天开始")
        await who.send_text("10-01")
        await who.wait_for("到哪天结束")
        await who.send_text("10-03")
        await who.wait_for("去向")
        await who.send_text("洛阳")
        await who.press(await who.wait_for("是否离开"), text="是，离开郑州")
        await who.wait_for("事由")
        await who.send_text("突发疾病")
        await who.press(await who.wait_for("代理人"), text="无代理人")
        await who.press(await who.wait_for("请核对"), text="✅ 提交")
        assert "记为迟报" in (await who.wait_for("已提交")).text
        await desk.settle()
        late = await office.director.wait_for("节假日离京报备")
        assert "周副区长" in late.text and "迟报" in late.text


async def test_a_year_the_calendar_lacks_is_flagged_until_entered() -> None:
    """chinese-calendar stops at 2026: 元旦 2027 is invisible and the admins are told weekly, until the
    office enters the State Council's notice under [calendar] (dates here illustrative)."""
    async with _desk() as desk:
        office = await _office(desk)
        admin = await desk.register("admin", "周管理", "office", "admin")
        text = await ask_leave(office.congress_vice, start="12-31", end="2027-01-02", dest="上海")
        assert "已提交" in text and "法定节假日" not in text
        await desk.advance(days=6, hours=22, minutes=59)  # Monday 11-30 08:59
        assert not [m for m in admin.inbox if "节假日安排" in (m.text or "")]
        await desk.advance(minutes=2)
        flagged = await admin.wait_for("节假日安排缺少")
        assert "2027 年" in flagged.text and "[calendar]" in flagged.text
        assert not [m for m in office.director.inbox if "节假日安排" in (m.text or "")]
        await desk.advance(days=7)  # every Monday until it is entered
        await admin.wait_for("节假日安排缺少")
    entered = CalendarPolicy(holidays=(HolidayPeriod("元旦", date(2027, 1, 1), date(2027, 1, 3)),))
    async with _desk(calendar=entered) as desk:
        office = await _office(desk)
        admin = await desk.register("admin", "周管理", "office", "admin")
        text = await ask_leave(office.congress_vice, start="12-31", end="2027-01-02", dest="上海")
        assert "法定节假日" in text and "元旦" in text
        await desk.settle()
        assert "元旦" in (await office.director.wait_for("节假日离京报备")).text
        await desk.advance(days=7, minutes=1)
        await desk.settle()
        assert not [m for m in admin.inbox if "节假日安排" in (m.text or "")]


async def test_report_back_on_time(office: Office) -> None:
    desk = office.desk
    await _approve_now(office, office.officer, office.head, end="11-25")  # Tue–Wed; back Thursday
    await office.officer.send_command("/back")
    await office.officer.wait_for("还没开始")
    await desk.advance(hours=47)  # Wed 09:00
    assert not [m for m in office.officer.inbox if "返岗日" in (m.text or "")]
    await desk.advance(hours=24)  # Thu 09:00
    remind = await office.officer.wait_for("返岗日")
    await office.officer.press(remind, text="🏠 我已返岗")
    done = await office.officer.wait_for("已销假")
    assert "逾期" not in done.text
    await desk.settle()
    note = await office.director.wait_for("销假：李信息")
    assert "按时销假" in note.text
    await desk.advance(hours=24)
    assert not [m for m in office.director.inbox if "仍未销假" in (m.text or "")]


async def test_report_back_early(office: Office) -> None:
    desk = office.desk
    await _approve_now(office, office.officer, office.head, end="11-27", standin="王主任")
    await desk.advance(hours=24)  # Tuesday, on leave
    await office.officer.send_command("/back")
    assert "提前返岗" in (await office.officer.wait_for("已销假")).text
    await desk.settle()
    await office.head.wait_for("代理结束")
    req = await leave.get(desk.db.conn, 1)
    assert req is not None and req.returned_at is not None and not req.on_leave
    await office.officer.send_command("/back")
    await office.officer.wait_for("没有需要销假")


async def test_report_back_missing_then_late(office: Office) -> None:
    desk = office.desk
    await _approve_now(office, office.officer, office.head, end="11-25")
    await desk.advance(hours=24 * 3 + 8)  # Thursday 18:00: not yet overdue
    assert not [m for m in office.director.inbox if "仍未销假" in (m.text or "")]
    await desk.advance(hours=14, minutes=59)  # Friday 08:59: still within the grace
    assert not [m for m in office.director.inbox if "仍未销假" in (m.text or "")]
    await desk.advance(minutes=1)  # Friday 09:00 = end of the return day + 9 h grace
    alert = await office.director.wait_for("仍未销假")
    assert "李信息" in alert.text
    await office.head.wait_for("仍未销假")
    await office.duty.wait_for("仍未销假")
    await office.officer.wait_for("已告知单位和区委办")
    await office.duty.send_command("/away")
    assert "逾期未销假" in (await office.duty.wait_for("请假外出")).text
    await office.officer.send_command("/back")
    assert "逾期销假" in (await office.officer.wait_for("已销假")).text
    await desk.settle()
    assert "逾期销假" in (await office.director.wait_for("销假：李信息")).text


async def test_unauthorised_and_forged_buttons(office: Office) -> None:
    desk = office.desk
    await ask_leave(office.chief)
    await desk.settle()
    card = await office.gov_office.wait_for("请假审批")
    # someone who is not the approver forges the approval
    msg = office.officer.last
    assert msg is not None
    await office.officer.press_raw("lv:ok:1", msg.message_id)
    answer = await office.officer.wait_for_answer()
    assert "不是" in answer.text
    await office.officer.press_raw("lv:ok:999", msg.message_id)
    assert "失效" in (await office.officer.wait_for_answer()).text
    await office.officer.press_raw("lv:ok:1x", msg.message_id)
    assert "失效" in (await office.officer.wait_for_answer()).text
    # the second-step approver cannot act before the first step is done
    head_msg = office.district_head.last
    assert head_msg is not None
    await office.district_head.press_raw("lv:ok:1", head_msg.message_id)
    assert "不是请假申请 #1 当前步骤的审批人" in (await office.district_head.wait_for_answer()).text
    # the approver decides once; pressing the old card again changes nothing
    await decide(office.gov_office, card=card)
    await desk.settle()
    await office.gov_office.press_raw("lv:no:1", card.message_id)
    assert "不是请假申请 #1 当前步骤的审批人" in (await office.gov_office.wait_for_answer()).text
    req = await leave.get(desk.db.conn, 1)
    assert req is not None and req.pending and req.step == 1
    approvals = await leave.approvers(desk.db.conn, 1, 0)
    assert [(a.member_id, a.decision) for a in approvals] == [(3, "approved")]
    # someone else's 我已返岗 button
    await office.officer.press_raw("lb:back:1", msg.message_id)
    assert "失效" in (await office.officer.wait_for_answer()).text
    req = await leave.get(desk.db.conn, 1)
    assert req is not None and req.returned_at is None


async def test_bad_dates_and_overlaps(office: Office) -> None:
    desk = office.desk
    who = office.officer
    await who.send_command("/leave")
    await who.press(await who.wait_for("请假类别"), text="事假")
    await who.wait_for("从哪天开始")
    await who.send_text("下周吧")
    await who.wait_for("没看懂这个日期")
    await who.send_text("13-45")
    await who.wait_for("没看懂这个日期")
    await who.send_text("11-20")  # last Friday: personal leave is asked in advance
    await who.wait_for("开始日期已过")
    await who.send_text("11-26 下午")
    await who.wait_for("到哪天结束")
    await who.send_text("11-25")
    await who.wait_for("结束不能早于开始")
    await who.send_text("11-27 上午")
    await who.wait_for("去向")
    await who.send_command("/cancel")
    await who.wait_for("已取消")
    # sick leave may be asked after the fact, within the grace
    await _approve_now(office, who, office.head, kind="病假", start="11-21", end="11-23", dest="家中",
                       leaves_city=False)
    req = await leave.get(desk.db.conn, 1)
    assert req is not None and req.status.value == "approved"
    # a start inside one's own approved leave is refused at the start question
    await who.send_command("/leave")
    await who.press(await who.wait_for("请假类别"), text="年休假")
    await who.press(await who.wait_for("从哪天开始"), text="今天")
    overlap = await who.wait_for("时间重叠")
    assert "#1" in overlap.text and "11-21 至 11-23" in overlap.text
    await who.send_text("11-24")
    await who.wait_for("到哪天结束")
    await who.send_text("11-22")
    await who.wait_for("结束不能早于开始")
    await who.send_command("/cancel")
    await who.wait_for("已取消")
    # a period that runs into a pending request is refused at the end question
    await ask_leave(who, start="11-30", end="12-01")
    await who.send_command("/leave")
    await who.press(await who.wait_for("请假类别"), text="事假")
    await who.press(await who.wait_for("从哪天开始"), text="明天")
    await who.wait_for("到哪天结束")
    await who.send_text("12-03")
    overlap = await who.wait_for("时间重叠")
    assert "#2" in overlap.text and "审批中" in overlap.text
    await who.send_text("11-26")
    await who.wait_for("去向")
    await who.send_command("/cancel")
    await who.wait_for("已取消")
    assert [r.id for r in await leave.for_member(desk.db.conn, 2)] == [2, 1]


async def test_withdraw_a_request_being_approved(office: Office) -> None:
    """撤回 under the submitted message: the approver's card loses its buttons, no reminder follows."""
    desk = office.desk
    await ask_leave(office.officer)
    await desk.settle()
    card = await office.head.wait_for("请假审批")
    assert card.buttons
    submitted = [m for m in office.officer.inbox if "已提交" in (m.text or "")][-1]
    await office.officer.press(submitted, text="↩️ 撤回申请")
    assert "已撤回请假申请 #1" in (await office.officer.wait_for("撤回")).text
    await desk.settle()
    closed = [m for m in office.head.inbox if m.message_id == card.message_id][0]
    assert "申请人已于" in closed.text and "撤回" in closed.text and not closed.buttons
    req = await leave.get(desk.db.conn, 1)
    assert req is not None and req.status.value == "cancelled"
    await office.head.press_raw(f"lv:ok:{req.id}", card.message_id)  # a press on the old card
    assert "已撤销" in ((await office.head.wait_for_answer()).text or "")
    await desk.advance(hours=3)
    assert not [m for m in office.head.inbox if "已等待您审批" in (m.text or "")]
    await office.officer.press(submitted, text="↩️ 撤回申请")  # twice
    assert "已撤回" in ((await office.officer.wait_for_answer()).text or "")
    await office.officer.send_command("/leave_history")
    assert "李信息 撤回申请" in (await office.officer.wait_for("请假记录")).text
    assert "#2" in await ask_leave(office.officer, end="11-26")  # the dates are free again


async def test_withdraw_approved_leave_before_it_begins(office: Office) -> None:
    desk = office.desk
    await _approve_now(office, office.officer, office.head, end="11-25", standin="王主任")
    await office.head.wait_for("由您代理")
    await office.officer.send_command("/leave_cancel")
    assert "已撤回请假申请 #1" in (await office.officer.wait_for("撤回")).text
    await desk.settle()
    await office.head.wait_for("无需代理")
    await office.director.wait_for("请假 #1 已由 李信息 撤回")
    req = await leave.get(desk.db.conn, 1)
    assert req is not None and req.status.value == "cancelled"
    await office.duty.send_command("/away", "11-24")
    assert "李信息" not in (await office.duty.wait_for("请假外出")).text
    await desk.advance(hours=72)  # past the start, the end and the return day: nothing fires
    assert not [m for m in office.officer.inbox if "返岗日" in (m.text or "")]
    assert not [m for m in office.director.inbox if "仍未销假" in (m.text or "")]
    assert not [m for m in office.head.inbox if "代理" in (m.text or "") and "开始" in (m.text or "")]


async def test_withdraw_refused_when_leave_has_begun_or_nothing_matches(office: Office) -> None:
    desk = office.desk
    o = office.officer
    await o.send_command("/leave_cancel")
    await o.wait_for("没有可撤回")
    await o.send_command("/leave_cancel", "十二")
    await o.wait_for("编号应为数字")
    await _approve_now(office, o, office.head, end="11-25")
    await ask_leave(o, start="11-30", end="12-01")
    await desk.settle()
    await o.send_command("/leave_cancel")
    assert "#1" in (await o.wait_for("多个可撤回")).text
    await office.head.send_command("/leave_cancel", "1")  # not theirs
    assert "撤回" not in (await office.head.wait_for()).text
    await desk.advance(hours=24)  # Tuesday: leave #1 under way
    await o.send_command("/leave_cancel", "1")
    assert "已经开始" in (await o.wait_for("不能撤回")).text
    await o.send_command("/leave_cancel")  # only #2 is left to withdraw
    assert "#2" in (await o.wait_for("已撤回")).text
    req = await leave.get(desk.db.conn, 1)
    assert req is not None and req.status.value == "approved" and req.on_leave


async def test_sick_leave_approved_after_its_return_day_is_not_overdue_at_once(office: Office) -> None:
    """Friday's sick leave asked for on Monday, approved only on Wednesday: the member is asked to
    report back then, and the office is alerted only after the usual grace (Thursday 09:00)."""
    desk = office.desk
    await ask_leave(office.officer, kind="病假", start="11-20", end="11-20")
    await desk.settle()
    card = await office.head.wait_for("请假审批")
    await desk.advance(hours=48)  # Wednesday 10:00
    await decide(office.head, card=card)
    await desk.settle()
    assert (await leave.get(desk.db.conn, 1)).status.value == "approved"  # type: ignore[union-attr]
    await office.officer.wait_for("返岗日")
    assert not [m for m in office.director.inbox if "仍未销假" in (m.text or "")]
    await desk.advance(hours=22)  # Thursday 08:00: still within the grace
    assert not [m for m in office.director.inbox if "仍未销假" in (m.text or "")]
    await desk.advance(hours=2)  # Thursday 10:00
    await office.director.wait_for("仍未销假")
