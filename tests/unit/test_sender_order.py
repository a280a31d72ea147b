"""SenderOrder: one person's updates one after another, different people's side by side."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.sender_order import SenderOrder

T0 = datetime(2026, 12, 3, tzinfo=UTC)


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    msg = Message(update_id, T0, Chat(user_id, "private"), from_user=user, text=str(update_id))
    return Update(update_id, message=msg)


async def _run(processor: SenderOrder, plan: list[tuple[int, int, int | None]]) -> list[str]:
    """Feeds updates (id, sender, the update whose end this one's work waits for) in order, as PTB's
    fetcher does: one task each. An update that could not overtake would wait for ever: 2 s, then fail."""
    log: list[str] = []
    ended = {i: asyncio.Event() for i, _who, _after in plan}

    async def handle(update_id: int, after: int | None) -> None:
        log.append(f"start {update_id}")
        if after is not None:
            await ended[after].wait()
        log.append(f"end {update_id}")
        ended[update_id].set()

    tasks = [asyncio.create_task(processor.process_update(_update(i, who), handle(i, after)))
             for i, who, after in plan]
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    return log


async def test_one_person_in_order_others_overtake() -> None:
    processor = SenderOrder(8)
    log = await _run(processor, [(1, 100, 3), (2, 100, None), (3, 200, None)])  # 1 works until 3 is done
    assert log.index("end 1") < log.index("start 2")  # 2 waited for 1 (same person)
    assert log.index("end 3") < log.index("end 1")  # 3 (someone else) did not
    assert not processor._locks


async def test_the_slots_bound_how_many_run_at_once() -> None:
    running = peak = 0
    processor = SenderOrder(3)
    full, go = asyncio.Event(), asyncio.Event()

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            full.set()
        await go.wait()  # every handler works until the first three are all running
        running -= 1

    work = asyncio.gather(*(processor.process_update(_update(i, 1000 + i), handle()) for i in range(10)))
    await asyncio.wait_for(full.wait(), 2)
    assert running == 3  # the other seven, started in the same turn of the loop, wait for a slot
    go.set()
    await asyncio.wait_for(work, 2)
    assert peak == 3 and processor._locks == {}
