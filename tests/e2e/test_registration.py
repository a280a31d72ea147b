"""Registration by invite, /help per role, /cancel, role checks — through the emulator."""

from datetime import timedelta

from bot.harness import Desk
from bot.services import registration
from storage import members
from tests.conftest import Cast


async def test_stranger_gets_a_polite_explanation_and_nothing_is_stored(desk: Desk) -> None:
    stranger = desk.emu.user(555, "路人")
    await stranger.send_command("/start")
    msg = await stranger.wait_for("还没有登记")
    assert "邀请链接" in msg.text
    await stranger.send_command("/report")
    await stranger.wait_for("还没有登记")
    await stranger.send_text("你好")
    await stranger.wait_for("还没有登记")
    assert await members.by_telegram_id(desk.db.conn, 555) is None


async def test_invite_registers_with_unit_and_role_once(desk: Desk) -> None:
    inv = await registration.create_invite(desk.services, unit_code="xushui", role="officer", name="张三")
    user = desk.emu.user(777, "Zhang")
    await user.send_command("/start", inv.code)
    welcome = await user.wait_for("欢迎")
    assert "须水街道" in welcome.text and "信息员" in welcome.text and "/report" in welcome.text
    m = await members.by_telegram_id(desk.db.conn, 777)
    assert m is not None and m.name == "张三" and m.unit_code == "xushui"
    # The menu of commands was set for this member's chat.
    await desk.settle()
    assert any("report" in str(v) for k, v in desk.emu.commands.items())
    # The same code again, by someone else: refused.
    other = desk.emu.user(778, "Li")
    await other.send_command("/start", inv.code)
    await other.wait_for("已经使用过")
    assert await members.by_telegram_id(desk.db.conn, 778) is None


async def test_expired_and_unknown_codes(desk: Desk) -> None:
    inv = await registration.create_invite(desk.services, unit_code="xushui", role="officer",
                                           expires=timedelta(hours=1))
    await desk.advance(hours=2)
    user = desk.emu.user(779, "Wang")
    await user.send_command("/start", inv.code)
    await user.wait_for("已过期")
    await user.send_command("/start", "NOSUCHCODE")
    await user.wait_for("无效")
    assert await members.by_telegram_id(desk.db.conn, 779) is None


async def test_help_lists_only_what_the_roles_allow(desk: Desk, cast: Cast) -> None:
    await cast.officer.send_command("/help")
    officer_help = await cast.officer.wait_for("可以使用")
    assert "/report" in officer_help.text and "/members" not in officer_help.text
    await cast.duty.send_command("/help")
    duty_help = await cast.duty.wait_for("可以使用")
    assert "/report" not in duty_help.text and "/incidents" in duty_help.text
    await cast.admin.send_command("/help")
    admin_help = await cast.admin.wait_for("可以使用")
    assert "/members" in admin_help.text and "/invite" in admin_help.text


async def test_set_my_commands_refused_does_not_stop_registration(desk: Desk) -> None:
    desk.emu.refuse_set_my_commands = True
    user = await desk.register("x", "钱", "jiaoti", "officer")
    await user.send_command("/help")
    await user.wait_for("可以使用")


async def test_cancel_leaves_the_dialogue_and_drops_the_draft(desk: Desk, cast: Cast) -> None:
    o = cast.officer
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.wait_for("发生时间")
    await o.send_command("/cancel")
    await o.wait_for("已取消")
    rows = await desk.db.fetchall("SELECT * FROM drafts")
    assert rows == []
    # Back outside the dialogue: a time now is just text.
    await o.send_text("14:30")
    await o.wait_for("没有理解")
    await o.send_command("/cancel")
    await o.wait_for("没有进行中的操作")


async def test_role_checks_for_commands(desk: Desk, cast: Cast) -> None:
    await cast.duty.send_command("/report")
    await cast.duty.wait_for("无权")
    await cast.officer.send_command("/members")
    await cast.officer.wait_for("无权")
    await cast.officer.send_command("/invite", "xushui officer")
    await cast.officer.wait_for("无权")


async def test_admin_invites_lists_and_deactivates(desk: Desk, cast: Cast) -> None:
    a = cast.admin
    await a.send_command("/invite", "xushui officer 孙六")
    created = await a.wait_for("邀请已生成")
    assert "https://t.me/dutydesk_bot?start=" in created.text
    await a.send_command("/invite", "nowhere officer")
    await a.wait_for("没有代码为 nowhere 的单位")
    await a.send_command("/members")
    listing = await a.wait_for("人员名单")
    assert "李信息" in listing.text and "建设路街道" in listing.text
    officer = await members.by_telegram_id(desk.db.conn, cast.officer.id)
    assert officer is not None
    await a.send_command("/deactivate", str(officer.id))
    await a.wait_for("已停用")
    await cast.officer.send_command("/report")
    await cast.officer.wait_for("已停用")
    await a.send_command("/reactivate", str(officer.id))
    await a.wait_for("已恢复")
    await cast.officer.send_command("/report")
    await cast.officer.wait_for("类别")


async def test_unknown_command_points_to_help(desk: Desk, cast: Cast) -> None:
    await cast.officer.send_command("/frobnicate")
    await cast.officer.wait_for("/help")
