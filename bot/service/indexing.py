"""The indexing stage: one embedding per story (the original text for a multilingual embedder, the English pivot
for an English one), stored and mirrored in an in-memory matrix that questions are scored against."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from itertools import pairwise

import numpy as np

from bot.service.context import Context, background
from summarizer.types import Embedder

log = logging.getLogger(__name__)

BATCH = 64
# The vector search's threads on idle cores, and the fewest rows worth a thread of their own.
SEARCH_THREADS = min(2, os.cpu_count() or 1)
MIN_BLOCK_ROWS = 20_000
REFRESH_SECONDS = 300.0  # how often the matrix checks for vectors another process (`poll --once`) wrote


def similarities(matrix: np.ndarray, query: np.ndarray, parts: int = 1) -> np.ndarray:
    """Each row's dot product with `query` (their cosine: both are L2-normalised), the rows cut into `parts` blocks
    scored on as many threads. einsum rather than BLAS's `matrix @ query`: OpenBLAS splits this memory-bound product
    over the cores no faster, and its threads then spin on them for a while, where the next question's e5 embedding
    needs them (up to 10x slower); einsum's blocks release the GIL and leave nothing spinning (benchmarks/ask.py)."""
    if parts <= 1 or len(matrix) < parts * MIN_BLOCK_ROWS:
        return np.einsum("ij,j->i", matrix, query)
    scores = np.empty(len(matrix), dtype=np.result_type(matrix, query))
    bounds = np.linspace(0, len(matrix), parts + 1).astype(int)
    list(
        _pool().map(
            lambda b: np.einsum("ij,j->i", matrix[b[0] : b[1]], query, out=scores[b[0] : b[1]]), pairwise(bounds)
        )
    )
    return scores


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="vector-search")


def best_rows(scores: np.ndarray, count: int) -> np.ndarray:
    """The rows of the `count` highest scores, best first, equal scores in row order: a partition, then a sort of
    those `count` only."""
    rows = np.sort(np.argpartition(-scores, count)[:count]) if count < len(scores) else np.arange(len(scores))
    return rows[np.argsort(-scores[rows], kind="stable")]


class VectorIndex:
    """All stored vectors of one embedder as an (n, dim) float32 matrix: a question costs one matrix product."""

    def __init__(self, ctx: Context, key: str, dim: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.key = key
        self.dim = dim
        self._clock = clock
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self._row: dict[int, int] = {}
        self._checked = -1e18
        self._state: tuple[int, str | None] | None = None
        self._lock = asyncio.Lock()

    async def matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(story ids, vectors), reloaded when the store changed behind this process's back."""
        async with self._lock:
            if self._clock() - self._checked > REFRESH_SECONDS:
                self._checked = self._clock()
                state = await self.ctx.db(self.ctx.store.vector_state, self.key)
                if state != self._state:
                    ids, matrix = await self.ctx.db(self.ctx.store.vectors, self.key, self.dim)
                    self._set(ids, matrix)
                    self._state = state
            return self._ids, self._matrix

    async def get(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of those of `ids` that have one."""
        await self.matrix()
        return {i: self._matrix[self._row[i]] for i in ids if i in self._row}

    def _set(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        self._ids, self._matrix = ids, matrix
        self._row = {int(i): n for n, i in enumerate(ids)}

    def stale(self) -> None:
        """Stories were deleted in this process: the next use reloads from the store."""
        self._checked = -1e18
        self._state = None

    def update(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Vectors this process just stored: replace or append their rows (no reload)."""
        fresh = [(i, v) for i, v in zip(ids, vectors, strict=True) if i not in self._row]
        matrix = self._matrix.copy() if len(fresh) < len(ids) else self._matrix
        for i, v in zip(ids, vectors, strict=True):
            if i in self._row:
                matrix[self._row[i]] = v
        if fresh:
            matrix = np.vstack([matrix, np.stack([v for _, v in fresh]).astype(np.float32)])
            ids_array = np.concatenate([self._ids, np.asarray([i for i, _ in fresh], dtype=np.int64)])
        else:
            ids_array = self._ids
        self._set(ids_array, matrix)
        if self._state is not None:
            self._state = (len(ids_array), None)  # known to differ from the store's marker: checked at the next refresh


class Indexing:
    def __init__(self, ctx: Context, embedder: Embedder, key: str) -> None:
        self.ctx = ctx
        self.embedder = embedder
        self.key = key  # which embedder the stored vectors belong to ("e5", "minilm")
        self.vectors = VectorIndex(ctx, key, embedder.dim)

    def forget(self) -> None:
        """Some stories were deleted (retention): their vectors leave the matrix before the next question."""
        self.vectors.stale()

    async def pending(self) -> int:
        return await self.ctx.db(self.ctx.store.count_to_embed, self.key, pivot=not self.embedder.multilingual)

    async def index(self, *, stop: asyncio.Event | None = None, progress: Callable[[int], None] | None = None) -> int:
        """Embed every story without a current vector, newest first, a batch at a time on the model thread."""
        done = 0
        while stop is None or not stop.is_set():
            rows = await self.ctx.db(
                self.ctx.store.stories_to_embed, self.key, BATCH, pivot=not self.embedder.multilingual
            )
            if not rows:
                break
            vectors = await self.ctx.model(self.embedder.passages, [text for _, _, text in rows])
            await self.ctx.db(
                self.ctx.store.save_vectors, self.key, [(i, h, v) for (i, h, _), v in zip(rows, vectors, strict=True)]
            )
            self.vectors.update([i for i, _, _ in rows], np.asarray(vectors, dtype=np.float32))
            done += len(rows)
            if progress is not None:
                progress(len(rows))
        return done

    async def work(self, stop: asyncio.Event, wake: asyncio.Event, *, tick: float = 30.0) -> None:
        """The indexing worker of `newsbot run`: a pass when woken (new or enriched stories) or every `tick`."""

        async def one_pass() -> None:
            if count := await self.index(stop=stop):
                log.info("indexed %d stories", count)

        await background("indexing", one_pass, stop, wake, tick)
