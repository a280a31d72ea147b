"""Cards edited after a decision (a leave step's approvers, the reviewers' copies of an information
item) are edited only for people who may still be told: not for one deactivated or no longer in the
role since the card went out. The class of tests/e2e/test_alert_audience.py, for the other features."""

from __future__ import annotations

from bot.domain.info import InfoDraft, Mark
from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from bot.services import info as info_svc
from storage import members
from tests.conftest import Cast
from tests.e2e.test_leave import ask_leave, decide


async def _deactivate(desk: Desk, who: SimUser) -> None:
    m = await members.by_telegram_id(desk.db.conn, who.id)
    assert m is not None
    async with desk.db.tx() as conn:
        await members.set_active(conn, m.id, False, desk.clock.now())


def _unchanged(desk: Desk, who: SimUser, card: SimMessage) -> bool:
    now = desk.emu.message(who.id, card.message_id)
    return now is not None and now.edits == [] and now.text == card.text


async def test_leave_cards_of_a_deactivated_approver_stay_as_they_were(desk: Desk, cast: Cast) -> None:
    head2 = await desk.register("head2", "冯副主任", "jianshelu", "unit_head")
    await ask_leave(cast.officer)
    cards = {who: await who.wait_for("请假审批") for who in (cast.head, head2)}
    await _deactivate(desk, head2)
    await decide(cast.head, card=cards[cast.head])
    await desk.settle()
    assert _unchanged(desk, head2, cards[head2])
    assert not _unchanged(desk, cast.head, cards[cast.head])


async def test_review_copies_of_a_deactivated_reviewer_stay_as_they_were(desk: Desk, cast: Cast) -> None:
    editor = await desk.register("editor", "吴编辑", "office", "info_editor")
    officer = await members.by_telegram_id(desk.db.conn, cast.officer.id)
    director = await members.by_telegram_id(desk.db.conn, cast.director.id)
    assert officer is not None and director is not None
    await info_svc.submit(desk.services, officer, InfoDraft(kind="dynamic", title="一条信息", body="正文"),
                         at=desk.clock.now())
    copies = {who: await who.wait_for("一条信息") for who in (cast.director, editor)}
    await _deactivate(desk, editor)
    await info_svc.mark(desk.services, director, 1, Mark.CITY.value)
    await desk.settle()
    assert _unchanged(desk, editor, copies[editor])
    assert not _unchanged(desk, cast.director, copies[cast.director])
