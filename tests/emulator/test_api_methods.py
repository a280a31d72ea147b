"""Bot API methods called through PTB's Bot (its normal httpx layer) - parsing and errors."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    MenuButtonCommands,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden, InvalidToken

from bot.emulator import BotApiEmulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    b = Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url)
    async with b:
        yield b


async def test_get_me_and_wrong_token(emu: BotApiEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "dutydesk_bot" and me.is_bot and me.id == 123456
    bad = Bot("999:WRONG", base_url=emu.base_url)
    with pytest.raises(InvalidToken):
        await bad.initialize()
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{emu.base_url}{emu.token}/noSuchMethod")
        assert r.status_code == 404
        assert r.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        r = await client.get(f"{emu.base_url}999:WRONG/getMe")
        assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        # JSON bodies and case-insensitive method names work too.
        r = await client.post(f"{emu.base_url}{emu.token}/getme", json={})
        assert r.json()["result"]["username"] == "dutydesk_bot"


async def test_send_media_parse_in_ptb(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(2001, "Han", started=True)
    loc = await bot.send_location(2001, latitude=31.23, longitude=121.47)
    assert loc.location is not None and loc.location.latitude == pytest.approx(31.23)
    assert user.last is not None and user.last.kind == "location" and user.last.longitude == pytest.approx(121.47)

    photo = await bot.send_photo(2001, photo=io.BytesIO(b"\x89PNGfake"), caption="<i>现场</i>", parse_mode="HTML")
    assert photo.photo and photo.photo[-1].width >= photo.photo[0].width
    assert photo.caption == "现场" and photo.caption_entities[0].type == "italic"
    # Re-send by file_id returns the same sizes.
    again = await bot.send_photo(2001, photo=photo.photo[-1].file_id)
    assert [p.file_id for p in again.photo] == [p.file_id for p in photo.photo]

    doc = await bot.send_document(2001, document=io.BytesIO(b"a,b\n1,2\n"), filename="值班表.csv", caption="表")
    assert doc.document is not None and doc.document.file_name == "值班表.csv"
    assert doc.document.mime_type == "text/csv"
    f = await bot.get_file(doc.document.file_id)
    assert await f.download_as_bytearray() == bytearray(b"a,b\n1,2\n")
    assert [m.kind for m in user.inbox] == ["location", "photo", "photo", "document"]
    assert user.inbox[-1].file_name == "值班表.csv" and user.inbox[-1].caption == "表"

    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_document(2001, document="no-such-file-id")
    with pytest.raises(BadRequest, match="(?i)can't use file of type Photo as Document"):
        await bot.send_document(2001, document=photo.photo[-1].file_id)


async def test_user_uploads_are_downloadable(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(2002, "Li")
    await user.send_document("report.xlsx", caption="周报", content=b"PK\x03\x04xlsx")
    await user.send_photo(caption="照片")
    updates = await bot.get_updates()
    doc_msg, photo_msg = updates[0].message, updates[1].message
    assert doc_msg.document.file_name == "report.xlsx" and doc_msg.caption == "周报"
    assert doc_msg.document.mime_type.endswith("spreadsheetml.sheet")
    data = await (await doc_msg.document.get_file()).download_as_bytearray()
    assert bytes(data) == b"PK\x03\x04xlsx"
    png = await (await photo_msg.photo[-1].get_file()).download_as_bytearray()
    assert bytes(png).startswith(b"\x89PNG")
    await user.send_sticker()
    await user.send_contact("+8613900000000")
    ups = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert ups[0].message.sticker is not None
    assert ups[1].message.contact.user_id == 2002


async def test_validation_errors(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(2003, "Wang", started=True)
    with pytest.raises(BadRequest, match="(?i)Message is too long"):
        await bot.send_message(2003, "x" * 4097)
    await bot.send_message(2003, "长" * 4096)  # exactly at the limit is fine
    with pytest.raises(BadRequest, match="(?i)Message text is empty"):
        await bot.send_message(2003, "   ")
    with pytest.raises(BadRequest, match=r"(?i)Can't parse entities: unsupported start tag \"br/\""):
        await bot.send_message(2003, "a<br/>b", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Can't find end tag"):
        await bot.send_message(2003, "<b>未关闭", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Can't parse entities"):
        await bot.send_message(2003, "1 < 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Button_data_invalid"):
        await bot.send_message(
            2003, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d" * 65)]])
        )
    with pytest.raises(BadRequest, match="(?i)Chat not found"):
        await bot.send_message(2999, "who?")
    emu.user(2998, "Stranger")  # exists but never wrote to the bot
    with pytest.raises(BadRequest, match="(?i)Chat not found"):
        await bot.send_message(2998, "hi")
    emu.user(2003, "Wang").block()
    with pytest.raises(Forbidden, match="(?i)blocked"):
        await bot.send_message(2003, "hi")
    assert emu.stats.errors[400] >= 7
    assert any("⚠ sendMessage → 400" in e.summary for e in emu.transcript)


async def test_edit_delete_reply_and_not_modified(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(2004, "Zhao", started=True)
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    m = await bot.send_message(2004, "v1", reply_markup=kb, link_preview_options=LinkPreviewOptions(is_disabled=True))
    assert m.reply_markup == kb
    with pytest.raises(BadRequest, match="(?i)Message is not modified"):
        await bot.edit_message_text("v1", chat_id=2004, message_id=m.message_id, reply_markup=kb)
    e = await bot.edit_message_text("<u>v2</u>", chat_id=2004, message_id=m.message_id, parse_mode="HTML",
                                    reply_markup=kb)
    assert e.text == "v2" and e.edit_date is not None
    e2 = await bot.edit_message_reply_markup(chat_id=2004, message_id=m.message_id, reply_markup=None)
    assert e2.reply_markup is None
    sim = user.inbox[0]
    assert sim.text == "v2" and sim.buttons == [] and len(sim.edits) == 2

    r = await bot.send_message(2004, "reply", reply_parameters=ReplyParameters(m.message_id))
    assert r.reply_to_message is not None and r.reply_to_message.message_id == m.message_id
    assert user.last is not None and user.last.reply_to_message_id == m.message_id

    assert await bot.delete_message(2004, m.message_id)
    assert [x.text for x in user.inbox] == ["reply"]
    with pytest.raises(BadRequest, match="(?i)Message to delete not found"):
        await bot.delete_message(2004, m.message_id)
    with pytest.raises(BadRequest, match="(?i)Message to edit not found"):
        await bot.edit_message_text("x", chat_id=2004, message_id=999)


async def test_reply_keyboard_and_location_sharing(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(2005, "Sun", started=True)
    kb = ReplyKeyboardMarkup([[KeyboardButton("📍 上报位置", request_location=True)], ["取消"]], one_time_keyboard=True)
    m = await bot.send_message(2005, "请上报位置", reply_markup=kb)
    assert m.reply_markup is None  # Telegram only echoes inline keyboards
    assert user.keyboard == ["📍 上报位置", "取消"] and user.last.keyboard == user.keyboard
    with pytest.raises(ValueError, match="(?i)share_location"):
        await user.reply_button("📍 上报位置")
    await user.share_location(31.2, 121.5)
    upd = (await bot.get_updates())[-1]
    assert upd.message.location.latitude == pytest.approx(31.2)
    assert user.keyboard == []  # one-time keyboard hides after use
    with pytest.raises(LookupError, match="(?i)no reply-keyboard button"):
        await user.reply_button("取消")
    await bot.send_message(2005, "again", reply_markup=ReplyKeyboardMarkup([["取消"]]))
    await user.reply_button("取消")
    assert (await bot.get_updates(offset=upd.update_id + 1))[-1].message.text == "取消"
    await bot.send_message(2005, "done", reply_markup=ReplyKeyboardRemove())
    assert user.keyboard == []


async def test_commands_menu_chat_info(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(2006, "Qian", started=True)
    group = emu.group(-1001234567890, "领导群", members=[user])
    group.set_admin(2006, owner=True)
    cmds = [BotCommand("start", "开始"), BotCommand("duty", "今日值班")]
    assert await bot.set_my_commands(cmds)
    assert await bot.set_my_commands(cmds[:1], scope=BotCommandScopeChat(2006), language_code="zh")
    assert await bot.get_my_commands() == tuple(cmds)
    assert await bot.get_my_commands(scope=BotCommandScopeChat(2006), language_code="zh") == tuple(cmds[:1])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    emu.refuse_set_my_commands = True
    with pytest.raises(BadRequest):
        await bot.set_my_commands(cmds)
    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())

    chat = await bot.get_chat(-1001234567890)
    assert chat.type == "supergroup" and chat.title == "领导群"
    private = await bot.get_chat(2006)
    assert private.first_name == "Qian"
    owner = await bot.get_chat_member(-1001234567890, 2006)
    assert owner.status == "creator"
    me = await bot.get_chat_member(-1001234567890, emu.bot_id)
    assert me.status == "member"
    m = await bot.send_message(-1001234567890, "公告")
    with pytest.raises(BadRequest, match="(?i)Not enough rights"):
        await bot.pin_chat_message(-1001234567890, m.message_id)
    emu.set_bot_admin(-1001234567890, can_pin=True)
    assert (await bot.get_chat_member(-1001234567890, emu.bot_id)).status == "administrator"
    admins = await bot.get_chat_administrators(-1001234567890)
    assert {a.status for a in admins} == {"creator", "administrator"}
    assert await bot.pin_chat_message(-1001234567890, m.message_id)
    assert group.pinned[0].text == "公告"
    assert await bot.unpin_chat_message(-1001234567890)
    assert group.pinned == []
    assert await bot.send_chat_action(2006, "typing")
    assert await bot.get_webhook_info() is not None
