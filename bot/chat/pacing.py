"""How fast and in what order sends may go: per-chat spacing, and send slots that serve replies before digests."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import time
from collections.abc import AsyncIterator, Callable

ChatKey = tuple[int, int]  # (chat id, forum topic)


def sends_in_flight(send_rate: float) -> int:
    """Digest sends started at once: enough to keep `send_rate` going over a 200 ms round trip to Telegram, and few
    enough that a reply to a command queues behind at most a tenth of a second of digest traffic in the limiter."""
    return max(8, math.ceil(send_rate / 10))


class ChatPacer:
    """At most `rate` messages a second to one chat, replies and digests together.

    `turn` takes the chat's next free moment (sleeping until then); `ready` only waits for it, so a digest sender can
    wait outside its send slot and take its turn inside, without holding a slot while it sleeps.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._next: dict[ChatKey, float] = {}

    async def ready(self, chat: ChatKey) -> None:
        wait = self._next.get(chat, 0.0) - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)

    async def turn(self, chat: ChatKey) -> None:
        now = self._clock()
        at = max(now, self._next.get(chat, 0.0))
        self._next[chat] = at + self.interval
        if len(self._next) > 50_000:  # forget chats whose turn is long past
            self._next = {key: t for key, t in self._next.items() if t > now}
        if at > now:
            await asyncio.sleep(at - now)


class PrioritySlots:
    """A semaphore whose waiters are served by priority (0, replies, before 1, digests), then first come first."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @contextlib.asynccontextmanager
    async def take(self, priority: int) -> AsyncIterator[None]:
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: int) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # handed the slot and cancelled before using it: pass it on
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():  # a cancelled waiter stays in the heap until here
                waiter.set_result(None)
                return
        self._free += 1
