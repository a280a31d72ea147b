"""A step that takes only a button says so when text is typed (issue #23, item 18).

The button-only steps are found in the one dialogue map itself (no handler of the state takes a
text message but a catch-all), so a new one joins this test. Every one is reached through the
real bot; typed text must get a hint that says typing does not work here, names every button of
the question on screen, never "点按钮或输入文字", and leaves the step where it was. Lists of people,
units and groups also say who can appear there and how they get registered — especially when
the list is empty (no 区领导 yet, nobody to stand in, no bound group).

The FakeClock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

import warnings
from datetime import datetime

from telegram import Chat, Message, Sticker, Update, User
from telegram.ext import MessageHandler

from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from handlers import build_dialog
from storage import incidents
from tests.conftest import Cast
from tests.e2e.flows import dialogue_step as state_of
from tests.e2e.flows import record_event

GENERIC = "点按钮或输入文字"


def _message(**content: object) -> Update:
    chat, user = Chat(1, "private"), User(1, "x", False)
    return Update(1, message=Message(1, datetime(2026, 11, 23), chat, from_user=user, **content))  # type: ignore[arg-type]


TYPED = _message(text="随便写点")
STICKER = _message(sticker=Sticker("s", "s", 512, 512, False, False, "regular"))


def button_only_states() -> dict[int, object]:
    """State → the handler typed text reaches there, for every state where only a catch-all
    takes text (a catch-all takes a sticker as well; a real text answer does not)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dialog = build_dialog()
    found: dict[int, object] = {}
    for state, handlers in dialog.states.items():
        texts = [h for h in handlers if isinstance(h, MessageHandler) and h.check_update(TYPED)]
        if any(not h.check_update(STICKER) for h in texts):
            continue  # the step reads typed text
        assert texts, f"state {state}: typed text reaches no handler"
        found[int(state)] = texts[0]  # type: ignore[call-overload]
    return found


ONLY = button_only_states()


def test_every_button_only_step_routes_text_to_the_button_hint() -> None:
    assert len(ONLY) >= 40  # report, record, the reviews of the facts, leave, holiday, notice, task, info, log, doc
    for state, handler in ONLY.items():
        assert hasattr(handler.callback, "button_step"), f"state {state}: {handler.callback}"  # type: ignore[attr-defined]


def question(who: SimUser) -> SimMessage:
    """The bot's latest message with buttons (a hint has none)."""
    return next(m for m in reversed(who.inbox) if m.buttons)


def last_with(who: SimUser, fragment: str) -> SimMessage:
    return next(m for m in reversed(who.inbox) if fragment in (m.text or "") and "打字无效" not in (m.text or ""))


class Probe:
    """At a button-only step not probed yet: type text, check the hint, check the step stayed."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.seen: dict[int, str] = {}

    async def __call__(self, who: SimUser, *, expect: int | None = None) -> str:
        await self.desk.settle()
        state = state_of(self.desk, who)
        assert expect is None or state == expect, (state, expect)
        if state not in ONLY:
            raise AssertionError(f"state {state} takes typed text; probed by mistake")
        labels = [t for t, _ in question(who).buttons]
        n = len(who.inbox)
        await who.send_text("随便写点")
        await self.desk.settle()
        replies = [m.text or "" for m in who.inbox[n:]]
        assert len(replies) == 1, replies
        hint = replies[0]
        assert "打字无效" in hint and GENERIC not in hint, hint
        missing = [b for b in labels if f"「{b}」" not in hint]
        assert not missing, f"state {state}: the hint does not name {missing}: {hint}"
        assert state_of(self.desk, who) == state
        self.seen[state] = hint
        return hint


async def test_every_button_only_step_names_its_buttons(desk: Desk, cast: Cast) -> None:
    probe = Probe(desk)
    o, d, head = cast.officer, cast.director, cast.head

    # /report: category, summary, which field to change; then the written report's review.
    await o.send_command("/report")
    await probe(o, expect=100)
    await o.press(last_with(o, "类别"), text="火灾")
    await o.press(await o.wait_for("发生时间"), text="刚刚")
    await o.wait_for("事发地点")
    await o.share_location(34.75, 113.62)
    await o.press(await o.wait_for("伤亡情况"), text="无伤亡")
    await o.wait_for("简要描述")
    await o.send_text("仓库起火")
    await o.wait_for("请核对")
    assert "照片" in await probe(o, expect=108)
    await o.press(last_with(o, "请核对"), text="✏️ 修改")
    await probe(o, expect=109)
    await o.press(question(o), text="情况")
    await o.wait_for("简要描述")
    await o.send_text("仓库起火，已扑灭")
    await o.press(await o.wait_for("请核对"), text="✅ 确认上报")
    await o.wait_for("事件编号")
    await o.press(last_with(o, "事件编号"), text="📝 书面报告")
    await probe(o, expect=200)
    await o.send_command("/cancel")

    # /leave: kind, leaves the city?, stand-in (who can be one), summary.
    await o.send_command("/leave")
    await probe(o, expect=400)
    await o.press(last_with(o, "请假类别"), text="事假")
    await o.press(await o.wait_for("从哪天开始"), text="明天")
    await o.press(await o.wait_for("到哪天结束"), text="明天")
    await o.wait_for("去向")
    await o.send_text("北京")
    await o.wait_for("是否离开")
    await probe(o, expect=404)
    await o.press(last_with(o, "是否离开"), text="是，离开郑州")
    await o.wait_for("请假事由")
    await o.send_text("家中有事")
    await o.wait_for("代理人")
    hint = await probe(o, expect=406)
    assert "王主任" in hint and "/invite jianshelu" in hint
    await o.press(last_with(o, "代理人"), text="无代理人")
    await o.wait_for("请核对后提交")
    await probe(o, expect=407)
    await o.send_command("/cancel")

    # /info: kind, the check page (attachments may be sent there).
    await o.send_command("/info")
    await probe(o, expect=700)
    await o.press(last_with(o, "报送政务信息"), text="经济运行")
    await o.wait_for("信息标题")
    await o.send_text("前三季度经济运行")
    await o.wait_for("信息正文")
    await o.send_text("同比增长 6.1%")
    await o.wait_for("请核对")
    assert "附件" in await probe(o, expect=703)
    await o.send_command("/cancel")

    # /notice: attachments, audience, units, urgency, receipt, summary; roles; bound groups.
    grp = desk.emu.group(-100900, "建设路街道工作群", [head, o])
    await head.send_command("/bindgroup", chat=grp)
    await desk.settle()

    async def notice_to(audience: str) -> None:
        await d.send_command("/notice")
        await d.wait_for("密级")
        if 540 not in probe.seen:
            await probe(d, expect=540)
        await d.press(last_with(d, "密级"), text="非密")
        await d.wait_for("通知标题")
        await d.send_text("关于防汛的通知")
        await d.wait_for("通知正文")
        await d.send_text("请做好防汛准备")
        await d.wait_for("附件")
        if 502 not in probe.seen:
            assert "文件或照片" in await probe(d, expect=502)
        await d.press(last_with(d, "附件"), text="无附件")
        await d.wait_for("发给谁")
        if 503 not in probe.seen:
            await probe(d, expect=503)
        await d.press(last_with(d, "发给谁"), text=audience)

    await notice_to("选择单位")
    await d.wait_for("接收单位")
    assert "[[units]]" in await probe(d, expect=504)
    await d.press(last_with(d, "接收单位"), text="建设路街道")
    await d.press(await d.wait_for("接收单位"), text="完成")
    await d.wait_for("紧急程度")
    await probe(d, expect=508)
    await d.press(last_with(d, "紧急程度"), text="普通")
    await d.wait_for("签收回执")
    await probe(d, expect=509)
    await d.press(last_with(d, "签收回执"), text="需要签收（8小时内）")
    await d.wait_for("请核对后发送")
    await probe(d, expect=511)
    await d.send_command("/cancel")
    await notice_to("按角色")
    await d.wait_for("角色")
    await probe(d, expect=505)
    await d.send_command("/cancel")
    await notice_to("已绑定的群")
    await d.wait_for("要发布的群")
    hint = await probe(d, expect=507)
    assert "建设路街道工作群" in hint and "/bindgroup" in hint
    await d.send_command("/cancel")

    # /task: source, units, responsible leader (who can appear there), summary.
    await d.send_command("/task")
    await d.wait_for("事项标题")
    await d.send_text("背街小巷整治")
    await d.wait_for("事项来源")
    await probe(d, expect=601)
    await d.press(last_with(d, "事项来源"), text="领导批示")
    await d.wait_for("办理要求")
    await d.send_text("两周内完成")
    await d.wait_for("承办单位")
    await probe(d, expect=603)
    units = last_with(d, "承办单位")
    await d.press(units, text="建设路街道")
    await desk.settle()
    await probe(d, expect=603)  # again: the hint names the buttons as they are now (✅ 建设路街道)
    await d.press(units, text="✔️ 选好了")
    await d.wait_for("责任领导")
    hint = await probe(d, expect=604)
    assert "孙区长" in hint and "/invite office leader" in hint
    await d.press(last_with(d, "责任领导"), text="孙区长")
    await d.wait_for("办理时限")
    await d.send_text("12-04")
    await d.press(await d.wait_for("催办计划"), text="按默认")
    await d.wait_for("请核对")
    await probe(d, expect=607)
    await d.send_command("/cancel")

    await office_steps(desk, cast, probe)
    await routine_steps(desk, cast, probe)
    assert sorted(probe.seen) == sorted(ONLY), f"button-only steps never probed: {sorted(set(ONLY) - set(probe.seen))}"


async def review(probe: Probe, who: SimUser, fragment: str, state: int) -> None:
    """A review of the facts (state), then its category step (state + 6), then back to the review."""
    await probe(who, expect=state)
    await who.press(last_with(who, fragment), text="更正类别")
    await who.wait_for("更正后的事件类别")
    await probe(who, expect=state + 6)
    await who.press(last_with(who, "更正后的事件类别"), text="交通事故")
    await who.wait_for(fragment)


async def office_steps(desk: Desk, cast: Cast, probe: Probe) -> None:
    """/record's source; the reviews of the facts for each purpose: written report, the unit's first
    report on a recorded event, a director's 误报 finding and the corrected report it asks for, the
    duty room's own correction."""
    o, d, duty = cast.officer, cast.director, cast.duty
    first = await incidents.get(desk.db.read, 1)  # the /report above
    assert first is not None
    number = first.number
    await o.press(last_with(o, "事件编号"), text="📝 书面报告")
    await review(probe, o, "书面报告（事件", 200)
    await o.send_command("/cancel")

    await duty.send_command("/record")
    await duty.press(await duty.wait_for("哪个单位"), text="建设路街道")
    await duty.wait_for("从哪里获知")
    await probe(duty, expect=151)
    await duty.send_command("/cancel")
    recorded = await record_event(desk, duty, source="媒体/网络", when="1小时前")
    await desk.settle()
    told = await o.wait_for(recorded)
    await o.press(told, text="🚨 首报（本单位报告）")
    await o.wait_for("首报（事件")
    await review(probe, o, "首报（事件", 240)
    await o.send_command("/cancel")

    await d.send_command("/incident", number)
    await d.press(await d.wait_for("时间线"), text="⚠️ 认定误报")
    await d.wait_for("请输入理由")
    await d.send_text("经核实系电气故障，非火灾")
    await d.wait_for("误报认定（事件")
    await review(probe, d, "误报认定（事件", 270)
    await d.press(last_with(d, "误报认定（事件"), text="✅ 提交误报认定")
    await d.wait_for("已认定事件")
    await desk.settle()
    await o.press(await o.wait_for("认定为"), text="📝 更正书面报告")
    await o.wait_for("更正书面报告（事件")
    await review(probe, o, "更正书面报告（事件", 250)
    await o.send_command("/cancel")

    await duty.send_command("/incident", recorded)
    await duty.press(await duty.wait_for("时间线"), text="✏️ 更正要素")
    await duty.wait_for("更正要素（事件")
    await review(probe, duty, "更正要素（事件", 280)
    await duty.send_command("/cancel")


async def routine_steps(desk: Desk, cast: Cast, probe: Probe) -> None:
    """/holiday's check page; /log's kind and photos; /doc's 密级, urgency, files and check page;
    拟办's leader (who can appear there) and check page; 补充附件."""
    leader, duty = cast.leader, cast.duty
    await leader.send_command("/holiday")
    await leader.wait_for("哪天出发")
    await leader.send_text("12-31")
    await leader.wait_for("哪天返回")
    await leader.send_text("01-02")
    await leader.wait_for("去向")
    await leader.send_text("上海")
    await leader.wait_for("联系方式")
    await leader.send_text("13800000000")
    await leader.wait_for("请核对")
    await probe(leader, expect=1104)
    await leader.send_command("/cancel")

    await duty.send_command("/log")
    await duty.wait_for("值班记录")
    await probe(duty, expect=1200)
    await duty.press(last_with(duty, "值班记录"), text="来电")
    await duty.press(await duty.wait_for("什么时间"), text="现在")
    await duty.wait_for("来自谁")
    await duty.send_text("须水街道 张三")
    await duty.wait_for("主要内容")
    await duty.send_text("报告停电")
    await duty.press(await duty.wait_for("处理情况"), text="暂未处理")
    await duty.press(await duty.wait_for("还有什么待办"), text="无待办")
    await duty.wait_for("可发送照片")
    assert "照片" in await probe(duty, expect=1206)
    await duty.send_command("/cancel")

    await duty.send_command("/doc")
    await duty.wait_for("文件标题")
    await duty.send_text("关于做好冬季供暖保障工作的通知")
    await duty.wait_for("来文单位")
    await duty.send_text("市政府办公厅")
    await duty.press(await duty.wait_for("文号"), text="无文号")
    await duty.wait_for("密级？")
    await probe(duty, expect=1303)
    await duty.press(last_with(duty, "密级？"), text="非密")
    await duty.wait_for("紧急程度")
    await probe(duty, expect=1304)
    await duty.press(last_with(duty, "紧急程度"), text="平件")
    await duty.press(await duty.wait_for("收文时间"), text="刚收到")
    await duty.wait_for("内容摘要")
    await duty.send_text("请各单位排查供暖隐患")
    await duty.wait_for("可发送文件")
    assert "文件" in await probe(duty, expect=1307)
    await duty.press(last_with(duty, "可发送文件"), text="完成")
    await duty.wait_for("请核对后登记")
    await probe(duty, expect=1308)
    await duty.press(last_with(duty, "请核对后登记"), text="✅ 登记")
    card = await duty.wait_for("已登记")
    await duty.press(card, text="📎 补充附件")
    await duty.wait_for("可发送文件")
    await probe(duty, expect=1321)
    await duty.send_command("/cancel")
    await duty.press(card, text="✍️ 拟办")
    await duty.wait_for("拟办意见")
    await duty.send_text("请王主任牵头落实")
    await duty.wait_for("承办人")
    await duty.send_text("王主任")
    await duty.wait_for("批办领导")
    hint = await probe(duty, expect=1312)
    assert "孙区长" in hint and "/invite office leader" in hint
    await duty.press(last_with(duty, "批办领导"), text="孙区长")
    await duty.press(await duty.wait_for("办理时限"), text="按默认")
    await duty.wait_for("请核对后呈批")
    await probe(duty, expect=1314)
    await duty.send_command("/cancel")


async def test_lists_that_are_empty_say_who_can_appear_and_how(desk: Desk) -> None:
    """No 区领导 registered, nobody else in the unit to stand in, no group bound."""
    d = await desk.register("director", "刘主任", "office", "director")
    alone = await desk.register("alone", "赵信息", "mianfanglu", "officer")
    probe = Probe(desk)

    await d.send_command("/task")
    await d.wait_for("事项标题")
    await d.send_text("背街小巷整治")
    await d.press(await d.wait_for("事项来源"), text="领导批示")
    await d.wait_for("办理要求")
    await d.send_text("两周内完成")
    units = await d.wait_for("承办单位")
    await d.press(units, text="建设路街道")
    await desk.settle()
    await d.press(units, text="✔️ 选好了")
    asked = await d.wait_for("责任领导")
    assert "区领导尚未登记" in asked.text and [t for t, _ in asked.buttons] == ["暂不指定"]
    hint = await probe(d, expect=604)
    assert "区领导尚未登记" in hint and "/invite office leader" in hint and "「暂不指定」" in hint
    await d.send_command("/cancel")

    await d.send_command("/notice")
    await d.press(await d.wait_for("密级"), text="非密")
    await d.wait_for("通知标题")
    await d.send_text("关于防汛的通知")
    await d.wait_for("通知正文")
    await d.send_text("请做好防汛准备")
    await d.press(await d.wait_for("附件"), text="无附件")
    await d.wait_for("发给谁")
    hint = await probe(d, expect=503)
    assert "还没有绑定的群" in hint and "/bindgroup" in hint
    await d.send_command("/cancel")

    await alone.send_command("/leave")
    await alone.press(await alone.wait_for("请假类别"), text="事假")
    await alone.press(await alone.wait_for("从哪天开始"), text="明天")
    await alone.press(await alone.wait_for("到哪天结束"), text="明天")
    await alone.wait_for("去向")
    await alone.send_text("北京")
    await alone.press(await alone.wait_for("是否离开"), text="是，离开郑州")
    await alone.wait_for("请假事由")
    await alone.send_text("家中有事")
    asked = await alone.wait_for("代理人")
    assert "本单位还没有其他已登记" in asked.text
    hint = await probe(alone, expect=406)
    assert "本单位还没有其他已登记" in hint and "/invite mianfanglu" in hint and "「无代理人」" in hint


async def test_no_leader_to_assign_a_document_says_who_can_and_how(desk: Desk) -> None:
    """拟办 when no district leader or office director is registered: the question says so."""
    duty = await desk.register("duty", "陈值班", "office", "duty")
    await desk.register("head", "王主任", "jianshelu", "unit_head")
    await duty.send_command("/doc")
    await duty.wait_for("文件标题")
    await duty.send_text("关于做好冬季供暖保障工作的通知")
    await duty.wait_for("来文单位")
    await duty.send_text("市政府办公厅")
    await duty.press(await duty.wait_for("文号"), text="无文号")
    await duty.press(await duty.wait_for("密级？"), text="机密")
    await duty.press(await duty.wait_for("紧急程度"), text="平件")
    await duty.press(await duty.wait_for("收文时间"), text="刚收到")
    await duty.press(await duty.wait_for("请核对后登记"), text="✅ 登记")
    await duty.press(await duty.wait_for("已登记"), text="✍️ 拟办")
    await duty.wait_for("拟办意见")
    await duty.send_text("请王主任牵头落实")
    await duty.wait_for("承办人")
    await duty.send_text("王主任")
    asked = await duty.wait_for("批办领导")
    assert "还没有可批办的领导" in asked.text and "/invite office leader" in asked.text and not asked.buttons
    await desk.settle()
    n = len(duty.inbox)
    await duty.send_text("孙区长")
    await desk.settle()
    hint = duty.inbox[n].text or ""
    assert "打字无效" in hint and "还没有可批办的领导" in hint and "/invite office leader" in hint
    assert state_of(desk, duty) == 1312
