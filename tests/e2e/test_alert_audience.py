"""Nobody learns anything new about an incident through a message they can no longer be sent.

Alerts are edited in place as the incident moves (acknowledged, forwarded upstream); stages, casualty
corrections and the close go out as new messages. People who held an alert but have since been
deactivated, moved to another unit or lost the role that let them see it get neither the edits nor
the new messages; everyone still entitled gets both.
"""

from __future__ import annotations

from bot.domain.casualties import Casualties
from bot.domain.members import Member
from bot.emulator import SimUser
from bot.harness import Desk
from bot.services import incidents as svc
from storage import incidents, members
from tests.conftest import Cast
from tests.e2e.flows import file_report


async def _member(desk: Desk, who: SimUser) -> Member:
    m = await members.by_telegram_id(desk.db.conn, who.id)
    assert m is not None
    return m


async def test_refreshed_alerts_and_later_news_skip_people_who_may_no_longer_see_it(desk: Desk, cast: Cast) -> None:
    duty2 = await desk.register("duty2", "何值班", "office", "duty")
    head2 = await desk.register("head2", "冯副主任", "jianshelu", "unit_head")
    director2 = await desk.register("director2", "褚副主任", "office", "director")
    number = await file_report(desk, cast.officer)
    held = {who: await who.wait_for(number) for who in (cast.duty, cast.director, cast.head, duty2, head2, director2)}
    inc = await incidents.by_number(desk.db.conn, number)
    assert inc is not None

    # Between the alert and its refresh: one deactivated by the admin, one moved to another unit,
    # one no longer in an office role (the last two have no chat command: the admin edits the database).
    await cast.admin.send_command("/deactivate", str((await _member(desk, duty2)).id))
    await cast.admin.wait_for("已停用")
    async with desk.db.tx() as conn:
        await conn.execute("UPDATE members SET unit_code='mianfanglu' WHERE id=?", ((await _member(desk, head2)).id,))
        moved = (await _member(desk, director2)).id
        await conn.execute("DELETE FROM member_roles WHERE member_id=?", (moved,))
        await conn.execute("INSERT INTO member_roles(member_id, role) VALUES (?, 'officer')", (moved,))
    gone = {duty2, head2, director2}
    inbox = {who: len(desk.emu.messages(who.id)) for who in gone}

    await cast.duty.press(held[cast.duty], text="✅ 已收到")
    await cast.duty.wait_for_answer()
    await cast.director.press(held[cast.director], text="📤 已上报市委")
    await cast.director.wait_for_answer()
    officer = await _member(desk, cast.officer)
    await svc.file_followup(desk.services, officer, inc.id, "一人受伤送医", Casualties(0, 1, 0))
    await svc.close_incident(desk.services, await _member(desk, cast.head), inc.id, "明火已扑灭")
    await desk.settle()

    for who, alert in held.items():
        now = desk.emu.message(who.id, alert.message_id)
        assert now is not None
        if who in gone:
            assert now.edits == [] and now.text == alert.text, f"{who.first_name}'s alert was edited"
        else:
            assert "✅ 已收到：陈值班" in (now.text or "") and "📤 已上报市委：刘主任" in (now.text or ""), who
    for who in gone:
        news = [m.text for m in desk.emu.messages(who.id)[inbox[who]:]]
        assert news == [], f"{who.first_name} was told {news}"
    assert any("一人受伤送医" in (m.text or "") for m in desk.emu.messages(cast.duty.id))
    assert any("明火已扑灭" in (m.text or "") for m in desk.emu.messages(cast.director.id))


async def test_an_answer_reaches_the_asker_only_while_they_may_see_the_incident(desk: Desk, cast: Cast) -> None:
    """The reporter's answer to 要求补充 carries new facts: not to an asker deactivated meanwhile."""
    number = await file_report(desk, cast.officer)
    d = cast.director
    alert = await d.wait_for(number)
    await d.press(alert, text="❓ 要求补充")
    await d.wait_for("补充")
    await d.send_text("现场有无被困人员？")
    question = await cast.officer.wait_for("现场有无被困人员")
    async with desk.db.tx() as conn:
        await members.set_active(conn, (await _member(desk, d)).id, False, desk.clock.now())
    before = len(desk.emu.messages(d.id))
    await cast.officer.press(question, text="回复")
    await cast.officer.wait_for("回答")
    await cast.officer.send_text("三楼有两人被困，消防正在救援")
    await cast.officer.wait_for("已记录您的回答")
    await desk.settle()
    assert [m.text for m in desk.emu.messages(d.id)[before:]] == []
