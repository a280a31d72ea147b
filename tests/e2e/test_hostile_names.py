"""Names are text (issue #23 item 8): a person named `<张&三>` — by the invite or by the Telegram
display name — registers, gets the welcome on every /start, and reads as `<张&三>` in /members,
in an alert about their report and in a button's toast. The emulator refuses broken HTML as the
Bot API does, so an unescaped name would have left these messages unsent.
"""

from __future__ import annotations

from bot.harness import Desk
from bot.services import registration
from tests.conftest import Cast
from tests.e2e.flows import file_report

BY_INVITE, BY_DISPLAY_NAME, DUTY = "<张&三>", "<李&四> & 'x'", "王<b>五</b>"


async def test_hostile_names_register_and_read_as_typed(desk: Desk, cast: Cast) -> None:
    zhang = await desk.register("zhang", BY_INVITE, "jianshelu", "officer")  # the invite carries the name
    invite = await registration.create_invite(desk.services, unit_code="mianfanglu", role="officer")
    li = desk.emu.user(20_002, BY_DISPLAY_NAME)  # the invite carries none: the Telegram name is taken
    await li.send_command("/start", invite.code)
    assert BY_DISPLAY_NAME in (await li.wait_for("欢迎")).text  # type: ignore[operator]

    for who, name in ((zhang, BY_INVITE), (li, BY_DISPLAY_NAME), (zhang, BY_INVITE), (li, BY_DISPLAY_NAME)):
        before = len(who.inbox)
        await who.send_command("/start")
        last = who.inbox[before - 1].message_id
        back = await who.wait_for(lambda m, last=last: m.message_id > last and "您好" in (m.text or ""))
        assert f"您好，{name}（" in (back.text or "")

    await cast.admin.send_command("/members")
    listing = await cast.admin.wait_for("人员名单")
    assert f" {BY_INVITE} — " in (listing.text or "") and f" {BY_DISPLAY_NAME} — " in (listing.text or "")

    number = await file_report(desk, zhang)
    alert = await cast.duty.wait_for(number)
    assert f"上报人：{BY_INVITE}" in (alert.text or "")


async def test_a_toast_names_a_hostile_name_as_typed(desk: Desk, cast: Cast) -> None:
    wang = await desk.register("wang", DUTY, "office", "duty")
    number = await file_report(desk, cast.officer)
    first = await wang.wait_for(number)
    ack = next(b["callback_data"] for row in first.reply_markup["inline_keyboard"]  # type: ignore[index]
               for b in row if b["callback_data"].startswith("i:ack:"))
    await wang.press(first, text="✅ 已收到")
    await desk.settle()
    other = await cast.duty.wait_for(number)  # its 已收到 button gone once 王五 pressed: pressed from an older screen
    await cast.duty.press_raw(ack, other.message_id)
    toast = await cast.duty.wait_for_answer()
    assert toast.text and f"{DUTY} 已于" in toast.text, toast.text  # plain text: no &lt; in a toast
