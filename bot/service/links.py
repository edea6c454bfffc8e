"""A link, summarized: a page a reader sends (/summarize URL, or a link alone in a private chat) is fetched under the
fetch rules and the SSRF guard (as /addfeed's are), its article extracted, detected, pivoted and summarized by the
engine at interactive priority, and given in the reader's language; its whole text too, on request. Pages are cached
by canonical URL in tables of their own: a page is never a story, so it enters no digest, search or /ask answer."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.errors import FeedError, HTTPStatusError, ModelError, PageError, UnsafeURLError
from bot.feeds.dedupe import canonical_url
from bot.feeds.extract import extract_page
from bot.feeds.types import Fetcher
from bot.service.context import Context
from bot.service.engines import Engines
from bot.service.localize import english_route, fallback_summary, from_english
from bot.service.model_work import DetectJob, EnrichJob, ModelWork, Priority
from bot.store.pages import NewPage, PageRow
from summarizer.types import Article, Enriched

log = logging.getLogger(__name__)

# A page asked for again within this time is answered from the cache; after it, fetched (and summarized) again.
FRESH_FOR = timedelta(hours=24)
# Past this much article text a page is a book, not an article: translating it would hold the engine for minutes.
MAX_TEXT_CHARS = 60_000
HTML_TYPES = ("text/html", "application/xhtml+xml")
EXTRACTIVE_NOTE = "the extractive backend does not translate"


@dataclass(frozen=True)
class PageView:
    """A page for one reader: title and body (its summary, or its whole text) in `lang`; `translated` False: the
    page's own text, in `lang`, because `note`."""

    page_id: int
    title: str
    body: str
    link: str
    lang: str
    translated: bool = True
    note: str | None = None


class Links:
    def __init__(self, ctx: Context, engines: Engines, model_work: ModelWork, fetcher: Fetcher) -> None:
        self.ctx = ctx
        self.engines = engines
        self.model_work = model_work
        self.fetcher = fetcher

    async def summarize(self, url: str, lang: str, *, chat_id: int | None = None) -> PageView:
        """The page at `url` summarized in `lang` for `chat_id` (who may then open its whole text; None: the command
        line): from the cache when it was fetched lately, else fetched, extracted and enriched now. PageError says
        why it cannot be."""
        url = url.strip()
        key = canonical_url(url) if urlsplit(url).scheme.lower() in ("http", "https") else None
        if key is None:
            raise PageError(url, "not_web")
        page = await self.ctx.db(self.ctx.store.page_by_url, key)
        if page is None or self._stale(page):
            page = await self._fetch_page(url, key)
        if chat_id is not None:
            await self.ctx.db(self.ctx.store.add_page_reader, page.id, chat_id, self.ctx.now())
        return await self._summary_in(page, lang)

    async def readable(self, page_id: int, chat_id: int) -> PageRow | None:
        """The page, if `chat_id` asked for it (callback data names a page; only its readers may open it)."""
        if not await self.ctx.db(self.ctx.store.is_page_reader, page_id, chat_id):
            return None
        return await self.ctx.db(self.ctx.store.page, page_id)

    async def text_ready(self, page: PageRow, lang: str) -> bool:
        """Whether `text_in` can answer without the engine (no translation to make)."""
        if lang == page.lang or not page.translated or lang == "en":
            return True
        try:
            model = english_route(await self.model_work.ready(), lang)
        except ModelError:
            return True  # nothing would translate it: the original comes at once
        return await self.ctx.db(self.ctx.store.page_translation, page.id, lang, "text", model) is not None

    async def text_in(self, page: PageRow, lang: str) -> PageView:
        """The page's whole text in `lang` (translated from its English pivot, cached); the original, said to be so,
        when no model can translate it."""
        if lang == page.lang:
            return PageView(page.id, page.title, page.text, page.link, page.lang)
        if not page.translated:
            return PageView(page.id, page.title, page.text, page.link, page.lang, False, EXTRACTIVE_NOTE)
        if lang == "en":
            return PageView(page.id, page.title_en, page.text_en, page.link, "en")
        try:
            title, text = await self._translated(page, lang, "text", page.text_en)
        except ModelError as e:
            await self.engines.record_problem(f"translate:en-{lang}", f"no pages in {lang!r}: {e}")
            return PageView(page.id, page.title, page.text, page.link, page.lang, False, str(e))
        return PageView(page.id, title, text, page.link, lang)

    def _stale(self, page: PageRow) -> bool:
        return datetime.fromisoformat(page.fetched_at) < self.ctx.now() - FRESH_FOR

    async def _fetch_page(self, url: str, key: str) -> PageRow:
        content, link = await self._download(url)
        title, text = await asyncio.to_thread(extract_page, content, url=link)
        if not text:
            raise PageError(url, "no_text")
        if len(text) > MAX_TEXT_CHARS:
            raise PageError(url, "too_big", f"{len(text)} characters of text")
        title = title or text.split("\n", 1)[0][:120]
        enriched = await self._enrich(title, text)
        page = NewPage(
            url=key,
            link=link,
            title=title,
            text=text,
            lang=enriched.lang,
            title_en=enriched.title_en,
            text_en=enriched.text_en,
            summary_en=enriched.summary_en,
            translated=enriched.translated,
        )
        now = self.ctx.now()
        forget = now - timedelta(days=self.ctx.settings.retention_days)
        return await self.ctx.db(self.ctx.store.save_page, page, now, forget_before=forget)

    async def _download(self, url: str) -> tuple[bytes, str]:
        """(body, final URL) of an HTML page, under the fetch rules; never a file:// URL, whoever asks."""
        try:
            fetched = await self.fetcher.fetch(url, allow_file=False)
        except UnsafeURLError as e:
            raise PageError(url, "private" if "SSRF" in e.reason else "unsafe", e.reason) from e
        except HTTPStatusError as e:
            raise PageError(url, "not_found" if e.status in (404, 410) else "http", e.reason) from e
        except FeedError as e:
            if e.reason.startswith("timed out"):
                kind = "timeout"
            elif e.reason.startswith("response larger than"):
                kind = "too_big"
            else:
                kind = "unreachable"
            raise PageError(url, kind, e.reason) from e
        media = fetched.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media and media not in HTML_TYPES:
            raise PageError(url, "not_html", media)
        return fetched.content or b"", fetched.final_url

    async def _enrich(self, title: str, text: str) -> Enriched:
        """Detected, pivoted into English and summarized ahead of the enrichment backlog; without a summarizer (or
        when it fails) detected alone and summarized by sentence ranking in its own language."""
        reason: str
        try:
            config = await self.model_work.ready()
        except ModelError as e:
            reason = str(e)
        else:
            job = EnrichJob(config, [Article(title, text)], priority=Priority.INTERACTIVE)
            [result] = await self.model_work.enrich(job)
            if isinstance(result, Enriched):
                return result
            reason = result
        log.warning("page summarized without the models: %s", reason)
        languages = list((await self.engines.config()).languages)
        [found] = await self.model_work.detect(DetectJob(languages, [f"{title}\n{text}"], [None]))
        summary = await asyncio.to_thread(fallback_summary, text, found.lang, title)
        return Enriched(found.lang, found.confidence, title, text, summary, translated=False)

    async def _summary_in(self, page: PageRow, lang: str) -> PageView:
        if not page.translated:
            note = None if page.lang == lang else EXTRACTIVE_NOTE
            return PageView(page.id, page.title, page.summary_en, page.link, page.lang, page.lang == lang, note)
        if lang == "en":
            return PageView(page.id, page.title_en, page.summary_en, page.link, "en")
        try:
            title, summary = await self._translated(page, lang, "summary", page.summary_en)
        except ModelError as e:
            await self.engines.record_problem(f"translate:en-{lang}", f"no page summaries in {lang!r}: {e}")
            summary = await asyncio.to_thread(fallback_summary, page.text, page.lang, page.title)
            return PageView(page.id, page.title, summary, page.link, page.lang, page.lang == lang, str(e))
        return PageView(page.id, title, summary, page.link, lang)

    async def _translated(self, page: PageRow, lang: str, part: str, body_en: str) -> tuple[str, str]:
        """(title, `body_en`) translated from English into `lang` at interactive priority, cached per (page,
        language, part, model); a reader of the page's own language gets its headline as published."""
        config = await self.model_work.ready()
        model = english_route(config, lang)
        cached = await self.ctx.db(self.ctx.store.page_translation, page.id, lang, part, model)
        if cached is not None:
            return cached
        title, body = (await from_english(self.model_work, config, [page.title_en, body_en], lang)).texts
        if lang == page.lang:
            title = page.title
        await self.ctx.db(self.ctx.store.save_page_translation, page.id, lang, part, model, title, body, self.ctx.now())
        return title, body
