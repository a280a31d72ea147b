"""The outbox sender: rows handed over at commit go out without being read back, exactly once,
never ahead of an earlier row for the same chat, each as its Bot API call with the stored payload."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import storage.outbox as outbox_table
from bot.delivery import OutboxSender
from bot.desk_bot import DeskBot
from bot.emulator import BotApiEmulator, Faults
from bot.harness import TOKEN
from bot.pace import SkipPace
from bot.pacing import Limits, Pacing
from bot.telegram_http import DeskRequest
from storage.db import Database
from storage.uow import UnitOfWork


class Rig:
    def __init__(self, emu: BotApiEmulator, db: Database, sender: OutboxSender, uow: UnitOfWork) -> None:
        self.emu, self.db, self.sender, self.uow = emu, db, sender, uow
        self.reads: list[float] = []  # when the sender read the outbox table

    async def send(self, chat: int, *texts: str) -> None:
        async with self.uow() as tx:
            for text in texts:
                await tx.send_text(chat, text)

    def texts(self, chat: int) -> list[str | None]:
        return [m.text for m in self.emu.messages(chat)]

    async def statuses(self) -> dict[str, int]:
        return await outbox_table.counts(self.db.conn)


@pytest.fixture
async def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    emu = BotApiEmulator(token=TOKEN, bot_username="t_bot", record_transcript=False)
    await emu.start()
    for chat in (601, 602):
        emu.user(chat, f"人{chat}", started=True)
    db = await Database(tmp_path / "o.sqlite3").open()
    # ordering here, not pace
    bot = DeskBot(TOKEN, base_url=emu.base_url, request=DeskRequest(8), rate_limiter=Pacing(Limits(0, 0, 0)))
    await bot.initialize()
    sender = OutboxSender(db, bot, lambda: datetime.now(UTC), pace=SkipPace())  # paced waits skipped
    uow = UnitOfWork(db, lambda: datetime.now(UTC))
    uow.on_outbox = sender.wake
    r = Rig(emu, db, sender, uow)
    real_pending = outbox_table.pending

    async def counting(*a: object, **kw: object) -> list[outbox_table.OutboxRow]:
        r.reads.append(time.time())
        return await real_pending(*a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr("bot.delivery.outbox.pending", counting)
    sender.start()
    await sender.wait_idle()
    yield r
    await sender.stop()
    await bot.shutdown()
    await db.close()
    await emu.stop()


async def _until(emu: BotApiEmulator, cond, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """Until `cond()` holds, looked at again after each request the emulator sees."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        await emu.wait_moved(emu.activity, 0.05)


async def test_rows_committed_while_idle_go_out_without_reading_the_outbox(rig: Rig) -> None:
    committed = time.time()
    await rig.send(601, "急报")
    await rig.sender.wait_idle()
    delivered = rig.emu.messages(601)[0].date
    assert [t for t in rig.reads if committed <= t <= delivered] == []  # no read on the way out
    assert len([t for t in rig.reads if t > delivered]) == 1  # the pass that follows looks once
    assert await rig.statuses() == {"sent": 1}
    assert rig.texts(601) == ["急报"]


async def test_a_later_row_for_the_same_chat_waits_for_the_direct_one(rig: Rig) -> None:
    rig.emu.faults = Faults(rate=1.0, kinds=("slow",), slow_seconds=0.4, seed=1)
    await rig.send(601, "第一条")
    await _until(rig.emu, lambda: rig.emu.stalled_requests == 1)  # in flight
    rig.emu.faults = None
    await rig.send(601, "第二条")
    await rig.send(602, "别的人")
    await _until(rig.emu, lambda: rig.texts(602) == ["别的人"])
    assert rig.emu.stalled_requests == 1 and rig.texts(601) == []  # another chat is not held up
    await rig.sender.wait_idle()
    assert rig.texts(601) == ["第一条", "第二条"]
    assert await rig.statuses() == {"sent": 3}


async def test_a_pass_whose_read_outlasts_a_direct_send_does_not_send_its_rows_again(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pass reads on its own connection, so its rows can be from before the direct send marked
    its rows sent; by the time the read returns, that send may be over. Its chats must still be
    left out (they were busy when the read began), or the pass sends those rows a second time."""
    read, marked = outbox_table.pending, asyncio.Event()
    rig.sender.on_sent = lambda row, _result: marked.set() if row.payload.get("text") == "第一条" else None

    async def outlasting(*a: object, **kw: object) -> list[outbox_table.OutboxRow]:
        rows = await read(*a, **kw)  # type: ignore[arg-type]
        if any(r.payload.get("text") == "第一条" for r in rows):  # read while the direct send was in flight
            await asyncio.wait_for(marked.wait(), 5)  # and now it is delivered and marked sent
        return rows

    monkeypatch.setattr("bot.delivery.outbox.pending", outlasting)
    rig.emu.faults = Faults(rate=1.0, kinds=("slow",), slow_seconds=0.3, seed=1)
    await rig.send(601, "第一条")  # goes direct, slowly
    await _until(rig.emu, lambda: rig.emu.stalled_requests == 1)
    rig.emu.faults = None
    await rig.send(601, "第二条")  # same chat: wakes a pass instead
    await rig.sender.wait_idle()
    await _until(rig.emu, lambda: rig.emu.stalled_requests == 0)  # a repeat would have been sent by now
    assert rig.texts(601) == ["第一条", "第二条"]
    assert await rig.statuses() == {"sent": 2}


async def test_a_failed_direct_send_stays_queued_and_the_pass_delivers_it_once(rig: Rig) -> None:
    rig.emu.faults = Faults(rate=1.0, kinds=("500",), seed=1)
    await rig.send(601, "重试我")
    await _until(rig.emu, lambda: rig.emu.stats.as_dict().get("faults_injected", 1) > 0)
    rig.emu.faults = None  # the first try has its 500; the retry goes through
    await rig.sender.wait_idle(timeout=10)
    assert rig.texts(601) == ["重试我"]
    assert await rig.statuses() == {"sent": 1}


async def test_a_commit_bigger_than_a_pass_goes_by_passes(rig: Rig) -> None:
    chats = [700 + i for i in range(rig.sender.batch + 1)]
    for chat in chats:
        rig.emu.user(chat, f"人{chat}", started=True)
    reads = len(rig.reads)
    async with rig.uow() as tx:
        await tx.send_all(chats, outbox_table.SEND_MESSAGE, {"text": "全区通知"})
    await rig.sender.wait_idle(timeout=30)
    assert len(rig.reads) > reads  # read back from the table, where urgent rows go first
    assert all(rig.texts(chat) == ["全区通知"] for chat in chats)
    assert await rig.statuses() == {"sent": len(chats)}


async def test_each_outbox_method_reaches_telegram_as_stored(rig: Rig) -> None:
    """Rows go out as their Bot API call with the stored payload (no PTB objects in between):
    a reply, an edit of an earlier row, a location, and a pin in a group."""
    owner = rig.emu.user(603, "群主", started=True)
    group = rig.emu.group(-1001234567001, "街道群", [owner])
    rig.emu.set_bot_admin(group.id, can_pin=True)
    asked = await rig.emu.get_user(601).send_text("请问现场情况？")  # type: ignore[union-attr]
    question = asked["message_id"]  # the message the user sent
    keyboard = {"inline_keyboard": [[{"text": "✅ 签收", "callback_data": "a:ack:1"}]]}
    async with rig.uow() as tx:
        first = await tx.send_text(601, "<b>快报</b>", markup=keyboard, reply_to=question)
        await tx.send(601, outbox_table.EDIT_TEXT, {"edit_of": first, "text": "<b>快报</b>（已签收）",
                                                    "parse_mode": "HTML", "reply_markup": keyboard})
        await tx.send(601, outbox_table.SEND_LOCATION, {"latitude": 34.7466, "longitude": 113.6253})
        notice = await tx.send_text(group.id, "停水通知")
        await tx.send(group.id, outbox_table.PIN, {"edit_of": notice})
    await _until(rig.emu, lambda: bool(group.pinned) and len(rig.emu.messages(601)) == 2)
    await rig.sender.wait_idle()  # the emulator has the pin before the sender marks its row sent
    alert, where = rig.emu.messages(601)  # the bot's messages in that chat
    assert alert.text == "快报（已签收）" and alert.buttons == [("✅ 签收", "a:ack:1")]
    assert alert.reply_to_message_id == question
    assert where.kind == "location" and where.latitude == pytest.approx(34.7466)
    assert [m.text for m in group.pinned] == ["停水通知"]
    assert await rig.statuses() == {"sent": 5}


async def test_a_pass_never_sends_rows_of_a_transaction_still_open(rig: Rig) -> None:
    """The pass reads on the connection the handlers write on: a read while another coroutine's
    transaction is open would see its rows before they are committed, and send them even if that
    transaction then rolls back."""
    queued, release = asyncio.Event(), asyncio.Event()

    async def failing_handler() -> None:
        async with rig.uow() as tx:
            await tx.send_text(601, "未提交的快报")
            queued.set()
            await release.wait()
            raise RuntimeError("the handler fails after queueing: all of it rolls back")

    handler = asyncio.create_task(failing_handler())
    await queued.wait()
    # A whole pass while the transaction is open (e.g. woken by a retry timer meanwhile); one that
    # sent the row would wait for the lock to mark it, and time out here.
    await asyncio.wait_for(rig.sender.drain_once(), 5)
    release.set()
    with pytest.raises(RuntimeError):
        await handler
    await rig.sender.wait_idle()
    assert rig.texts(601) == []
    assert await rig.statuses() == {}


async def test_an_over_long_text_is_cut_to_fit_and_delivered(rig: Rig) -> None:
    # Telegram refuses more than 4,096 characters for good: the row would never go out.
    long = "\n".join(f"第{i}行 <b>进展</b>" + "清" * 40 for i in range(200))
    await rig.send(601, long)
    await rig.sender.wait_idle()
    assert await rig.statuses() == {"sent": 1}
    (text,) = rig.texts(601)
    assert text is not None and len(text) <= 4000 and text.startswith("第0行 进展") and text.endswith("…")
