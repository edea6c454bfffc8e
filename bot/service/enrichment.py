"""The enrichment stage: language, English pivot and summary for every stored story, batch by batch through the model
work (bot/service/model_work.py), newest first, retried across passes with a backoff. It builds no engine and
translates nothing for readers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.errors import ModelError
from bot.service.context import Context, background
from bot.service.engines import Engines
from bot.service.model_work import DetectJob, EnrichJob, ModelWork, Priority
from bot.store.rows import EnrichFailure, PendingStory
from summarizer.types import Article, Detection, Enriched

log = logging.getLogger(__name__)

# A failed story waits FIRST_RETRY, then four times longer after each failure, at most MAX_RETRY; it is tried at once
# when the models change (a download, a new setting). It is never given up on: its text may be fine for a later model.
FIRST_RETRY = timedelta(minutes=2)
MAX_RETRY = timedelta(hours=6)
# A story stored this recently is fresh news: its batch goes on the queue before the backlog's (with workers).
FRESH_FOR = timedelta(hours=1)


def next_attempt(now: datetime, failures: int) -> datetime:
    """When a story that has now failed `failures` times in a row (same models) is tried again."""
    return now + min(MAX_RETRY, FIRST_RETRY * 4 ** min(max(0, failures - 1), 8))  # 4**8 x 2 min: far past the cap


@dataclass(frozen=True)
class EnrichReport:
    done: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # distinct reasons, for the admin


class Enrichment:
    def __init__(self, ctx: Context, engines: Engines, model_work: ModelWork) -> None:
        self.ctx = ctx
        self.engines = engines
        self.model_work = model_work

    async def pending(self) -> int:
        return await self.ctx.db(
            self.ctx.store.count_to_enrich,
            now=self.ctx.now(),
            fingerprint=await self.engines.fingerprint(),
            models=await self.engines.current_models(),
        )

    async def enrich(
        self, *, progress: Callable[[int], None] | None = None, stop: asyncio.Event | None = None
    ) -> EnrichReport:
        """Detect, translate to English and summarize every due story, newest first, one batch at a time.

        Each story is tried at most once per pass: a failure is recorded on it (the reason is what `stories show`
        gives) with the time of its next attempt. Checks `stop` between batches.
        """
        db, store = self.ctx.db, self.ctx.store
        fingerprint = await self.engines.fingerprint()
        try:
            config = await self.model_work.ready()
        except ModelError as e:
            failed = await self._fail_all_due(str(e), fingerprint)
            return EnrichReport(failed=failed, errors=[str(e)] if failed else [])
        models = await self.engines.current_models()
        done = failed = 0
        errors: list[str] = []
        # What is due is judged as of the pass's start: a story that fails now is not due again within this pass,
        # however long the backlog behind it takes.
        started = self.ctx.now()
        # Batches in flight at once: one on the model thread; many with workers, whose results are stored as they
        # come while more are sent (back-pressure: never more than `parallelism` queued).
        in_flight: dict[asyncio.Future[list[Enriched | str]], list[PendingStory]] = {}
        try:
            while True:
                while (stop is None or not stop.is_set()) and len(in_flight) < self.model_work.parallelism:
                    busy = [s.id for batch in in_flight.values() for s in batch]
                    batch = await db(
                        store.stories_to_enrich,
                        config.batch_size,
                        now=started,
                        fingerprint=fingerprint,
                        models=models,
                        besides=busy,
                    )
                    if not batch:
                        break
                    articles = [Article(title=s.title, text=s.text, lang_hint=s.lang_hint) for s in batch]
                    job = EnrichJob(config, articles, priority=self._priority(batch))
                    in_flight[asyncio.ensure_future(self.model_work.enrich(job))] = batch
                if not in_flight:
                    break
                finished, last = await self._next_results(set(in_flight), stop)
                for future in finished:
                    batch = in_flight.pop(future)
                    stored, failures = await self._store(batch, future.result(), fingerprint, errors)
                    done += stored
                    failed += failures
                    if progress is not None:
                        progress(len(batch))
                if last:
                    break  # what is still in flight after the grace is done again by a later pass
        finally:
            for future in in_flight:  # stopped, or a bug: what is in flight is done again by a later pass
                future.cancel()
        return EnrichReport(done=done, failed=failed, errors=errors)

    async def _store(
        self, batch: list[PendingStory], results: list[Enriched | str], fingerprint: str, errors: list[str]
    ) -> tuple[int, int]:
        """One batch's results stored (a story gone or changed meanwhile is dropped quietly): (stored, failed)."""
        failures, done = [], []
        for story, result in zip(batch, results, strict=True):
            if isinstance(result, str):
                failures.append(self._failure(story, result, fingerprint))
                if result not in errors:
                    errors.append(result)
            else:
                done.append((story, result))
        stored = await self.ctx.db(lambda: sum(self._save(story, result) for story, result in done)) if done else 0
        if failures:
            await self.ctx.db(self.ctx.store.record_enrich_failures, failures, fingerprint=fingerprint)
        return stored, len(failures)

    async def _next_results(
        self, in_flight: set[asyncio.Future[list[Enriched | str]]], stop: asyncio.Event | None
    ) -> tuple[set[asyncio.Future[list[Enriched | str]]], bool]:
        """The batches finished next, and whether they are the last of this pass: once `stop` is set, those that
        finish within the model work's grace (the model thread's batch is always finished)."""
        if stop is None:
            finished, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            return finished, False
        if not stop.is_set():
            stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
            waited: set[asyncio.Future[Any]] = {*in_flight, stopping}
            try:
                done, _ = await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
            if finished := {f for f in in_flight if f in done}:
                return finished, False
        finished, _ = await asyncio.wait(in_flight, timeout=self.model_work.stop_grace)
        return finished, True

    def _priority(self, batch: list[PendingStory]) -> Priority:
        """Fresh when its newest story came in within FRESH_FOR: such news goes before an old backlog."""
        newest = max((s.created_at for s in batch if s.created_at), default=None)
        if newest is not None and datetime.fromisoformat(newest) >= self.ctx.now() - FRESH_FOR:
            return Priority.FRESH
        return Priority.BACKLOG

    async def work(
        self, stop: asyncio.Event, wake: asyncio.Event, *, tick: float = 30.0, after: Callable[[], None] | None = None
    ) -> None:
        """The enrichment worker of `newsbot run`: a pass whenever `wake` is set (new stories) or `tick` passes;
        `after` is called when a pass enriched something (the indexer then embeds the new pivots)."""

        async def one_pass() -> None:
            report = await self.enrich(stop=stop)
            if report.done or report.failed:
                log.info("enriched %d stories, %d failed", report.done, report.failed)
            if report.done and after is not None:
                after()

        await background("enrichment", one_pass, stop, wake, tick)

    def _failure(
        self, story: PendingStory, reason: str, fingerprint: str, detection: Detection | None = None
    ) -> EnrichFailure:
        failures = story.attempts + 1 if story.fingerprint == fingerprint else 1
        return EnrichFailure(
            story.id,
            reason,
            failures,
            next_attempt(self.ctx.now(), failures),
            lang=detection.lang if detection else None,
            lang_confidence=detection.confidence if detection else None,
        )

    def _save(self, story: PendingStory, result: Enriched) -> bool:  # on the SQLite thread
        return self.ctx.store.save_enrichment(
            story.id,
            self.ctx.now(),
            lang=result.lang,
            lang_confidence=result.lang_confidence,
            title_en=result.title_en,
            text_en=result.text_en,
            summary_en=result.summary_en,
            translated=result.translated,
            models=result.models,
            source_hash=story.content_hash,
        )

    async def _fail_all_due(self, reason: str, fingerprint: str) -> int:
        """No engine at all (the summarizer is missing): every due story records why, once, and waits its backoff.

        The language detector needs no downloaded model, so each story still gets its language: digests then label
        its untranslated text correctly and split it into sentences the right way.
        """
        store, failed = self.ctx.store, 0
        languages = list((await self.engines.config()).languages)
        while batch := await self.ctx.db(store.stories_to_enrich, 500, now=self.ctx.now(), fingerprint=fingerprint):
            texts, hints = [f"{s.title}\n{s.text}" for s in batch], [s.lang_hint for s in batch]
            detections = await self.model_work.detect(DetectJob(languages, texts, hints))
            await self.ctx.db(
                store.record_enrich_failures,
                [self._failure(s, reason, fingerprint, d) for s, d in zip(batch, detections, strict=True)],
                fingerprint=fingerprint,
            )
            failed += len(batch)
        return failed
