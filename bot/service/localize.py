"""A story's title and summary in a reader's language: translated from the English pivot on first need and cached,
else the story's own summary in its own language, said to be so. It enriches no story."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.errors import LanguageNotOfferedError, ModelError, NewsbotError
from bot.service.context import Context
from bot.service.engines import Engines
from bot.service.model_work import ModelWork, Priority, TranslateJob
from bot.store.rows import StoryRow
from summarizer.chunking import split_sentences
from summarizer.errors import EngineError
from summarizer.extractive import summarize_extractive
from summarizer.models import no_path, translation_route
from summarizer.types import UNDETERMINED, EngineConfig, Translation


def english_route(config: EngineConfig, lang: str) -> str:
    """The model that translates English into `lang` (what a translation is cached under); ModelError when none."""
    route = translation_route(config, "en", lang)
    if route is None:
        raise ModelError(no_path(config, lang) or f"no model translates English into {lang!r}")
    return route.name


async def from_english(model_work: ModelWork, config: EngineConfig, texts: list[str], lang: str) -> Translation:
    """`texts` translated from the English pivot into `lang`, at interactive priority (a reader waits for them);
    ModelError saying why not: the model is missing or fails, or the backend does not translate (never cache English
    as a translation)."""
    try:
        translation = await model_work.translate(TranslateJob(config, texts, "en", lang, Priority.INTERACTIVE))
    except ModelError:
        raise
    except EngineError as e:
        raise ModelError(str(e)) from e
    except Exception as e:  # a half-downloaded model, a tokenizer panic: this text stays in its language
        raise ModelError(f"translating into {lang!r} failed: {type(e).__name__}: {e}") from e
    if not translation.translated:
        raise ModelError(f"the {config.backend} backend does not translate into {lang!r}")
    return translation


@dataclass(frozen=True)
class Localized:
    """A story's title and summary for one reader; `translated` False: the story's own text, in `lang`."""

    title: str
    summary: str
    lang: str  # the language title and summary are in
    translated: bool = True
    note: str | None = None  # why it is not in the reader's language


class Localize:
    def __init__(self, ctx: Context, engines: Engines, model_work: ModelWork) -> None:
        self.ctx = ctx
        self.engines = engines
        self.model_work = model_work

    async def summary_in(self, story: StoryRow, lang: str) -> tuple[str, str]:
        """(title, summary) of an enriched story in `lang`, translated on first need and cached; ModelError if the
        model for that language is missing or fails. The story's own language gets its original title. A code that is
        not an offered language is refused (never translated into, never cached)."""
        offered = list((await self.engines.config()).languages)
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
        config = await self.model_work.ready()
        model = english_route(config, lang)
        cached = await self.ctx.db(self.ctx.store.cached_translation, story.id, lang, story.content_hash, model)
        if cached is not None:
            return cached
        title, summary = (await from_english(self.model_work, config, [story.title_en, story.summary_en], lang)).texts
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
                await self.engines.record_problem(key, f"no summaries in {lang!r}: {e}")
                note = str(e)
            else:
                await self.engines.clear_problem(key)
                return Localized(title, summary, lang)
        else:
            note = story.enrich_error or "not summarized yet"
        summary = await asyncio.to_thread(fallback_summary, story.text, own or "und", story.title)
        return Localized(story.title, summary, own or "und", translated=own == lang, note=note)


def fallback_summary(text: str, lang: str, title: str = "") -> str:
    """The weightless summary of a story in its own language: a few of its central sentences, verbatim."""
    return summarize_extractive(text, lang, title=title) or " ".join(split_sentences(text, lang)[:3]) or title
