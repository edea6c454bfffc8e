"""The enrichment stage: language, English pivot and summary for every stored story, batch by batch through the model
work (bot/service/model_work.py), newest first, retried across passes with a backoff. It builds no engine and
translates nothing for readers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.errors import ModelError
from bot.service.context import Context, background
from bot.service.engines import Engines
from bot.service.model_work import DetectJob, EnrichJob, ModelWork
from bot.store.rows import EnrichFailure, PendingStory
from summarizer.types import Article, Detection, Enriched

log = logging.getLogger(__name__)

# A failed story waits FIRST_RETRY, then four times longer after each failure, at most MAX_RETRY; it is tried at once
# when the models change (a download, a new setting). It is never given up on: its text may be fine for a later model.
FIRST_RETRY = timedelta(minutes=2)
MAX_RETRY = timedelta(hours=6)


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
        while stop is None or not stop.is_set():
            batch = await db(
                store.stories_to_enrich, config.batch_size, now=started, fingerprint=fingerprint, models=models
            )
            if not batch:
                break
            articles = [Article(title=s.title, text=s.text, lang_hint=s.lang_hint) for s in batch]
            results = await self.model_work.enrich(EnrichJob(config, articles))
            failures = []
            for story, result in zip(batch, results, strict=True):
                if isinstance(result, str):
                    failures.append(self._failure(story, result, fingerprint))
                    if result not in errors:
                        errors.append(result)
                    continue
                await db(self._save, story, result)
                done += 1
            if failures:
                await db(store.record_enrich_failures, failures, fingerprint=fingerprint)
                failed += len(failures)
            if progress is not None:
                progress(len(batch))
        return EnrichReport(done=done, failed=failed, errors=errors)

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

    def _save(self, story: PendingStory, result: Enriched) -> None:  # on the SQLite thread
        self.ctx.store.save_enrichment(
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
