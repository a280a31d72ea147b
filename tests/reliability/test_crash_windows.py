"""The crash windows the chaos run (bench/chaos.py) can only hit by luck, hit on purpose.

A crash is simulated by making the step right after a commit raise: the handler dies
there, the conversation state is not advanced, and the user does what a person does
when no answer comes - presses the button again.
"""

from __future__ import annotations

import pytest

from bot.emulator import SimUser
from bot.harness import Desk
from handlers import report
from tests.conftest import Cast


class Crash(Exception):
    pass


async def _to_place(o: SimUser) -> None:
    """/report, a category and a time: the dialogue asks 事发地点."""
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.press(await o.wait_for("发生时间"), text="刚刚")
    await o.wait_for("事发地点")


async def _to_summary(cast: Cast) -> object:
    o = cast.officer
    await _to_place(o)
    await o.send_text("建设路与桐柏路交叉口")
    await o.press(await o.wait_for("伤亡情况"), text="无伤亡")
    await o.wait_for("简要描述")
    await o.send_text("商铺起火")
    return await o.wait_for("请核对")


def _count(desk: Desk, sql: str) -> int:
    with desk.sql() as conn:
        return int(conn.execute(sql).fetchone()[0])


async def test_confirm_pressed_again_after_a_crash_files_once(desk: Desk, cast: Cast,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    summary = await _to_summary(cast)
    real_answer = report.answer_query

    async def crash(*a: object, **kw: object) -> None:
        raise Crash("killed right after the report was committed")

    monkeypatch.setattr(report, "answer_query", crash)
    await cast.officer.press(summary, text="✅ 确认上报")
    await desk.settle()
    assert _count(desk, "SELECT count(*) FROM incidents") == 1
    alerts = desk.emu.sent_to(cast.duty.id)
    assert alerts > 0
    # The handler died before the confirmation and before the conversation moved on: the person
    # saw nothing, so they press again.
    monkeypatch.setattr(report, "answer_query", real_answer)
    await cast.officer.press(summary, text="✅ 确认上报")
    done = await cast.officer.wait_for("事件编号")
    await desk.settle()
    assert "2026-0001" in (done.text or "")
    assert _count(desk, "SELECT count(*) FROM incidents") == 1  # not a second incident
    assert desk.emu.sent_to(cast.duty.id) == alerts  # and no second alert
    assert _count(desk, "SELECT count(*) FROM drafts WHERE kind='report' AND payload != '{\"filed_incident\": 1}'") == 0


async def test_new_report_after_a_filed_one_starts_fresh(desk: Desk, cast: Cast,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The 'filed' marker must not swallow the member's next report."""
    summary = await _to_summary(cast)

    async def crash(*a: object, **kw: object) -> None:
        raise Crash("killed")

    monkeypatch.setattr(report, "answer_query", crash)
    await cast.officer.press(summary, text="✅ 确认上报")
    await desk.settle()
    monkeypatch.undo()
    summary = await _to_summary(cast)
    await cast.officer.press(summary, text="✅ 确认上报")
    assert "2026-0002" in ((await cast.officer.wait_for("事件编号")).text or "")
    assert _count(desk, "SELECT count(*) FROM incidents") == 2


async def test_crash_after_a_question_is_shown_resumes_at_that_question(desk: Desk, cast: Cast,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after 事发地点？ went out, before PTB saved the new state: the restarted bot must
    read the next answer as the place, not as the time of the step before."""
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    occurred = await o.wait_for("发生时间")
    real_ask = report.ask_place

    async def ask_then_crash(*a: object, **kw: object) -> object:
        await real_ask(*a, **kw)  # type: ignore[arg-type]
        raise Crash("killed right after the question was delivered")

    monkeypatch.setattr(report, "ask_place", ask_then_crash)
    await o.press(occurred, text="刚刚")
    await o.wait_for("事发地点")
    await desk.settle()
    monkeypatch.undo()
    await desk.restart()
    await o.send_text("建设路与桐柏路交叉口")
    await o.wait_for("伤亡情况")  # not "时间格式" (the answer read as a time)


async def test_button_of_an_earlier_question_shows_the_current_one_again(desk: Desk, cast: Cast) -> None:
    """After a crash the person may press the previous question's button again: they are told,
    and the question the dialogue is really at is shown again."""
    o = cast.officer
    await o.send_command("/report")
    category = await o.wait_for("类别")
    await o.press(category, text="火灾")
    await o.wait_for("发生时间")
    await o.press(category, text="交通事故")  # again, an old button
    again = await o.wait_for("发生时间")
    assert any(b.get("callback_data") == "r:t:now" for row in again.reply_markup["inline_keyboard"] for b in row)
    await desk.settle()
    with desk.sql() as conn:
        payload = conn.execute("SELECT payload FROM drafts WHERE kind='report'").fetchone()[0]
    assert '"category": "fire"' in payload  # the old button changed nothing


async def test_answer_to_a_question_whose_step_was_not_saved_is_not_misfiled(desk: Desk, cast: Cast,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after 伤亡情况？ went out but before its step was saved: the casualties typed next
    must not be stored as the place (the step the restarted bot thinks it is at)."""
    o = cast.officer
    await _to_place(o)
    await desk.settle()

    async def not_saved(*a: object, **kw: object) -> None:
        raise Crash("killed after the question was delivered, before the step was saved")

    monkeypatch.setattr(report, "_at", not_saved)
    await o.send_text("建设路与桐柏路交叉口")
    await o.wait_for("伤亡情况")
    await desk.settle()
    monkeypatch.undo()
    await desk.restart()
    await o.send_text("1/3/0")  # meant for 伤亡情况
    await o.wait_for("伤亡情况")  # asked again, not taken as the place
    await o.send_text("1/3/0")
    await o.wait_for("简要描述")
    await desk.settle()
    with desk.sql() as conn:
        payload = conn.execute("SELECT payload FROM drafts WHERE kind='report'").fetchone()[0]
    assert '"place": "建设路与桐柏路交叉口"' in payload and '"deaths": 1' in payload


async def test_first_question_shown_but_dialogue_not_saved_still_takes_the_category(
        desk: Desk, cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed right after 请选择事件类别 went out: the restarted bot must take the category pressed
    next, not answer "button expired" to every press (the chaos run's stall: 30 presses, no answer)."""
    o = cast.officer
    real_say = report.say

    async def say_then_crash(update: object, ctx: object, text: str, *a: object, **kw: object) -> None:
        await real_say(update, ctx, text, *a, **kw)  # type: ignore[arg-type]
        if "类别" in text:
            raise Crash("killed right after the first question was delivered")

    monkeypatch.setattr(report, "say", say_then_crash)
    await o.send_command("/report")
    category = await o.wait_for("类别")
    await desk.settle()
    monkeypatch.undo()
    await desk.restart()
    await o.press(category, text="火灾")
    await o.press(await o.wait_for("发生时间"), text="刚刚")
    await o.wait_for("事发地点")
    await desk.settle()
    with desk.sql() as conn:
        payload = conn.execute("SELECT payload FROM drafts WHERE kind='report'").fetchone()[0]
    assert '"category": "fire"' in payload


async def test_a_category_button_without_any_report_under_way_is_only_stale(desk: Desk, cast: Cast) -> None:
    """The same button long after the report was filed (or never asked) starts nothing."""
    o = cast.officer
    await o.send_command("/report")
    category = await o.wait_for("类别")
    await o.send_command("/cancel")
    await o.wait_for(None)
    await desk.settle()
    before = len(o.inbox)
    await o.press(category, text="火灾")
    answer = await o.wait_for_answer()
    assert answer.show_alert and "失效" in (answer.text or "")
    await desk.settle()
    assert len(o.inbox) == before


async def test_an_update_telegram_delivers_again_after_a_kill_is_not_handled_twice(
        desk: Desk, cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    """Handled, then killed before the next poll confirmed it: Telegram delivers the update again.
    Taken twice, the casualties answer became the description (chaos: 3 of 500 reports)."""
    o = cast.officer
    sent: dict[int, tuple[int, str, int]] = {}
    real_enqueue = desk.emu._enqueue_update

    def spy(kind: str, payload: dict[str, object], chat_id: int) -> int:
        update_id = real_enqueue(kind, payload, chat_id)
        sent[update_id] = next(u for u in desk.emu._updates if u[0] == update_id)
        return update_id

    monkeypatch.setattr(desk.emu, "_enqueue_update", spy)
    await _to_place(o)
    await o.send_text("建设路与桐柏路交叉口")
    await o.wait_for("伤亡情况")
    await o.send_text("1/3/0")
    await o.wait_for("简要描述")
    await desk.settle()
    await desk.stop_bot()
    desk.emu._updates.appendleft(sent[max(sent)])  # the casualties answer, once more
    await desk.start_bot()
    await desk.settle()
    assert not [m for m in o.inbox if "请核对" in (m.text or "")]  # not taken as the description
    await o.send_text("商铺起火")
    summary = await o.wait_for("请核对")
    assert "商铺起火" in summary.text and "1/3/0" not in summary.text


async def test_confirm_pressed_again_and_redelivered_after_a_kill_repeats_the_confirmation_only(
        desk: Desk, cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    """确认上报 pressed a second time (after an error reply) is answered from the filed draft; killed
    before that update's end was saved, Telegram delivers it again and the restarted bot answers it
    again: the same number, a third time, after the person may already have begun the next report.
    Nothing is filed twice; the chaos run's officers must not take that late repeat for the next
    report's confirmation (tests/integration/test_chaos_harness.py)."""
    import contextlib

    from tests.reliability.test_redelivery import Replay, killed

    o = cast.officer
    summary = await _to_summary(cast)

    async def crash(*a: object, **kw: object) -> None:
        raise Crash("the answer to 确认上报 failed after the report was filed")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "answer_query", crash)
        await o.press(summary, text="✅ 确认上报")
        await o.wait_for("出了点问题")  # the error reply: the person presses again
        await desk.settle()
    replay = Replay(desk, monkeypatch)
    with contextlib.ExitStack() as kill:
        kill.enter_context(killed(desk))
        await o.press(summary, text="✅ 确认上报")
        first = await o.wait_for("事件编号")  # from the filed draft
        await replay.restart_with_last_update_again(kill)
    late = await o.wait_for("事件编号")  # the same update handled again: the same answer, late
    assert "2026-0001" in (first.text or "") and "2026-0001" in (late.text or "")
    assert _count(desk, "SELECT count(*) FROM incidents") == 1
