"""Answers not yet submitted are never dropped when another dialogue starts (issue #23, item 4).

Every dialogue kind is enumerated from the one dialogue map (handlers.build_dialog, fed by
DIALOG_MODULES' entry points): each is started, given one answer, and interrupted by another
dialogue's entry point. Emergency answers (the report and the incident's later stages) hold the
floor: the person is asked 继续… / 放弃草稿 and the dialogue stays on its step. Any other draft is
set aside, the new dialogue opens, the person is told how to come back; coming back asks the same
question. 继续 resumes at the step with every answer; 放弃草稿 drops the draft; /cancel still works.

The FakeClock starts on Monday 2026-11-23 10:00 Beijing time.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from bot.i18n import Texts
from handlers import build_dialog
from handlers.common import DialogKind
from handlers.dialogs import DialogMap
from storage import drafts
from tests.conftest import Cast
from tests.e2e.flows import dialogue_step as state_of
from tests.e2e.flows import file_report, record_event
from tests.e2e.test_documents import propose as propose_doc
from tests.e2e.test_documents import register as register_doc
from tests.e2e.test_supervision import accept, assign, complete

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    MAP = build_dialog()
assert isinstance(MAP, DialogMap)
KINDS: dict[str, DialogKind] = MAP.kinds
T = Texts("zh")


# --- reading what the bot holds --------------------------------------------------------------


def rows_of(desk: Desk, who: SimUser) -> dict[str, Any]:
    with desk.sql() as conn:
        found = conn.execute("SELECT kind, payload FROM drafts WHERE telegram_id=?", (who.id,)).fetchall()
    return {k: json.loads(p) for k, p in found}


def own(desk: Desk, who: SimUser, kind: DialogKind) -> dict[str, Any]:
    rows = rows_of(desk, who)
    return {k: rows[k] for k in kind.drafts if k in rows}


def choice_buttons(m: SimMessage) -> list[str]:
    return [t for t, d in m.buttons if d and d.startswith("dg:")]


def last_question(who: SimUser) -> SimMessage:
    """The latest message asking 继续… / 放弃草稿."""
    found = [m for m in who.inbox if choice_buttons(m)]
    assert found, "no 继续/放弃 question: " + " | ".join((m.text or "")[:50] for m in who.inbox[-4:])
    return found[-1]


def said_since(who: SimUser, n: int) -> list[str]:
    return [m.text or "" for m in who.inbox[n:]]


# --- one recipe per dialogue kind: who, what to prepare, how to start it, one answer ----------


@dataclass
class Scene:
    desk: Desk
    cast: Cast
    msgs: dict[str, SimMessage] = field(default_factory=dict)
    people: dict[str, SimUser] = field(default_factory=dict)  # registered by a setup


Step = Callable[[Scene], Awaitable[None]]


@dataclass(frozen=True)
class Recipe:
    who: str  # a Cast attribute
    start: Step
    answer: Step | None  # one answer the dialogue keeps; None: its only answer submits it
    other: str  # a command that opens another dialogue for `who`
    setup: Step | None = None


def command(who: str, text: str) -> Step:
    async def go(s: Scene) -> None:
        await getattr(s.cast, who).send_command(text)
    return go


def press(who: str, msg: str, label: str) -> Step:
    async def go(s: Scene) -> None:
        await getattr(s.cast, who).press(s.msgs[msg], text=label)
    return go


def press_last(who: str, label: str) -> Step:
    async def go(s: Scene) -> None:
        u: SimUser = getattr(s.cast, who)
        await s.desk.settle()
        await u.press(next(m for m in reversed(u.inbox) if label in [t for t, _ in m.buttons]), text=label)
    return go


def press_both(who: str, msg: str, label: str, then: str) -> Step:
    """A button that lists choices (opening nothing), then the choice whose label holds `then`."""
    async def go(s: Scene) -> None:
        u: SimUser = getattr(s.cast, who)
        await u.press(s.msgs[msg], text=label)
        await s.desk.settle()
        choices = next(m for m in reversed(u.inbox) if any(then in t for t, _ in m.buttons))
        await u.press(choices, text=next(t for t, _ in choices.buttons if then in t))
    return go


def text(who: str, value: str) -> Step:
    async def go(s: Scene) -> None:
        await getattr(s.cast, who).send_text(value)
    return go


async def an_incident(s: Scene) -> None:
    await file_report(s.desk, s.cast.officer)
    s.msgs["done"] = next(m for m in reversed(s.cast.officer.inbox) if "事件编号" in (m.text or ""))


async def an_incident_detail(s: Scene) -> None:
    number = await file_report(s.desk, s.cast.officer)
    await s.cast.head.send_command("/incident", number)
    s.msgs["detail"] = await s.cast.head.wait_for("时间线")


async def an_alert(s: Scene) -> None:
    number = await file_report(s.desk, s.cast.officer)
    s.msgs["alert"] = await s.cast.director.wait_for(number)


async def a_question(s: Scene) -> None:
    await an_alert(s)
    d = s.cast.director
    await d.press(s.msgs["alert"], text="❓ 要求补充")
    await d.wait_for("补充的问题")
    await d.send_text("有无被困人员？")
    await s.desk.settle()
    s.msgs["question"] = await s.cast.officer.wait_for("要求补充")


async def a_leave_request(s: Scene) -> None:
    o = s.cast.officer
    await o.send_command("/leave")
    await o.press(await o.wait_for("请假类别"), text="事假")
    await o.press(await o.wait_for("从哪天开始"), text="明天")
    await o.press(await o.wait_for("到哪天结束"), text="明天")
    await o.wait_for("去向")
    await o.send_text("北京")
    await o.press(await o.wait_for("是否离开"), text="是，离开郑州")
    await o.wait_for("请假事由")
    await o.send_text("家中有事")
    await o.press(await o.wait_for("代理人"), text="无代理人")
    await o.press(await o.wait_for("请核对后提交"), text="✅ 提交")
    await s.desk.settle()
    s.msgs["card"] = await s.cast.head.wait_for("请假审批")


async def a_meeting(s: Scene) -> None:
    d = s.cast.director
    await d.send_command("/meeting")
    await d.press(await d.wait_for("密级"), text="非密")  # asked first since #27
    await d.wait_for("会议名称")
    await d.send_text("安全生产调度会")
    await d.wait_for("会议时间")
    await d.send_text("15:00")
    await d.wait_for("会议地点")
    await d.send_text("三楼会议室")
    await d.press(await d.wait_for("通知正文"), text="跳过")
    await d.press(await d.wait_for("附件"), text="无附件")
    await d.press(await d.wait_for("发给谁"), text="指定人员")
    await d.wait_for("接收人姓名")
    await d.send_text("李信息")
    await d.press(await d.wait_for("紧急程度"), text="普通")
    await d.press(await d.wait_for("请核对后发送"), text="📤 发送")
    await s.desk.settle()
    s.msgs["meeting"] = await s.cast.officer.wait_for("会议通知")


async def a_task(s: Scene) -> None:
    task_id = await assign(s.desk, s.cast)
    await accept(s.desk, s.cast.head)
    await s.cast.head.send_command("/task", str(task_id))
    s.msgs["card"] = await s.cast.head.wait_for("办理记录")


async def a_completion(s: Scene) -> None:
    await a_task(s)
    await complete(s.cast.head, s.msgs["card"], "整治完成")
    await s.desk.settle()
    s.msgs["review"] = await s.cast.director.wait_for("已办结")


def correct_place(who: str, review: str) -> Step:
    """One correction in a review of the facts: 更正地点, then the place typed."""
    async def go(s: Scene) -> None:
        u: SimUser = getattr(s.cast, who)
        await u.press(await u.wait_for(review), text="更正地点")
        await u.wait_for("事发地点")
        await u.send_text("中原路与文化宫路交叉口北侧")
        await u.wait_for(review)
    return go


def file_sent(who: str) -> Step:
    async def go(s: Scene) -> None:
        await getattr(s.cast, who).send_document("附件1.pdf")
    return go


async def a_media_event(s: Scene) -> None:
    """The duty room puts on record an event it learnt of from the media: the unit owes its 首报."""
    number = await record_event(s.desk, s.cast.duty, source="媒体/网络", when="1小时前")
    s.msgs["told"] = await s.cast.officer.wait_for(number)


async def a_recorded_detail(s: Scene) -> None:
    number = await record_event(s.desk, s.cast.duty)
    await s.cast.duty.send_command("/incident", number)
    s.msgs["detail"] = await s.cast.duty.wait_for("时间线")


async def a_director_detail(s: Scene) -> None:
    number = await file_report(s.desk, s.cast.officer)
    await s.cast.director.send_command("/incident", number)
    s.msgs["detail"] = await s.cast.director.wait_for("时间线")


async def a_finding(s: Scene) -> None:
    """An event recorded from the media (未报, a finding of its own), in the director's /incident."""
    number = await record_event(s.desk, s.cast.duty, source="媒体/网络", when="1小时前")
    await s.cast.director.send_command("/incident", number)
    s.msgs["detail"] = await s.cast.director.wait_for("时间线")


async def a_wrong_report(s: Scene) -> None:
    """A director found the unit's report wrong: the unit owes a corrected written report."""
    await a_director_detail(s)
    d = s.cast.director
    await d.press(s.msgs["detail"], text="⚠️ 认定误报")
    await d.wait_for("请输入理由")
    await d.send_text("经核实无人员伤亡")
    await correct_place("director", "误报认定（事件")(s)
    await d.press(next(m for m in reversed(d.inbox) if "误报认定（事件" in (m.text or "")), text="✅ 提交误报认定")
    await d.wait_for("已认定事件")
    await s.desk.settle()
    s.msgs["told"] = await s.cast.officer.wait_for("认定为")


async def a_handover(s: Scene) -> None:
    """A shift change a minute ahead, and its handover draft to 陈值班."""
    await plant_handover(s)
    await s.desk.advance(minutes=1)
    s.msgs["handover"] = await s.cast.duty.wait_for("🔁 交接班")


async def plant_handover(s: Scene) -> None:
    """A shift change a minute ahead: 陈值班's day shift hands over to 吴值班's night shift."""
    from datetime import timedelta

    from bot.domain.roster import Slot
    from bot.services import handover
    from storage import members, roster

    svc = s.desk.services
    incoming = s.people["duty2"] = await s.desk.register("duty2", "吴值班", "office", "duty")
    at = svc.now() + timedelta(minutes=1)
    out_m = await members.by_telegram_id(s.desk.db.conn, s.cast.duty.id)
    in_m = await members.by_telegram_id(s.desk.db.conn, incoming.id)
    assert out_m is not None and in_m is not None
    day = at.date() + timedelta(days=60)  # a label away from any imported roster
    async with svc.uow() as tx:
        await roster.replace_shift(tx.conn, day, "day", [Slot(day, "day", 1, out_m.id, at - timedelta(hours=9), at)],
                                   tx.now, None)
        await roster.replace_shift(tx.conn, day, "night",
                                   [Slot(day, "night", 1, in_m.id, at, at + timedelta(hours=15))], tx.now, None)
    await handover.plant_change(svc, at)


async def a_document(s: Scene) -> None:
    s.msgs["card"] = await register_doc(s.cast.duty)


async def a_document_to_handle(s: Scene) -> None:
    card = await register_doc(s.cast.duty)
    await propose_doc(s.cast.duty, card)
    await s.cast.leader.press(await s.cast.leader.wait_for("请批办"), text="✅ 批办")
    await s.desk.settle()
    s.msgs["handler_card"] = await s.cast.head.wait_for("交办")


RECIPES: dict[str, Recipe] = {
    "report": Recipe("officer", command("officer", "/report"), press_last("officer", "火灾"), "/info"),
    "written": Recipe("officer", press("officer", "done", "📝 书面报告"), None, "/info", an_incident),
    "full": Recipe("officer", press("officer", "done", "📄 续报（起因/处置/后果）"), text("officer", "电线老化"),
                   "/info", an_incident),
    "followup": Recipe("officer", press("officer", "done", "➕ 续报进展"), text("officer", "明火已扑灭"), "/info",
                       an_incident),
    "close": Recipe("head", press("head", "detail", "🏁 结案"), None, "/info", an_incident_detail),
    "question": Recipe("director", press("director", "alert", "❓ 要求补充"), None, "/notice", an_alert),
    "answer": Recipe("officer", press("officer", "question", "💬 回复"), None, "/info", a_question),
    "leave": Recipe("officer", command("officer", "/leave"), press_last("officer", "事假"), "/info"),
    "leave_decision": Recipe("head", press("head", "card", "❌ 不批准"), None, "/info", a_leave_request),
    "notice": Recipe("director", command("director", "/notice"), press_last("director", "非密"), "/task"),
    "notice_answer": Recipe("officer", press("officer", "meeting", "🙋 请假"), None, "/info", a_meeting),
    "task": Recipe("director", command("director", "/task"), text("director", "背街小巷整治"), "/notice"),
    "task_report": Recipe("head", press("head", "card", "📝 报进展"), text("head", "已清理 12 处"), "/info", a_task),
    "task_ext": Recipe("head", press("head", "card", "⏳ 申请延期"), text("head", "12-10"), "/info", a_task),
    "task_return": Recipe("director", press("director", "review", "↩️ 退回"), text("director", "缺少照片"), "/notice",
                          a_completion),
    "info": Recipe("officer", command("officer", "/info"), press_last("officer", "经济运行"), "/leave"),
    # the office's side of emergency reporting (#24)
    "record": Recipe("duty", command("duty", "/record"), press_last("duty", "建设路街道"), "/log"),
    "first": Recipe("officer", press("officer", "told", "🚨 首报（本单位报告）"),
                    correct_place("officer", "首报（事件"), "/info", a_media_event),
    "corrected": Recipe("officer", press("officer", "told", "📝 更正书面报告"),
                        correct_place("officer", "更正书面报告（事件"), "/info", a_wrong_report),
    "office": Recipe("duty", press("duty", "detail", "✏️ 更正要素"), correct_place("duty", "更正要素（事件"), "/log",
                     a_recorded_detail),
    "wrong": Recipe("director", press("director", "detail", "⚠️ 认定误报"), text("director", "经核实无人员伤亡"),
                    "/notice", a_director_detail),
    "concealed": Recipe("director", press("director", "detail", "🚫 认定瞒报"), None, "/notice", a_director_detail),
    "mark_note": Recipe("director", press_both("director", "detail", "📝 问责备注", "未报"), None, "/notice",
                        a_finding),
    # the office's routines (#27)
    "holiday": Recipe("leader", command("leader", "/holiday"), press_last("leader", "明天"), "/leave"),
    "duty_log": Recipe("duty", command("duty", "/log"), press_last("duty", "来电"), "/record"),
    "handover_note": Recipe("duty", press("duty", "handover", "📝 交班说明"), None, "/log", a_handover),
    "document": Recipe("duty", command("duty", "/doc"), text("duty", "关于做好冬季供暖保障工作的通知"), "/log"),
    "doc_proposal": Recipe("duty", press("duty", "card", "✍️ 拟办"), text("duty", "请王主任牵头落实"), "/log",
                           a_document),
    "doc_result": Recipe("head", press("head", "handler_card", "✅ 办结"), None, "/leave", a_document_to_handle),
    "doc_files": Recipe("duty", press("duty", "card", "📎 补充附件"), file_sent("duty"), "/log", a_document),
}


def test_every_entry_point_belongs_to_a_dialogue_kind_with_a_recipe() -> None:
    """New dialogues join this test: every entry point is gated for its kind, every state has one."""
    assert set(RECIPES) == set(KINDS)
    for handler in MAP.gated:
        assert getattr(handler.callback, "enters", None) is not None, handler
    owned = [s for k in KINDS.values() for s in k.states]
    assert sorted(owned) == sorted(MAP.states), "every state belongs to exactly one dialogue kind"
    starts = {fn for k in KINDS.values() for fn in k.starts}
    assert starts == {h.callback.enters for h in MAP.gated}  # type: ignore[attr-defined]


async def _interrupt(s: Scene, who: SimUser, kind: DialogKind, recipe: Recipe, step: int) -> SimMessage:
    """Another dialogue's entry is hit; returns the 继续/放弃 question the person ends up with."""
    n = len(who.inbox)
    await who.send_command(recipe.other)
    await s.desk.settle()
    if kind.urgent:
        q = last_question(who)
        assert who.inbox.index(q) >= n and "未提交" in (q.text or "") and "⚠️" in (q.text or "")
        assert state_of(s.desk, who) == step  # the emergency dialogue stays on its step
        return q
    told = said_since(who, n)
    assert any("已存为草稿" in t and T(f"dialog.back.{kind.name}") in t for t in told), told
    assert state_of(s.desk, who) not in kind.states  # the other dialogue opened at once
    await who.send_command("/cancel")  # done with it
    await s.desk.settle()
    n = len(who.inbox)
    await recipe.start(s)  # back to the draft: asked
    await s.desk.settle()
    q = last_question(who)
    assert who.inbox.index(q) >= n and "未提交" in (q.text or ""), said_since(who, n)
    return q


@pytest.mark.parametrize("name", sorted(KINDS))
async def test_an_interrupted_dialogue_keeps_its_answers(desk: Desk, cast: Cast, name: str) -> None:
    kind, recipe = KINDS[name], RECIPES[name]
    s = Scene(desk, cast)
    who: SimUser = getattr(cast, recipe.who)
    if recipe.setup is not None:
        await recipe.setup(s)
        await desk.settle()
    await recipe.start(s)
    await desk.settle()
    at_start = kind.answered(own(desk, who, kind))  # a decision pressed (不批准, 请假, 退回) is an answer already
    if recipe.answer is not None:
        await recipe.answer(s)
        await desk.settle()
    step, question, rows = state_of(desk, who), who.inbox[-1].text, own(desk, who, kind)
    assert step in kind.states, (name, step, said_since(who, -3))
    if kind.answered(rows) == 0:
        # Nothing given yet (its only answer submits it): the other dialogue simply opens.
        assert recipe.answer is None, f"{name}: the answer given was not kept as an answer"
        n = len(who.inbox)
        await who.send_command(recipe.other)
        await desk.settle()
        assert not any("未提交" in t or "草稿" in t for t in said_since(who, n))
        assert state_of(desk, who) not in kind.states and state_of(desk, who) is not None
        return

    # 继续… resumes at the step, every answer kept, the question asked again word for word.
    q = await _interrupt(s, who, kind, recipe, step)  # type: ignore[arg-type]
    assert choice_buttons(q) == [T(f"dialog.go.{name}"), T("dialog.drop")]
    await who.press(q, text=T(f"dialog.go.{name}"))
    await desk.settle()
    assert state_of(desk, who) == step
    assert who.inbox[-1].text == question
    assert own(desk, who, kind) == rows
    assert drafts.parked_kind(name) not in rows_of(desk, who)

    # 放弃草稿 drops it; what was pressed opens in its place.
    q = await _interrupt(s, who, kind, recipe, step)  # type: ignore[arg-type]
    await who.press(q, text=T("dialog.drop"))
    await desk.settle()
    assert drafts.parked_kind(name) not in rows_of(desk, who)
    assert any("已放弃" in t for t in said_since(who, who.inbox.index(q)))
    if kind.urgent:
        assert state_of(desk, who) not in kind.states  # the other dialogue
        assert kind.answered(own(desk, who, kind)) == 0
    else:
        assert state_of(desk, who) in kind.states  # the same one, from its start
        assert kind.answered(own(desk, who, kind)) == at_start
    # /cancel still ends whatever is open.
    await who.send_command("/cancel")
    await desk.settle()
    assert state_of(desk, who) is None and "已取消" in (who.inbox[-1].text or "")


# --- the same dialogue again, continuing to the end, and the buttons under attack -------------


async def test_report_again_asks_and_discard_starts_over(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.wait_for("发生时间")
    await o.send_command("/report")
    q = await o.wait_for("未提交")
    assert "再从头开始" in q.text and choice_buttons(q) == ["继续上报", "放弃草稿"]
    await o.reply_button("🚨 上报突发事件")  # the menu button is an entry point too: asked again
    q = await o.wait_for("未提交")
    await o.press(q, text="放弃草稿")
    await o.wait_for("已放弃突发事件报告草稿")
    await o.wait_for("类别")
    await desk.settle()
    assert state_of(desk, o) == 100 and KINDS["report"].answered(own(desk, o, KINDS["report"])) == 0


async def test_continued_report_files_every_answer_given_before(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="交通事故")
    await o.press(await o.wait_for("发生时间"), text="30分钟前")
    await o.wait_for("事发地点")
    await o.send_command("/leave")
    await o.press(await o.wait_for("未提交"), text="继续上报")
    await o.wait_for("事发地点")
    await o.share_location(34.75, 113.62)
    await o.press(await o.wait_for("伤亡情况"), text="无伤亡")
    await o.wait_for("简要描述")
    await o.send_text("两车追尾")
    summary = await o.wait_for("请核对")
    assert "交通事故" in summary.text and "09:30" in summary.text
    await o.press(summary, text="✅ 确认上报")
    await o.wait_for("事件编号")


async def test_choice_buttons_are_checked_not_trusted(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.wait_for("发生时间")
    await o.send_command("/info")
    first = await o.wait_for("未提交")
    # Forged data on the question: refused, nothing moves.
    await o.press_raw("dg:drop:00000000", first.message_id)
    assert "失效" in (await o.wait_for_answer()).text
    await o.press_raw("dg:drop:" + "x" * 8, first.message_id)
    assert "失效" in (await o.wait_for_answer()).text
    # A second question voids the first one's buttons.
    await o.send_command("/leave")
    second = await o.wait_for("未提交")
    await o.press(first, text="放弃草稿")
    assert "失效" in (await o.wait_for_answer()).text
    await desk.settle()
    assert state_of(desk, o) == 101 and KINDS["report"].answered(own(desk, o, KINDS["report"])) == 1
    # The same token pressed in a group is refused there, and nothing is posted in the group.
    grp = desk.emu.group(-100777, "工作群", [o, cast.head])
    await cast.head.send_command("/help", chat=grp)
    await desk.settle()
    posted = len(desk.emu.messages(grp.id))
    token = next(d for _, d in second.buttons if d and d.startswith("dg:drop:"))
    await o.press_raw(token, desk.emu.messages(grp.id)[-1].message_id, chat=grp)
    assert "私聊" in (await o.wait_for_answer()).text  # refused for the chat before any dialogue sees it (#23)
    await desk.settle()
    assert len(desk.emu.messages(grp.id)) == posted
    assert KINDS["report"].answered(own(desk, o, KINDS["report"])) == 1
    # Once the report is filed, its question's buttons find no draft.
    await o.press(second, text="继续上报")
    await o.press(await o.wait_for("发生时间"), text="刚刚")
    await o.wait_for("事发地点")
    await o.share_location(34.75, 113.62)
    await o.press(await o.wait_for("伤亡情况"), text="无伤亡")
    await o.wait_for("简要描述")
    await o.send_command("/info")
    third = await o.wait_for("未提交")
    await o.send_text("仓库起火")
    await o.press(await o.wait_for("请核对"), text="✅ 确认上报")
    await o.wait_for("事件编号")
    await o.press(third, text="继续上报")
    assert "不在了" in (await o.wait_for_answer()).text


async def test_a_deactivated_member_cannot_come_back_to_a_draft(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/leave")
    await o.press(await o.wait_for("请假类别"), text="事假")
    await o.wait_for("从哪天开始")
    await o.send_command("/leave")
    q = await o.wait_for("未提交")
    await cast.admin.send_command("/members")
    listing = await cast.admin.wait_for("人员名单")
    number = next(line.split()[0].lstrip("#") for line in (listing.text or "").splitlines() if "李信息" in line)
    await cast.admin.send_command("/deactivate", number)
    await cast.admin.wait_for("已停用")
    await o.press(q, text="继续请假申请")
    assert "停用" in (await o.wait_for_answer()).text


async def test_commands_that_open_no_dialogue_leave_it_where_it_was(desk: Desk, cast: Cast) -> None:
    """/start, /help, /incidents, an unknown command, and an entry the person may not use (/task
    for an officer) answer; the report stays on its step and takes the next answer."""
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.wait_for("发生时间")
    for cmd in ("/start", "/help", "/incidents", "/nosuch", "/task", "/progress", "/notice"):
        await o.send_command(cmd)
        await desk.settle()
        assert state_of(desk, o) == 101, cmd
    await o.send_command("/leave")  # asked, the report kept
    await o.wait_for("未提交")
    await o.send_text("9:30")  # the question above is still the report's: answered
    await o.wait_for("事发地点")
    assert KINDS["report"].answered(own(desk, o, KINDS["report"])) == 2


async def test_a_refused_entry_does_not_end_a_dialogue_set_aside_for_nothing(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/leave")
    await o.press(await o.wait_for("请假类别"), text="事假")
    await o.wait_for("从哪天开始")
    n = len(o.inbox)
    await o.send_command("/task")  # not for an officer: the leave request carries on, not set aside
    await desk.settle()
    assert not any("草稿" in t for t in said_since(o, n))
    assert state_of(desk, o) == 401 and "leave" in rows_of(desk, o)
    await o.press(o.inbox[n - 1], text="明天")
    await o.wait_for("到哪天结束")


async def test_a_lost_step_after_a_crash_is_offered_on_report(desk: Desk, cast: Cast) -> None:
    """The bot killed after the report's answer was saved but before its step was: the step note
    in the draft still lets /report offer to continue, at that step."""
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.press(await o.wait_for("发生时间"), text="刚刚")
    await o.wait_for("事发地点")
    await desk.stop_bot()
    with desk.sql() as conn:
        conn.execute("DELETE FROM ptb_conversations")
    await desk.start_bot()
    await o.send_command("/report")
    q = await o.wait_for("未提交")
    await o.press(q, text="继续上报")
    await o.wait_for("事发地点")
    await desk.settle()
    assert state_of(desk, o) == 103


async def test_a_record_in_the_reports_steps_is_still_the_record(desk: Desk, cast: Cast) -> None:
    """/record goes on in /report's steps (100s): interrupted there, it is the record that is asked
    about (继续登记), and it resumes at that step with the record's answers — also when the step was
    lost in a crash (the rows alone tell whose draft it is)."""
    duty = cast.duty
    await duty.send_command("/record")
    await duty.press(await duty.wait_for("哪个单位"), text="建设路街道")
    await duty.press(await duty.wait_for("从哪里获知"), text="媒体/网络")
    await duty.press(await duty.wait_for("本室获知时间"), text="刚刚")
    await duty.press(await duty.wait_for("类别"), text="火灾")
    await duty.press(await duty.wait_for("发生时间"), text="30分钟前")
    place = await duty.wait_for("事发地点")
    await desk.settle()
    assert state_of(desk, duty) == 103
    await duty.send_command("/log")
    q = await duty.wait_for("未提交")
    assert T("dialog.name.record") in q.text and choice_buttons(q) == [T("dialog.go.record"), T("dialog.drop")]
    assert state_of(desk, duty) == 103
    await desk.stop_bot()
    with desk.sql() as conn:
        conn.execute("DELETE FROM ptb_conversations")
    await desk.start_bot()
    await duty.send_command("/record")
    q = await duty.wait_for("未提交")
    assert T("dialog.name.record") in q.text and "再从头开始" in q.text
    await duty.press(q, text=T("dialog.go.record"))
    assert (await duty.wait_for("事发地点")).text == place.text
    await desk.settle()
    assert state_of(desk, duty) == 103
    assert KINDS["record"].answered(own(desk, duty, KINDS["record"])) == 5  # unit, source, time, category, when
