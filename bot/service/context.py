"""What every stage of the service shares: settings, the store behind its own thread, the clock, the model thread
and the questions thread.

The event loop never waits on SQLite or on a model: store calls run on one SQLite thread (a writer in another process
holding the lock stalls that thread, not the bot), model work on one model thread (torch releases the GIL), and a
question's small model work on a thread of its own, so that it never queues behind an enrichment batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import ParamSpec, TypeVar

from bot.config import Settings
from bot.errors import NewsbotError
from bot.service.model_queue import ModelQueue
from bot.store import Store

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
FRESH = 1  # bot.service.model_work.Priority.FRESH, which imports this module


class Context:
    def __init__(self, settings: Settings, store: Store, now: Callable[[], datetime]) -> None:
        self.settings = settings
        self.store = store
        self.now = now
        self._sql = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-sqlite")
        # One model thread: two generations on the same cores would only slow each other down. Its jobs go by
        # priority, and a reader's (INTERACTIVE) runs between two generation batches of a running enrichment batch.
        self._models = ModelQueue()
        # Embedding a question and its candidate sentences, detecting its language: milliseconds of work, which on the
        # model thread would wait for the batch in progress (8 articles: tens of seconds on 2 cores).
        self._questions = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-questions")
        self._model_calls = 0  # running or queued on the model thread; counted on the event loop

    async def db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store method on the SQLite thread."""
        return await _on(self._sql, fn, *args, **kwargs)

    async def model(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run model work (loading, generation) on the model thread, at the priority of fresh stories."""
        return await self.model_at(FRESH, fn, *args, **kwargs)

    async def model_at(self, priority: int, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run model work on the model thread at `priority` (bot.service.model_work.Priority: lower goes first)."""
        self._model_calls += 1
        try:
            job = self._models.submit(priority, functools.partial(fn, *args, **kwargs))
            result: T = await asyncio.wrap_future(job)
            return result
        finally:
            self._model_calls -= 1

    @property
    def model_busy(self) -> bool:
        """Whether the model thread has work (which keeps the cores busy)."""
        return self._model_calls > 0

    async def question(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a question's small model work (embedding, language detection) on the questions thread."""
        return await _on(self._questions, fn, *args, **kwargs)

    def close(self) -> None:
        self._models.shutdown(cancel_futures=True)
        self._questions.shutdown(wait=True, cancel_futures=True)
        self._sql.shutdown(wait=True)
        self.store.close()


async def _on(executor: ThreadPoolExecutor, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await asyncio.get_running_loop().run_in_executor(executor, functools.partial(fn, *args, **kwargs))


async def first_of(*events: asyncio.Event) -> None:
    """Return as soon as one of the events is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def background(
    name: str, one_pass: Callable[[], Awaitable[None]], stop: asyncio.Event, wake: asyncio.Event, tick: float
) -> None:
    """A worker of `newsbot run`: `one_pass` whenever `wake` is set or `tick` passes, until `stop`. A failing pass is
    logged (one line for a NewsbotError, the traceback for a bug) and the next one runs as usual."""
    while not stop.is_set():
        wake.clear()
        try:
            await one_pass()
        except NewsbotError as e:
            log.error("%s failed: %s", name, e)
        except Exception:
            log.exception("%s failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first_of(stop, wake), timeout=tick)
