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


async def _run(processor: SenderOrder, plan: list[tuple[int, int, float]]) -> list[str]:
    """Feeds updates (id, sender, seconds of work) in order, as PTB's fetcher does: one task each."""
    log: list[str] = []

    async def handle(update_id: int, work: float) -> None:
        log.append(f"start {update_id}")
        await asyncio.sleep(work)
        log.append(f"end {update_id}")

    tasks = [asyncio.create_task(processor.process_update(_update(i, who), handle(i, work)))
             for i, who, work in plan]
    await asyncio.gather(*tasks)
    return log


async def test_one_person_in_order_others_overtake() -> None:
    processor = SenderOrder(8)
    log = await _run(processor, [(1, 100, 0.05), (2, 100, 0.0), (3, 200, 0.0)])
    assert log.index("end 1") < log.index("start 2")  # 2 waited for 1 (same person)
    assert log.index("end 3") < log.index("end 1")  # 3 (someone else) did not
    assert not processor._locks


async def test_the_slots_bound_how_many_run_at_once() -> None:
    running = peak = 0
    processor = SenderOrder(3)

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    await asyncio.gather(*(processor.process_update(_update(i, 1000 + i), handle()) for i in range(10)))
    assert peak == 3 and processor._locks == {}
