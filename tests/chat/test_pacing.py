"""Send slots serve replies before digests; the per-chat pacer spaces one chat's messages."""

from __future__ import annotations

import asyncio

from bot.chat.pacing import ChatPacer, PrioritySlots


async def test_replies_take_the_next_free_slot_before_digests() -> None:
    slots = PrioritySlots(1)
    order: list[str] = []

    async def use(name: str, priority: int) -> None:
        async with slots.take(priority):
            order.append(name)
            await asyncio.sleep(0.01)

    holder = asyncio.create_task(use("first", 1))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(use(f"digest {i}", 1)) for i in range(3)]
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(use("gave up", 0))
    await asyncio.sleep(0)
    cancelled.cancel()
    waiting.append(asyncio.create_task(use("reply", 0)))
    await asyncio.gather(holder, *waiting, return_exceptions=True)
    assert order == ["first", "reply", "digest 0", "digest 1", "digest 2"]
    async with slots.take(1):  # every slot came back, the cancelled waiter's included
        pass


async def test_the_pacer_spaces_one_chat_and_not_the_others() -> None:
    clock = [100.0]
    pacer = ChatPacer(2.0, clock=lambda: clock[0])
    await pacer.turn((1, 0))
    await pacer.turn((2, 0))  # another chat: no wait
    sleep = asyncio.create_task(pacer.turn((1, 0)))
    await asyncio.sleep(0.05)
    assert not sleep.done()  # chat 1 waits half a second for its next message
    await asyncio.wait_for(sleep, 1)
