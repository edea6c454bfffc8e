"""The articles stage (📖): a story's whole extracted text in a reader's language, translated from its English pivot at
interactive priority and cached per (story, language, engine fingerprint); the story's own language gets the original,
and without a model the original is given, said to be untranslated and why. It also checks what a press may do: a
callback names a story, and who pressed may not be owed it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime

from bot.errors import ModelError, StaleChoiceError
from bot.feeds.parse import is_teaser
from bot.service.context import Context
from bot.service.engines import Engines
from bot.service.localize import english_route, from_english
from bot.service.model_work import ModelWork
from bot.service.preferences import Preferences
from bot.store.rows import StoryRow
from summarizer.types import UNDETERMINED


@dataclass(frozen=True)
class ArticleView:
    """A story's whole text for one reader: `translated` False means title and text are the original, in `lang`."""

    story_id: int
    title: str
    text: str  # paragraphs on their own lines
    lang: str  # the language title and text are in
    link: str | None
    sources: tuple[str, ...]
    published: datetime | None
    translated: bool = True
    note: str | None = None  # why it is not in the reader's language
    teaser: bool = False  # the feed gave only a teaser and no article page could be extracted


@dataclass(frozen=True)
class Viewed:
    """An article view sent: which subscription it was opened from, which story, and who opened it."""

    subscription_id: int
    story_id: int
    user_id: int


class Articles:
    def __init__(self, ctx: Context, engines: Engines, model_work: ModelWork, preferences: Preferences) -> None:
        self.ctx = ctx
        self.engines = engines
        self.model_work = model_work
        self.preferences = preferences

    async def story(self, story_id: int) -> StoryRow | None:
        return await self.ctx.db(self.ctx.store.get_story, story_id)

    async def owed(self, subscription_id: int, story_id: int) -> bool:
        """Whether this subscription may open the story from a button: one of its digests carried it."""
        return await self.ctx.db(self.ctx.store.was_delivered, subscription_id, story_id)

    async def instant(self, story: StoryRow, lang: str) -> bool:
        """Whether the view needs no model work (the original, the English pivot, or cached): no "translating…"."""
        plan = _plan(story, lang)
        if plan != "translate":
            return True
        return await self._cached(story, lang) is not None

    async def view(self, story: StoryRow, lang: str) -> ArticleView:
        """The whole article for a reader of `lang`, whatever state the models are in: never nothing."""
        plan = _plan(story, lang)
        own = story.lang if story.lang and story.lang != UNDETERMINED else "und"
        base = ArticleView(
            story_id=story.id,
            title=story.title,
            text=story.text,
            lang=own,
            link=story.link,
            sources=_sources(story),
            published=_published(story),
            translated=own == lang,
            teaser=not story.extracted and is_teaser(story.text),
        )
        if plan == "original":
            return base
        if plan == "pivot":
            return _with(base, story.title_en or story.title, story.text_en or story.text, "en")
        if plan != "translate":
            return _with(base, note=plan)
        try:
            title, text = await self._translated(story, lang)
        except ModelError as e:
            return _with(base, note=str(e))
        return _with(base, title, text, lang)

    async def _cached(self, story: StoryRow, lang: str) -> tuple[str, str] | None:
        fingerprint = await self.engines.fingerprint()
        return await self.ctx.db(self.ctx.store.cached_article, story.id, lang, fingerprint, story.content_hash)

    async def _translated(self, story: StoryRow, lang: str) -> tuple[str, str]:
        """The English pivot translated into `lang`, cached; ModelError when no model can."""
        assert story.title_en is not None and story.text_en is not None
        fingerprint = await self.engines.fingerprint()
        cached = await self.ctx.db(self.ctx.store.cached_article, story.id, lang, fingerprint, story.content_hash)
        if cached is not None:
            return cached
        config = await self.model_work.ready()
        if config.backend == "extractive":
            raise ModelError("the extractive backend does not translate")
        english_route(config, lang)
        translation = await from_english(self.model_work, config, [story.title_en, story.text_en], lang)
        title, text = translation.texts
        await self.ctx.db(
            self.ctx.store.save_article,
            story.id,
            lang,
            fingerprint,
            story.content_hash,
            translation.model,
            title,
            text,
            self.ctx.now(),
        )
        return title, text

    async def record_view(self, chat_id: int, message_id: int, viewed: Viewed) -> None:
        """The message that ends an article view, so that its 👍 👎 🔇 act for `viewed` and nothing else."""
        await self.ctx.db(
            self.ctx.store.record_view,
            chat_id,
            message_id,
            viewed.subscription_id,
            viewed.story_id,
            viewed.user_id,
            self.ctx.now(),
        )

    async def vote_of(self, viewed: Viewed) -> int:
        return await self.preferences.vote_of(viewed.subscription_id, viewed.user_id, viewed.story_id)

    async def opened(self, viewed: Viewed) -> None:
        """Opening an article is a mild liking of it (nothing, when the story or subscription went meanwhile)."""
        with contextlib.suppress(StaleChoiceError):
            await self.preferences.opened(viewed.subscription_id, viewed.user_id, viewed.story_id)

    async def view_under(self, chat_id: int, message_id: int) -> Viewed | None:
        """The article view that message ends (its subscription still active), or None: a forged or stale press."""
        found = await self.ctx.db(self.ctx.store.view_of, chat_id, message_id)
        return Viewed(*found) if found else None


def _plan(story: StoryRow, lang: str) -> str:
    """ "original", "pivot" (the stored English), "translate", or why the original is given untranslated."""
    own = story.lang if story.lang and story.lang != UNDETERMINED else None
    if own == lang:
        return "original"
    if not story.enriched:
        return story.enrich_error or "not processed by the language models yet"
    if story.translated is False or story.text_en is None or story.title_en is None:
        return "the extractive backend does not translate"
    if lang == "en":
        return "pivot"
    return "translate"


def _with(
    view: ArticleView,
    title: str | None = None,
    text: str | None = None,
    lang: str | None = None,
    note: str | None = None,
) -> ArticleView:
    if lang is None:
        return replace(view, note=note)
    return replace(view, title=title or view.title, text=text or view.text, lang=lang, translated=True, note=None)


def _sources(story: StoryRow) -> tuple[str, ...]:
    names: list[str] = []
    for source in story.sources:
        name = source.feed_title or source.feed_url
        if name not in names:
            names.append(name)
    return tuple(names)


def _published(story: StoryRow) -> datetime | None:
    try:
        return datetime.fromisoformat(story.published or story.created_at)
    except ValueError:
        return None
