"""The language engine of this process: built from feeds.yaml and the settings at first need, and again when an admin
changes the model settings; the languages it can serve, the models a story enriched now records, a short text's
language, and the model problems met on the way (for the admin). It enriches and translates nothing itself."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.errors import ModelError
from bot.feedlist.engine import engine_config
from bot.service.context import Context
from bot.service.feeds import Feeds
from bot.store.rows import EngineModels, Problem
from summarizer.download import models_fingerprint
from summarizer.engine import make_engine
from summarizer.errors import EngineError
from summarizer.models import IDENTITY
from summarizer.models import summarizer as summarizer_model
from summarizer.types import UNDETERMINED, Detection, Engine, EngineConfig

if TYPE_CHECKING:
    from summarizer.detect import LinguaDetector

log = logging.getLogger(__name__)


class Engines:
    def __init__(self, ctx: Context, feeds: Feeds, engine: Engine | None = None) -> None:
        self.ctx = ctx
        self.feeds = feeds
        self._injected = engine  # a test's or a benchmark's: used as it is, whatever feeds.yaml says
        # The engine built here and what from, one tuple so that a reader without the lock never pairs one engine
        # with another's config.
        self._built: tuple[EngineConfig, Engine] | None = None
        self._engine_lock = threading.Lock()
        self._problems: set[str] = set()  # problem keys recorded by this process, so a fix can clear them
        self._detector: LinguaDetector | None = None  # for stories the engine cannot take (no models)

    # -- the engine ------------------------------------------------------------------------------------------------
    async def config(self) -> EngineConfig:
        """What the engine is (or would be) built from: feeds.yaml as it is now, and the settings."""
        if self._injected is not None:
            return self._injected.config
        return engine_config(await self.feeds.sync(), self.ctx.settings)

    async def engine(self) -> Engine:
        """The engine feeds.yaml and the settings describe, built on the model thread at first need, and built
        again when an admin changes the model settings while the bot runs."""
        if self._injected is not None:
            return self._injected
        return await self.engine_for(await self.config())

    async def engine_for(self, config: EngineConfig) -> Engine:
        """The engine built from `config`: as it is when it is built already, else built on the model thread (an
        injected engine whatever `config` says)."""
        if self._injected is not None:
            return self._injected
        built = self._built
        if built is not None and built[0] == config:
            return built[1]  # as it is: a question must not queue behind a batch on the model thread to learn that
        return await self.ctx.model(self._build, config)

    def _build(self, config: EngineConfig) -> Engine:
        with self._engine_lock:
            built = self._built
            if built is not None and built[0] == config:
                return built[1]
            if built is not None:
                log.info("the model settings changed: building the language engine again")
            self._built = None
            try:
                engine = make_engine(config)
            except EngineError as e:
                raise ModelError(str(e)) from e
            self._built = (config, engine)
            return engine

    # -- languages -------------------------------------------------------------------------------------------------
    async def detect(self, text: str) -> str:
        """The language of a short text (a question): the engine's detector, or lingua alone when there is no engine;
        on the questions thread, beside any enrichment batch."""
        try:
            engine = await self.engine()
        except ModelError:
            config = await self.config()
            return (await self.ctx.question(self._detect_one, config.languages, text)).lang
        return (await self.ctx.question(engine.detect_language, text)).lang

    def _detect_one(self, languages: tuple[str, ...], text: str) -> Detection:
        return self._fallback(languages).detect(text)

    def fallback_detect(
        self, languages: Sequence[str], texts: Sequence[str], hints: Sequence[str | None]
    ) -> list[Detection]:
        """The languages of texts the engine cannot take (there is none: no models), by lingua alone; blocking, on
        the thread it is called on."""
        return self._fallback(languages).detect_many(texts, hints)

    def _fallback(self, languages: Sequence[str]) -> LinguaDetector:
        with self._engine_lock:
            if self._detector is None:
                from summarizer.detect import LinguaDetector

                self._detector = LinguaDetector(languages)
            return self._detector

    async def servable_languages(self) -> list[str]:
        """The offered languages a reader can get summaries in: English, and those whose model out of English is here
        (every offered one for the extractive backend, which never translates)."""
        config = await self.config()
        if config.backend == "extractive":
            return list(config.languages)
        from summarizer.download import cached_route

        def present(lang: str) -> bool:
            return lang == "en" or cached_route(config, "en", lang) is not None

        return [lang for lang in config.languages if await asyncio.to_thread(present, lang)]

    # -- the models ------------------------------------------------------------------------------------------------
    async def fingerprint(self) -> str:
        return await asyncio.to_thread(models_fingerprint, await self.config())

    async def current_models(self) -> EngineModels | None:
        """What a story enriched now would record, for finding the ones made with other models (an admin switched
        from `extractive` to `transformers`, or changed a model). None for the extractive backend, which never
        replaces a translated enrichment, and while the summarizer is not downloaded; a language whose model is not
        here keeps what it has."""
        config = await self.config()
        if config.backend == "extractive":
            return None

        def compute() -> EngineModels | None:
            from summarizer.download import cached_route, model_available

            summarize = summarizer_model(config).name
            if not model_available(summarize, config):
                return None
            translate = {"en": IDENTITY}
            for lang in [*config.languages, UNDETERMINED]:
                if lang != "en" and (route := cached_route(config, lang, "en")) is not None:
                    translate[lang] = route.name
            return EngineModels(summarize, translate)

        return await asyncio.to_thread(compute)

    # -- problems, for the admin -----------------------------------------------------------------------------------
    async def problems(self) -> list[Problem]:
        """Model problems recorded for the admin (a language without its model, say)."""
        return await self.ctx.db(self.ctx.store.problems)

    async def record_problem(self, key: str, message: str) -> None:
        """A model problem for the admin under `key`: logged the first time this process meets it, kept until fixed."""
        if key not in self._problems:
            log.warning("%s", message)
        self._problems.add(key)
        await self.ctx.db(self.ctx.store.record_problem, key, message, self.ctx.now())

    async def clear_problem(self, key: str) -> None:
        """The problem under `key` is fixed (the model is here now), if this process recorded it."""
        if key in self._problems:
            self._problems.discard(key)
            await self.ctx.db(self.ctx.store.clear_problem, key)
