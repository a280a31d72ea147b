"""kill -9 while an update is being handled, in any dialogue: the poll that would have confirmed
it never went out (polls wait until everything fetched was handled), so Telegram delivers it
again. It is handled again from the state the database holds, unless it had already committed a
change — then it is skipped, so nothing is done twice.

The kill is simulated: from `killed()` on, nothing the bot writes after an update's handlers ran
(its conversation state, the handled mark) is written; the bot is then stopped, Telegram's
redelivery is replayed, and the bot is started on the same database.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest
from telegram.ext import Application

from bot.harness import Desk
from handlers import PERSIST_GROUP
from tests.e2e.test_leave import Office, _desk, _office


class Replay:
    """Records what the emulator queues so an update can be delivered a second time."""

    def __init__(self, desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
        self.desk = desk
        self.sent: dict[int, tuple[int, str, int]] = {}
        real = desk.emu._enqueue_update

        def spy(kind: str, payload: dict[str, object], chat_id: int) -> int:
            update_id = real(kind, payload, chat_id)
            self.sent[update_id] = next(u for u in desk.emu._updates if u[0] == update_id)
            return update_id

        monkeypatch.setattr(desk.emu, "_enqueue_update", spy)

    async def restart_with_last_update_again(self, kill: contextlib.ExitStack) -> None:
        await self.desk.settle()
        await self.desk.stop_bot()  # still "dead": the shutdown flush writes nothing either
        kill.close()
        self.desk.emu._updates.appendleft(self.sent[max(self.sent)])
        await self.desk.start_bot()
        await self.desk.settle()


@contextlib.contextmanager
def killed(desk: Desk) -> Iterator[None]:
    """Dead between the handlers and the flush after them (handlers.flush_persistence): no
    dialogue state and no handled mark is written there, nor at the shutdown that follows."""
    assert desk.runtime is not None
    (flush,) = desk.runtime.app.handlers[PERSIST_GROUP]
    with pytest.MonkeyPatch.context() as mp:
        async def nothing(*_a: object, **_kw: object) -> None:
            return None

        mp.setattr(flush, "callback", nothing)
        mp.setattr(Application, "update_persistence", nothing)
        yield


@pytest.fixture
async def office() -> AsyncIterator[Office]:
    async with _desk() as desk:
        yield await _office(desk)


def _count(desk: Desk, sql: str) -> int:
    with desk.sql() as conn:
        return int(conn.execute(sql).fetchone()[0])


async def test_a_dialogue_step_killed_before_its_state_was_saved_is_handled_again(
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """The question after 去向 went out, then the kill: the restarted bot is still at 去向, and the
    redelivered answer is read there — not the person's next answer, which belongs to the next
    question (is the destination outside 郑州)."""
    desk, who = office.desk, office.officer
    replay = Replay(desk, monkeypatch)
    await who.send_command("/leave")
    await who.press(await who.wait_for("请假类别"), text="事假")
    await who.press(await who.wait_for("从哪天开始"), text="明天")
    await who.wait_for("到哪天结束")  # an answer typed before its question is not read as one
    await who.send_text("11-25")
    await who.wait_for("去向")
    await desk.settle()  # the step before is saved
    with contextlib.ExitStack() as kill:
        kill.enter_context(killed(desk))
        await who.send_text("北京")
        await who.wait_for("是否离开郑州")
        await replay.restart_with_last_update_again(kill)
    again = await who.wait_for("是否离开郑州")  # asked once more, from the saved step
    await who.press(again, text="是，离开郑州")
    await who.wait_for("请假事由")
    await who.send_text("家中有事")
    await who.press(await who.wait_for("代理人"), text="无代理人")
    summary = await who.wait_for("请核对后提交")
    assert "北京" in (summary.text or "")
    await who.press(summary, text="✅ 提交")
    await who.wait_for("已提交")
    assert _count(desk, "SELECT count(*) FROM leave_requests") == 1
    assert _count(desk, "SELECT count(*) FROM leave_requests WHERE destination = '北京'") == 1


async def test_an_update_killed_after_its_commit_is_not_done_twice(
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """提交 committed the request (and with it the update's handled mark), then the kill: the
    redelivered press must not file a second request nor answer twice."""
    desk, who = office.desk, office.officer
    replay = Replay(desk, monkeypatch)
    await who.send_command("/leave")
    await who.press(await who.wait_for("请假类别"), text="事假")
    await who.press(await who.wait_for("从哪天开始"), text="明天")
    await who.wait_for("到哪天结束")  # an answer typed before its question is not read as one
    await who.send_text("11-25")
    await who.wait_for("去向")
    await who.send_text("北京")
    await who.press(await who.wait_for("是否离开郑州"), text="是，离开郑州")
    await who.wait_for("请假事由")
    await who.send_text("家中有事")
    await who.press(await who.wait_for("代理人"), text="无代理人")
    summary = await who.wait_for("请核对后提交")
    await desk.settle()
    with contextlib.ExitStack() as kill:
        kill.enter_context(killed(desk))
        await who.press(summary, text="✅ 提交")
        await who.wait_for("已提交")
        await desk.settle()  # and the progress note that follows it
        before = len(who.inbox)
        await replay.restart_with_last_update_again(kill)
    assert _count(desk, "SELECT count(*) FROM leave_requests") == 1
    assert len(who.inbox) == before, who.inbox[before:]  # the press was not answered again
