"""An answer counts for the question it follows, never for one the person had not seen yet.

The chaos run's lost report (issue 29, seed 5 of `--reports 12 --officers 4 --faults 0.2`): the
casualties question went out twice — once from a bot killed while it waited on a slow send, once
from the restarted bot handling the redelivered update again — and the officer answered both.
The first answer moved the dialogue on; the second, typed before 请简要描述 reached the phone,
was filed as the description ("1/2/0"). The same happens without any crash to a person who sends
an answer twice (no reaction yet, a flaky network), and after a restart to one who sent it again
while the bot was down; in every dialogue where one typed step follows another.

Telegram numbers the messages of a chat in the order they arrive, the person's and the bot's
alike: a message older than the question its step sent was typed before that question was on the
screen.
"""

from __future__ import annotations

from bot.emulator import SimUser
from bot.harness import Desk
from tests.conftest import Cast

CROSSED = "在上面的问题发出之前"


async def _to_casualties(o: SimUser) -> None:
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.press(await o.wait_for("发生时间"), text="刚刚")
    await o.wait_for("事发地点")
    await o.send_text("建设路与桐柏路交叉口")
    await o.wait_for("伤亡情况")


def _report_draft(desk: Desk) -> str:
    with desk.sql() as conn:
        return str(conn.execute("SELECT payload FROM drafts WHERE kind='report'").fetchone()[0])


async def test_an_answer_sent_twice_is_not_taken_for_the_next_question(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await _to_casualties(o)
    await o.send_text("1/3/0")
    await o.send_text("1/3/0")  # again, before 请简要描述 came: not the description
    await o.wait_for("简要描述")
    await o.wait_for(CROSSED)
    await desk.settle()
    assert not [m for m in o.inbox if "请核对" in (m.text or "")]
    await o.send_text("商铺起火")
    summary = await o.wait_for("请核对")
    assert "商铺起火" in (summary.text or "") and "1/3/0" not in (summary.text or "")


async def test_an_answer_sent_again_while_the_bot_was_down_is_not_the_next_answer(desk: Desk, cast: Cast) -> None:
    """No reaction (the bot is down), so the person sends the answer again: after the restart the
    first is the casualties, the second must not become the description."""
    o = cast.officer
    await _to_casualties(o)
    await desk.settle()
    await desk.stop_bot()
    await o.send_text("1/3/0")
    await o.send_text("1/3/0")
    await desk.start_bot()
    await o.wait_for("简要描述")
    await desk.settle()
    assert not [m for m in o.inbox if "请核对" in (m.text or "")]
    assert '"description": ""' in _report_draft(desk)
    await o.send_text("商铺起火")
    assert "商铺起火" in ((await o.wait_for("请核对")).text or "")


async def test_both_copies_of_a_question_asked_again_after_a_kill_answered(desk: Desk, cast: Cast) -> None:
    """The chaos run's window: 伤亡情况？ delivered by a bot killed before it saved the step and
    marked the update; the restarted bot handles the update again and asks once more. The answer
    sent to the first copy while the bot was down, and the one to the second, are one answer:
    neither becomes the description."""
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.press(await o.wait_for("发生时间"), text="刚刚")
    await o.wait_for("事发地点")
    await desk.settle()
    sent: dict[int, tuple[int, str, int]] = {}
    real_enqueue = desk.emu._enqueue_update

    def spy(kind: str, payload: dict[str, object], chat_id: int) -> int:
        update_id = real_enqueue(kind, payload, chat_id)
        sent[update_id] = next(u for u in desk.emu._updates if u[0] == update_id)
        return update_id

    desk.emu._enqueue_update = spy  # type: ignore[method-assign]
    await o.send_text("建设路与桐柏路交叉口")
    place = max(sent)
    await o.wait_for("伤亡情况")  # copy 1
    await desk.settle()
    await desk.stop_bot()
    # As a kill -9 right after the question was delivered leaves it: the step and the update's
    # handled mark were never committed (the drafts were: the place, and the note "asking casualties").
    with desk.sql() as conn:
        conn.execute("UPDATE ptb_conversations SET state='103', update_id=NULL")
        conn.execute("DELETE FROM updates_done WHERE update_id=?", (place,))
    desk.emu._updates.appendleft(sent[place])  # Telegram delivers it again
    await o.send_text("1/3/0")  # to copy 1, while the bot is down
    await desk.start_bot()
    await o.wait_for("伤亡情况")  # copy 2, from the redelivered place answer
    await desk.settle()
    await o.send_text("1/3/0")  # to copy 2
    await o.wait_for("简要描述")
    await desk.settle()
    assert not [m for m in o.inbox if "请核对" in (m.text or "")]
    draft = _report_draft(desk)
    assert '"deaths": 1' in draft and '"description": ""' in draft
    await o.send_text("商铺起火")
    assert "商铺起火" in ((await o.wait_for("请核对")).text or "")


async def test_an_info_title_sent_twice_is_not_taken_for_the_body(desk: Desk, cast: Cast) -> None:
    """The same rule in another dialogue: a title sent twice is not the text of the item."""
    o = cast.officer
    await o.send_command("/info")
    await o.press(await o.wait_for("信息类别"), data="nw:k:dynamic")
    await o.wait_for("信息标题")
    await o.send_text("建设路街道开展消防检查")
    await o.send_text("建设路街道开展消防检查")
    await o.wait_for("信息正文")
    await o.wait_for(CROSSED)
    await desk.settle()
    assert not [m for m in o.inbox if "请核对" in (m.text or "")]
    await o.send_text("检查商铺 32 家，整改隐患 5 处。")
    check = await o.wait_for("请核对")
    assert "整改隐患" in (check.text or "")


def _text_steps() -> list[tuple[str, int]]:
    """Every step of every dialogue, by module and state number."""
    from handlers import DIALOG_MODULES

    return [(module.__name__, int(state)) for module in DIALOG_MODULES for state in module.states()]


async def test_no_dialogue_step_reads_text_sent_before_its_question(desk: Desk, cast: Cast) -> None:
    """The class: whatever step of whatever dialogue a person is at, text older than the message
    that asked the step's question is answered with the notice and moves nothing."""
    o = cast.officer
    steps = _text_steps()
    assert len(steps) > 40
    key = f"[{o.id}, {o.id}]"
    for module, state in steps:
        await desk.stop_bot()
        with desk.sql() as conn:
            conn.execute("INSERT INTO ptb_conversations(name, key, state, asked_message_id) "
                         "VALUES ('dialog', ?, ?, 1000000000) ON CONFLICT(name, key) DO UPDATE SET "
                         "state=excluded.state, asked_message_id=excluded.asked_message_id, update_id=NULL",
                         (key, str(state)))
            drafts = conn.execute("SELECT * FROM drafts ORDER BY telegram_id, kind").fetchall()
        await desk.start_bot()
        await o.send_text("12")  # older than the question: a number any step could misread
        notice = await o.wait_for(None)
        assert CROSSED in (notice.text or ""), (module, state, notice.text)
        await desk.settle()
        with desk.sql() as conn:
            row = conn.execute("SELECT state FROM ptb_conversations WHERE key=?", (key,)).fetchone()
            assert row == (str(state),), (module, state, row)
            assert conn.execute("SELECT * FROM drafts ORDER BY telegram_id, kind").fetchall() == drafts
