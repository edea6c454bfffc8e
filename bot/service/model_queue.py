"""The model thread's queue: one thread runs model work by priority (then arrival), and a reader's work does not wait
for a whole batch.

Jobs are taken lowest priority number first. While a job of lower urgency runs (an enrichment batch: tens of seconds
with real models), urgent jobs (a reader waiting) queued meanwhile run on the same thread at its next yield point,
between two generation batches (summarizer.seq2seq.between_batches): the batch keeps its batching, the reader waits
for one generation batch at most, and two generations never share the cores.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from summarizer.seq2seq import between_batches

log = logging.getLogger(__name__)

URGENT = 0  # Priority.INTERACTIVE: runs at the running job's next yield point


class ModelQueue:
    def __init__(self, name: str = "newsbot-model", *, preempt: bool = True) -> None:
        self._name = name
        self._preempt = preempt  # False: strictly one job after another (benchmarks compare)
        self._heap: list[tuple[int, int, Future[Any], Callable[[], Any]]] = []
        self._order = itertools.count()
        self._cv = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._in_yield = False  # on the model thread only: urgent jobs are running at a yield point

    def submit(self, priority: int, fn: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("the model thread is shut down")
            heapq.heappush(self._heap, (priority, next(self._order), future, fn))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cv.notify()
        return future

    def shutdown(self, *, cancel_futures: bool = True) -> None:
        with self._cv:
            self._closed = True
            if cancel_futures:
                for _, _, future, _ in self._heap:
                    future.cancel()
                self._heap.clear()
            self._cv.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _next(self, *, urgent_only: bool) -> tuple[int, Future[Any], Callable[[], Any]] | None:
        with self._cv:
            while not urgent_only and not self._heap and not self._closed:
                self._cv.wait()
            if not self._heap or (urgent_only and self._heap[0][0] > URGENT):
                return None
            priority, _, future, fn = heapq.heappop(self._heap)
            return priority, future, fn

    def _run(self) -> None:
        while (taken := self._next(urgent_only=False)) is not None:
            priority, future, fn = taken
            if priority > URGENT and self._preempt:
                with between_batches(self._urgent_now):
                    _settle(future, fn)
            else:
                _settle(future, fn)

    def _urgent_now(self) -> None:
        """A yield point of a running job: the urgent jobs queued meanwhile run now (not again from inside them)."""
        if self._in_yield:
            return
        self._in_yield = True
        try:
            while (taken := self._next(urgent_only=True)) is not None:
                _, future, fn = taken
                _settle(future, fn)
        finally:
            self._in_yield = False


def _settle(future: Future[Any], fn: Callable[[], Any]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn()
    except BaseException as e:  # handed to whoever awaits the job, as an executor does
        future.set_exception(e)
    else:
        future.set_result(result)
