"""`dutydesk demo` reads as a story for an office worker: who wrote what, which button was
pressed, what popped up and which message changed — never button data, message numbers,
Python lists, internal stage names, or an English warning in a Chinese demo.

The story renderer is tried on every kind of event the emulator records (fast), then the
whole demo is played once (about 40 s of real time: its deadlines are seconds long; a slow test).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from telegram.error import Forbidden

from bot.demo import run_demo
from bot.demo_scenes import SCENES
from bot.demo_scenes.story import Story
from bot.emulator import BotApiEmulator
from bot.i18n import Texts

# What reads like debug output rather than a story.
DEBUG_PATTERNS = {
    "a Python list or tuple": re.compile(r"\[['(\"]|\(\['|\['"),
    "callback data": re.compile(r"(?<![\w/.:-])[a-z]{1,3}:[a-z][a-z0-9_]*(?::[\w-]+)*(?![\w/])"),
    "acknowledgement call": re.compile(r"\(ack\)|i:ack:"),
    "edit mark": re.compile(r"✎#?\d*"),
    "message number": re.compile(r"\bon #\d+|#\d+\s*⟧|pinned #|deleted #"),
    "press notation": re.compile(r"⟦|⟧|data="),
    "internal stage name": re.compile(r"\b(first|written|full|followup)\b"),
    "log record": re.compile(r"^(WARNING|ERROR|INFO|DEBUG)[: ]|Traceback", re.M),
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def debug_output(text: str) -> list[str]:
    """Every line of `text` that reads like debug output, with what it looks like."""
    found = [f"{what}: {line.strip()}" for line in text.splitlines()
             for what, pattern in DEBUG_PATTERNS.items() if pattern.search(line)]
    found += [f"English-only warning: {line.strip()}" for line in text.splitlines()
              if line.lstrip().startswith("⚠") and not _CJK.search(line)]
    return found


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token="4321:STORY-test") as e:
        yield e


def test_the_patterns_catch_the_old_transcript() -> None:
    old = """   0.217s  李明 → bot: ⟦press [道路塌方/地质灾害] data='r:cat:collapse' on #4⟧
   0.221s  bot → 李明: (ack)
   0.277s  bot → 陈静: ✎#3 🚨 突发事件 2026-0001
   0.313s  刘强 → bot: ⟦press [📤 已上报市委] data='i:fwd:1' on #3⟧
事件 2026-0001：首报、书面报告按时；迟报阶段 ['full']；已结案。
WARNING:bot.services.calendar_deadlines:holiday calendar has no data for 2027
⚠️ holiday calendar has no data for 2027"""
    kinds = {line.split(":")[0] for line in debug_output(old)}
    assert kinds == {"a Python list or tuple", "callback data", "acknowledgement call", "edit mark",
                     "message number", "press notation", "internal stage name", "log record",
                     "English-only warning"}, kinds


async def test_every_kind_of_event_reads_as_a_story(emu: BotApiEmulator) -> None:
    """Messages with buttons and keyboards, presses (real and forged), toasts, alerts and silent
    answers, edits, pins, deletions, photos, files, locations, a group, a failed send."""
    officer, blocked = emu.user(501, "李明", started=True), emu.user(502, "王芳", started=True)
    group = emu.group(-1001000000777, "建设路街道工作群", [officer])
    emu.set_bot_admin(group.id, can_pin=True)
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        card = await bot.send_message(
            officer.id, "🚨 突发事件 2026-0001\n单位：建设路街道", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("✅ 已收到", callback_data="i:ack:1"),
                  InlineKeyboardButton("🔎 详情", callback_data="i:d:1")]]))
        await bot.send_message(officer.id, "事发地点？", reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("📍 发送定位", request_location=True)]]))
        await officer.send_location(34.7466, 113.6253)
        await officer.send_photo("现场")
        await officer.send_document("值班表.xlsx")
        for answer in ({"text": "已确认收到。"}, {"text": "无权操作。", "show_alert": True}, {}):
            query = await officer.press(card.message_id, text="✅ 已收到")
            await bot.answer_callback_query(query["id"], **answer)
        await officer.press_raw("i:ack:999", card.message_id)
        await bot.edit_message_text("🚨 突发事件 2026-0001\n单位：建设路街道\n✅ 已收到：陈静 12-05 23:30",
                                    chat_id=officer.id, message_id=card.message_id, reply_markup=InlineKeyboardMarkup(
                                        [[InlineKeyboardButton("🔎 详情", callback_data="i:d:1")]]))
        await bot.edit_message_reply_markup(chat_id=officer.id, message_id=card.message_id)
        post = await bot.send_message(group.id, "📢 通知：今晚起启动防汛24小时值守")
        await bot.pin_chat_message(group.id, post.message_id)
        await bot.unpin_chat_message(group.id, post.message_id)
        await officer.send_text("收到", chat=group)
        await bot.delete_message(officer.id, card.message_id)
        blocked.block()
        with pytest.raises(Forbidden):
            await bot.send_message(blocked.id, "提醒")
    story = Story(emu, Texts("zh")).render(emu.transcript)
    assert not debug_output(story), debug_output(story)
    for expected in ("机器人 → 李明：🚨 突发事件 2026-0001", "按钮：[✅ 已收到] [🔎 详情]",
                     "输入框下方的按钮：[📍 发送定位]",
                     "李明 → 机器人：📍 发送了位置（34.7466, 113.6253）", "[照片] 现场", "[文件：值班表.xlsx]",
                     "李明 点了「✅ 已收到」", "（屏幕上弹出提示：已确认收到。）", "（屏幕上弹出对话框：无权操作。）",
                     "李明 发来一个不属于任何按钮的点击",
                     "机器人更新了发给 李明 的消息：✅ 已收到：陈静 12-05 23:30\n", "（按钮已收起）",
                     "📌 机器人在「建设路街道工作群」置顶了这条消息。", "机器人在「建设路街道工作群」取消了置顶。",
                     "李明（在「建设路街道工作群」） → 机器人：收到", "机器人撤回了发给 李明 的一条消息。",
                     "⚠️ 发给 王芳 的消息未能送达"):
        assert expected in story, (expected, story)
    assert story.count("屏幕上弹出") == 2  # the silent answer shows nothing
    assert "单位：建设路街道\n" not in story.split("机器人更新了")[1]  # an edit shows what changed, not it all


@pytest.mark.slow
async def test_the_demo_reads_as_a_story(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    lines: list[str] = []
    try:
        assert await run_demo(out=lines.append) == 0
    finally:
        root.handlers[:], root.level = handlers, level
    transcript = "\n".join(lines) + "\n" + capsys.readouterr().err
    assert not debug_output(transcript), debug_output(transcript)[:20]
    scenes = re.findall(r"场景 (\d+)／(\d+)：", transcript)
    assert scenes == [(str(n), str(len(SCENES))) for n in range(1, len(SCENES) + 1)], scenes
    assert "== 小结 ==" in transcript and "续报（起因/处置/后果）迟报" in transcript
    assert "点了「✅ 已收到」" in transcript and "机器人更新了发给" in transcript
