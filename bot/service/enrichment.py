"""The enrichment stage: language, English pivot and summary for every stored story, batch by batch on the model
thread, newest first, retried across passes with a backoff; and a story's title and summary in a reader's language."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.errors import LanguageNotOfferedError, ModelError, NewsbotError
from bot.feedlist.engine import engine_config
from bot.service.context import Context, background
from bot.service.feeds import Feeds
from bot.store.rows import EngineModels, EnrichFailure, PendingStory, Problem, StoryRow
from summarizer.chunking import split_sentences
from summarizer.download import models_fingerprint
from summarizer.engine import make_engine
from summarizer.errors import EngineError
from summarizer.extractive import summarize_extractive
from summarizer.models import IDENTITY, no_path, translation_route
from summarizer.models import summarizer as summarizer_model
from summarizer.types import UNDETERMINED, Article, Detection, Engine, EngineConfig, Enriched

if TYPE_CHECKING:
    from summarizer.detect import LinguaDetector

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


@dataclass(frozen=True)
class Localized:
    """A story's title and summary for one reader; `translated` False: the story's own text, in `lang`."""

    title: str
    summary: str
    lang: str  # the language title and summary are in
    translated: bool = True
    note: str | None = None  # why it is not in the reader's language


class Enrichment:
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
        config = await self.config()
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
        with self._engine_lock:
            if self._detector is None:
                from summarizer.detect import LinguaDetector

                self._detector = LinguaDetector(languages)
        return self._detector.detect(text)

    async def fingerprint(self) -> str:
        return await asyncio.to_thread(models_fingerprint, await self.config())

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

    # -- enrichment passes -----------------------------------------------------------------------------------------
    async def pending(self) -> int:
        return await self.ctx.db(
            self.ctx.store.count_to_enrich,
            now=self.ctx.now(),
            fingerprint=await self.fingerprint(),
            models=await self.current_models(),
        )

    async def enrich(
        self, *, progress: Callable[[int], None] | None = None, stop: asyncio.Event | None = None
    ) -> EnrichReport:
        """Detect, translate to English and summarize every due story, newest first, one batch at a time.

        Each story is tried at most once per pass: a failure is recorded on it (the reason is what `stories show`
        gives) with the time of its next attempt. Checks `stop` between batches.
        """
        db, store = self.ctx.db, self.ctx.store
        fingerprint = await self.fingerprint()
        try:
            engine = await self.engine()
        except ModelError as e:
            failed = await self._fail_all_due(str(e), fingerprint)
            return EnrichReport(failed=failed, errors=[str(e)] if failed else [])
        models = await self.current_models()
        done = failed = 0
        errors: list[str] = []
        # What is due is judged as of the pass's start: a story that fails now is not due again within this pass,
        # however long the backlog behind it takes.
        started = self.ctx.now()
        while stop is None or not stop.is_set():
            batch = await db(
                store.stories_to_enrich, engine.config.batch_size, now=started, fingerprint=fingerprint, models=models
            )
            if not batch:
                break
            articles = [Article(title=s.title, text=s.text, lang_hint=s.lang_hint) for s in batch]
            results = await self.ctx.model(_process, engine, articles)
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
        languages = (await self.config()).languages
        while batch := await self.ctx.db(store.stories_to_enrich, 500, now=self.ctx.now(), fingerprint=fingerprint):
            detections = await self.ctx.model(self._detect, languages, batch)
            await self.ctx.db(
                store.record_enrich_failures,
                [self._failure(s, reason, fingerprint, d) for s, d in zip(batch, detections, strict=True)],
                fingerprint=fingerprint,
            )
            failed += len(batch)
        return failed

    def _detect(self, languages: tuple[str, ...], batch: Sequence[PendingStory]) -> list[Detection]:
        with self._engine_lock:
            if self._detector is None:
                from summarizer.detect import LinguaDetector

                self._detector = LinguaDetector(languages)
        return self._detector.detect_many([f"{s.title}\n{s.text}" for s in batch], [s.lang_hint for s in batch])

    # -- a reader's language ---------------------------------------------------------------------------------------
    async def summary_in(self, story: StoryRow, lang: str) -> tuple[str, str]:
        """(title, summary) of an enriched story in `lang`, translated on first need and cached; ModelError if the
        model for that language is missing or fails. The story's own language gets its original title. A code that is
        not an offered language is refused (never translated into, never cached)."""
        offered = list((await self.config()).languages)
        if lang.strip().lower() not in offered:
            raise LanguageNotOfferedError(lang.strip(), offered)
        lang = lang.strip().lower()
        if not story.enriched or story.summary_en is None or story.title_en is None:
            raise NewsbotError(f"story {story.id} is not summarized yet: run `newsbot poll --once` or wait for it")
        if lang == "en" and story.translated is not False:
            return story.title_en, story.summary_en
        if story.translated is False:  # the extractive backend: its "pivot" is the original
            if lang == story.lang:
                return story.title, story.summary_en
            raise ModelError(f"story {story.id} was summarized without translation (extractive backend)")
        engine = await self.engine()
        route = translation_route(engine.config, "en", lang)
        if route is None:
            raise ModelError(no_path(engine.config, lang) or f"no model translates English into {lang!r}")
        model = route.name
        cached = await self.ctx.db(self.ctx.store.cached_translation, story.id, lang, story.content_hash, model)
        if cached is not None:
            return cached
        try:
            translation = await self.ctx.model(engine.translate, [story.title_en, story.summary_en], "en", lang)
        except EngineError as e:
            raise ModelError(str(e)) from e
        except Exception as e:  # a half-downloaded model, a tokenizer panic: this language fails, not the digest
            raise ModelError(f"translating into {lang!r} failed: {type(e).__name__}: {e}") from e
        if not translation.translated:  # the extractive backend over stories a model summarized: never cache English
            raise ModelError(f"the {engine.config.backend} backend does not translate into {lang!r}")
        title, summary = translation.texts
        if lang == story.lang:
            title = story.title  # a reader of the source language gets the headline as published
        await self.ctx.db(
            self.ctx.store.save_translation, story.id, lang, story.content_hash, model, title, summary, self.ctx.now()
        )
        return title, summary

    async def localized(self, story: StoryRow, lang: str, *, hint: str | None = None) -> Localized:
        """Title and summary for a reader of `lang`, whatever state the models are in: never nothing.

        Enriched and translatable: the translation (cached). Otherwise the story's own extractive summary in its own
        language, marked untranslated unless that is the reader's language; a missing model is recorded as a problem
        for the admin. `hint`: the feed's language, for a story whose own is not detected yet.
        """
        own = story.lang if story.lang and story.lang != UNDETERMINED else (None if story.enriched else hint)
        if story.enriched and story.translated is False and story.summary_en:  # the extractive backend's summary
            note = None if own == lang else "the extractive backend does not translate"
            return Localized(story.title, story.summary_en, own or "und", translated=own == lang, note=note)
        if story.enriched:
            key = f"translate:en-{lang}"
            try:
                title, summary = await self.summary_in(story, lang)
            except ModelError as e:
                await self._problem(key, f"no summaries in {lang!r}: {e}")
                note = str(e)
            else:
                if key in self._problems:
                    self._problems.discard(key)
                    await self.ctx.db(self.ctx.store.clear_problem, key)
                return Localized(title, summary, lang)
        else:
            note = story.enrich_error or "not summarized yet"
        summary = await asyncio.to_thread(fallback_summary, story.text, own or "und", story.title)
        return Localized(story.title, summary, own or "und", translated=own == lang, note=note)

    async def problems(self) -> list[Problem]:
        """Model problems recorded for the admin (a language without its model, say)."""
        return await self.ctx.db(self.ctx.store.problems)

    async def _problem(self, key: str, message: str) -> None:
        if key not in self._problems:
            log.warning("%s", message)
        self._problems.add(key)
        await self.ctx.db(self.ctx.store.record_problem, key, message, self.ctx.now())


def fallback_summary(text: str, lang: str, title: str = "") -> str:
    """The weightless summary of a story in its own language: a few of its central sentences, verbatim."""
    return summarize_extractive(text, lang, title=title) or " ".join(split_sentences(text, lang)[:3]) or title


def _process(engine: Engine, articles: Sequence[Article]) -> list[Enriched | str]:
    """On the model thread: the batch together, or article by article when the batch fails, so one bad article (or
    one missing pair model) does not sink its batch-mates; a failure is its reason."""
    if len(articles) == 1:
        return [_process_one(engine, articles[0])]
    try:
        return list(engine.process_many(articles))
    except Exception:
        return [_process_one(engine, article) for article in articles]


def _process_one(engine: Engine, article: Article) -> Enriched | str:
    try:
        return engine.process(article)
    except Exception as e:  # recorded on the story, shown by `stories show`; the pass goes on
        log.warning("enrichment failed: %s", e)
        return str(e) if isinstance(e, EngineError) else f"{type(e).__name__}: {e}"
