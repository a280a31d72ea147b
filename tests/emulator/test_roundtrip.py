"""End-to-end: an unmodified PTB Application polling the emulator."""

from __future__ import annotations

import asyncio

import pytest

from bot.emulator import BotApiEmulator

from .conftest import RunningApp


async def test_echo_round_trip(emu: BotApiEmulator, running_app: RunningApp) -> None:
    await running_app()
    alice = emu.user(1001, "Alice", "alice")
    sent = await alice.send_text("你好")
    assert sent["chat"]["id"] == 1001
    reply = await alice.wait_for("echo")
    assert reply.text == "echo: 你好"
    assert reply.kind == "text"
    assert reply.reply_to_message_id is None  # PTB quotes only in groups by default
    assert reply.message_id == sent["message_id"] + 1  # ids are per chat and shared
    await emu.wait_idle()
    assert emu.pending_updates == 0
    assert emu.sent_to(1001) == 1
    assert emu.stats.requests["sendMessage"] == 1


async def test_command_with_args_and_inline_button(emu: BotApiEmulator, running_app: RunningApp) -> None:
    await running_app()
    bob = emu.user(1002, "Bob")
    await bob.send_command("/start", "CODE42")
    welcome = await bob.wait_for("欢迎")
    assert welcome.text == "欢迎 arg=CODE42"  # HTML stripped, as a user would read it
    assert welcome.source_text == "<b>欢迎</b> arg=CODE42"
    assert welcome.parse_mode == "HTML"
    assert welcome.raw["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert welcome.buttons == [("确认", "ok:1"), ("取消", "no:1")]

    query = await bob.press(welcome, text="确认")
    assert query["data"] == "ok:1"
    answer = await bob.wait_for_answer()
    assert answer.text == "pressed ok:1" and answer.show_alert is False
    await emu.wait_idle()
    assert welcome.text == "chosen ok:1"
    assert welcome.buttons == []  # editing text without reply_markup drops the keyboard
    assert [e["text"] for e in welcome.edits] == ["chosen ok:1"]
    assert bob.callback_answers[0].data == "ok:1"


async def test_press_unknown_button_is_readable(emu: BotApiEmulator, running_app: RunningApp) -> None:
    await running_app()
    carol = emu.user(1003, "Carol")
    await carol.send_command("/start")
    msg = await carol.wait_for("欢迎")
    with pytest.raises(LookupError, match=r"'确认'->'ok:1'"):
        await carol.press(msg, text="不存在")
    await carol.press(msg, data="no:1")
    answer = await carol.wait_for_answer()
    assert answer.show_alert is True


async def test_group_chat(emu: BotApiEmulator, running_app: RunningApp) -> None:
    await running_app()
    dave = emu.user(1004, "Dave")
    group = emu.group(-100200, "值班群", members=[dave])
    await dave.send_text("hi group", chat=group)
    reply = await dave.wait_for("echo", chat=group)
    assert reply.chat_id == -100200
    assert group.last is reply
    assert dave.inbox == []  # nothing in the private chat


async def test_wait_for_timeout_lists_received(emu: BotApiEmulator, running_app: RunningApp) -> None:
    await running_app()
    erin = emu.user(1005, "Erin")
    await erin.send_text("ping")
    with pytest.raises(TimeoutError) as info:
        await erin.wait_for("never said", timeout=0.5)
    text = str(info.value)
    assert "echo: ping" in text and "'never said'" in text


async def test_long_poll_wakes_immediately(emu: BotApiEmulator, running_app: RunningApp) -> None:
    await running_app()
    await emu.wait_idle()
    frank = emu.user(1006, "Frank")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await frank.send_text("fast?")
    await frank.wait_for("echo", timeout=1.5)
    assert loop.time() - t0 < 0.5  # poll timeout is 2 s: we were not waiting for it


async def test_transcript(emu: BotApiEmulator, running_app: RunningApp) -> None:
    await running_app()
    gina = emu.user(1007, "Gina")
    await gina.send_command("/start")
    msg = await gina.wait_for("欢迎")
    await gina.press(msg, text="确认")
    await gina.wait_for_answer()
    await emu.wait_idle()
    directions = [e.direction for e in emu.transcript]
    assert directions[0] == "→bot" and "bot→" in directions
    log = emu.format_transcript({1007: "值班员吉娜"})
    assert "值班员吉娜 → bot: /start" in log
    assert "bot → 值班员吉娜: 欢迎 arg=-  [确认] [取消]" in log
    assert "⟦press [确认] data='ok:1'" in log
    assert "(toast: pressed ok:1)" in log
    assert "✎#" in log
