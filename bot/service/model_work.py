"""Model work as plain-data jobs behind one interface, `ModelWork`: enrich a batch of articles, translate texts,
detect languages where there is no engine. `ModelThread` does it in this process on the Context's model thread; no
stage knows which implementation runs, and none calls the engine itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from bot.service.context import Context
from bot.service.engines import Engines
from summarizer.engine import process_batch
from summarizer.types import Article, Detection, EngineConfig, Enriched, Translation

log = logging.getLogger(__name__)


class Priority(IntEnum):
    """Which model work goes first: a reader waiting (an article, an answer, a summary in a newly chosen language),
    then fresh stories, then the backlog."""

    INTERACTIVE = 0
    FRESH = 1
    BACKLOG = 2


@dataclass(frozen=True)
class EnrichJob:
    """Articles to detect, pivot into English and summarize, on the engine `config` describes."""

    config: EngineConfig
    articles: list[Article]
    priority: Priority = Priority.FRESH


@dataclass(frozen=True)
class TranslateJob:
    """Texts to translate from `src` into `tgt`, on the engine `config` describes."""

    config: EngineConfig
    texts: list[str]
    src: str
    tgt: str
    priority: Priority = Priority.INTERACTIVE


@dataclass(frozen=True)
class DetectJob:
    """Texts whose language is wanted while there is no engine (its summarizer is missing): lingua alone, among
    `languages`; `hints` (a feed's declared language) pair with `texts`."""

    languages: list[str]
    texts: list[str]
    hints: list[str | None]


class ModelWork(Protocol):
    """Where the stages send model work; the answers come back as plain data too."""

    # Enrichment batches worth keeping in flight at once (more wait their turn), and how long a stopping pass waits
    # for those in flight (None: until they finish).
    parallelism: int
    stop_grace: float | None

    async def ready(self) -> EngineConfig:
        """The configuration of the engine the work runs on, once that engine can be had; ModelError when it cannot
        (the summarizer is not downloaded)."""
        ...

    async def enrich(self, job: EnrichJob) -> list[Enriched | str]:
        """Each article enriched, or the reason it failed, in order: one bad article does not sink its batch."""
        ...

    async def translate(self, job: TranslateJob) -> Translation:
        """The texts translated; raises what the engine raises (a missing model, a failing one)."""
        ...

    async def detect(self, job: DetectJob) -> list[Detection]:
        """Each text's language, in order."""
        ...


class ModelThread:
    """Model work in this process: one job at a time on the Context's model thread, on the engine `engines` holds, by
    priority; an INTERACTIVE job runs at a running batch's next yield point (bot/service/model_queue.py)."""

    parallelism = 1
    stop_grace: float | None = None  # the batch on the model thread is finished and stored, as before a stop

    def __init__(self, ctx: Context, engines: Engines) -> None:
        self.ctx = ctx
        self.engines = engines

    async def ready(self) -> EngineConfig:
        return (await self.engines.engine()).config

    async def enrich(self, job: EnrichJob) -> list[Enriched | str]:
        engine = await self.engines.engine_for(job.config)
        return await self.ctx.model_at(job.priority, process_batch, engine, job.articles)

    async def translate(self, job: TranslateJob) -> Translation:
        engine = await self.engines.engine_for(job.config)
        return await self.ctx.model_at(job.priority, engine.translate, job.texts, job.src, job.tgt)

    async def detect(self, job: DetectJob) -> list[Detection]:
        return await self.ctx.model(self.engines.fallback_detect, job.languages, job.texts, job.hints)
