"""The one facade the front-ends call: ingest (poll), the feed list, stories. No SQL, no telegram, no argument parsing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from bot.config import Settings
from bot.errors import ConfigError, FeedError, ModelError, NewsbotError, UnknownFeedError, UnsafeURLError
from bot.feeds import feedlist, opml
from bot.feeds.dedupe import Decision, canonical_url, content_hash, decide
from bot.feeds.extract import extract_article, needs_extraction
from bot.feeds.fetch import make_fetcher
from bot.feeds.parse import parse_feed
from bot.feeds.schedule import after_error, after_success
from bot.feeds.types import Fetcher, ParsedEntry, ParsedFeed, Validators
from bot.feeds.urlsafety import check_url
from bot.store import Store, open_store
from bot.store.db import FeedRow, StoryRow
from summarizer.engine import make_engine, translation_model
from summarizer.errors import EngineError
from summarizer.types import Article, Engine, Enriched

log = logging.getLogger(__name__)

T = TypeVar("T")

# Feeds fetched at once; the fetcher also limits connections per host.
MAX_CONCURRENT_FEEDS = 16
# Article pages fetched at once for one feed's teasers.
MAX_CONCURRENT_PAGES = 4
# Below this many feeds a process pool costs more to start than it saves.
POOL_THRESHOLD = 4
# Article pages of one feed get this many fetch timeouts in all; the rest keep the feed's own text.
EXTRACTION_BUDGET = 2
# A story whose enrichment failed this often waits for its text to change (or an admin) instead of failing again.
MAX_ENRICH_ATTEMPTS = 3


@dataclass(frozen=True)
class FeedResult:
    """What one poll did to one feed (reader's UpdateResult: a value or an error, never an exception)."""

    feed_id: int
    url: str
    title: str | None
    error: str | None = None
    not_modified: bool = False
    new: int = 0
    merged: int = 0
    updated: int = 0
    unchanged: int = 0
    extracted: int = 0
    warning: str | None = None

    @property
    def outcome(self) -> str:
        if self.error:
            return "error"
        return "not modified" if self.not_modified else "ok"


@dataclass(frozen=True)
class EnrichReport:
    done: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # distinct reasons, for the admin


@dataclass(frozen=True)
class ImportReport:
    added: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, why)


class Service:
    def __init__(
        self,
        settings: Settings,
        *,
        store: Store,
        fetcher: Fetcher,
        now: Callable[[], datetime],
        engine: Engine | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.now = now
        self._engine = engine
        self._engine_lock = threading.Lock()
        self._pool: Executor | None = None
        self._feed_list: feedlist.FeedList | None = None
        self._feed_list_mtime: int | None = None

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self.store.close()

    # -- the feed list -------------------------------------------------------------------------------------------
    def sync_feed_list(self, *, force: bool = False) -> feedlist.FeedList:
        """The validated feeds.yaml, mirrored into the store; re-read only when the file changed (or `force`)."""
        path = self.settings.feeds
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            mtime = None  # load_feed_list says what is wrong with the path
        if force or self._feed_list is None or mtime != self._feed_list_mtime:
            try:
                loaded = feedlist.load_feed_list(path)
            except ConfigError:
                if self._feed_list is None or force:
                    raise
                # An admin's half-finished edit must not stop polling: keep the last good list, say why once.
                log.error("%s is invalid; polling with its last valid version", path, exc_info=True)
                self._feed_list_mtime = mtime
                return self._feed_list
            self.store.sync_feeds(((f.url, f.title, f.lang, f.interval, f.enabled) for f in loaded.feeds), self.now())
            self._feed_list, self._feed_list_mtime = loaded, mtime
        return self._feed_list

    def feeds(self) -> list[FeedRow]:
        self.sync_feed_list()
        return self.store.list_feeds()

    def feed(self, id_or_url: str | int) -> FeedRow:
        self.sync_feed_list()
        key: str | int = int(id_or_url) if isinstance(id_or_url, str) and id_or_url.isdigit() else id_or_url
        found = self.store.get_feed(key)
        if found is None and isinstance(key, str):  # the URL as the admin typed it: compare as the feed list does
            wanted = feedlist.normalize_url(key)
            found = next((f for f in self.store.list_feeds() if feedlist.normalize_url(f.url) == wanted), None)
        if found is None:
            raise UnknownFeedError(f"no feed with id or URL {id_or_url!r}; `newsbot feeds list` shows them")
        return found

    async def check_new_feed(self, url: str, *, allow_file: bool) -> ParsedFeed:
        """Fetch and parse a feed once, so a typo fails now and not at the next poll.

        The fetcher's guard refuses unsafe URLs (and redirects to them) before any request is sent.
        """
        result = await self.fetcher.fetch(url, allow_file=allow_file)
        if result.content is None:  # a first fetch sends no validators; a 304 here is a broken server
            raise FeedError(url, f"HTTP {result.status} without a body")
        return await self._cpu(
            parse_feed, result.content, url=result.final_url, content_type=result.headers.get("content-type")
        )

    async def add_feed(
        self, url: str, *, title: str | None = None, lang: str | None = None, allow_file: bool = False
    ) -> FeedRow:
        url = url.strip()
        try:
            feedlist.check_feed_url(url, allow_file=allow_file)
        except ValueError as e:
            raise ConfigError(f"cannot add {url!r}: {e}") from e
        feedlist.ensure_not_listed(self.settings.feeds, url)
        parsed = await self.check_new_feed(url, allow_file=allow_file)
        feedlist.add_feed(self.settings.feeds, url, title=title or parsed.title, lang=lang, allow_file=allow_file)
        row = self.feed(url)
        self.store.reset_feed(row.id)  # a feed removed after failing and added again starts with a clean slate
        return self.feed(row.id)

    def remove_feed(self, id_or_url: str | int) -> FeedRow:
        row = self.feed(id_or_url)
        feedlist.remove_feed(self.settings.feeds, row.url)
        self.sync_feed_list(force=True)
        return row

    def set_feed_enabled(self, id_or_url: str | int, enabled: bool) -> FeedRow:
        row = self.feed(id_or_url)
        feedlist.set_enabled(self.settings.feeds, row.url, enabled)
        if enabled:
            self.store.reset_feed(row.id)
        return self.feed(row.id)

    async def import_opml(self, data: bytes) -> ImportReport:
        """Add every feed of an OPML file that passes the URL guard and the list's rules; the rest are reported.

        OPML files come from elsewhere: file:// outlines are refused even on the command line.
        """
        report = ImportReport()
        accepted: list[opml.OpmlFeed] = []
        for outline in opml.parse_opml(data):
            try:
                await check_url(outline.url, allow_private=self.settings.allow_private_urls, resolver=_no_dns)
            except UnsafeURLError as e:
                report.skipped.append((outline.url, e.reason))
                continue
            except FeedError:
                pass  # a name needs DNS to judge; every fetch runs the full guard, so judging it now adds nothing
            accepted.append(outline)
        for result in feedlist.add_feeds(self.settings.feeds, accepted):
            if result.error:
                report.skipped.append((result.url, result.error))
            else:
                report.added.append(result.url)
        self.sync_feed_list(force=True)
        return report

    def export_opml(self) -> bytes:
        return opml.export_opml(self.sync_feed_list().feeds)

    # -- ingest ---------------------------------------------------------------------------------------------------
    def due_feeds(self, *, force: bool) -> list[FeedRow]:
        """Feeds to fetch now: enabled ones; without `force`, only those whose scheduled time has come."""
        now = self.now()
        due = []
        for feed in self.feeds():
            if not feed.enabled or feed.auto_disabled:
                continue
            if force or feed.next_fetch_at is None or datetime.fromisoformat(feed.next_fetch_at) <= now:
                due.append(feed)
        return due

    async def poll(
        self, *, force: bool = False, progress: Callable[[FeedResult], None] | None = None
    ) -> list[FeedResult]:
        """Fetch, parse, dedupe, extract and store every due feed; one bad feed never stops the others."""
        feeds = self.due_feeds(force=force)
        if len(feeds) >= POOL_THRESHOLD:
            self._ensure_pool()
        limit = asyncio.Semaphore(MAX_CONCURRENT_FEEDS)

        async def one(feed: FeedRow) -> FeedResult:
            async with limit:
                try:
                    result = await self._poll_feed(feed)
                except Exception as e:  # a bug must cost one feed, not the poll; it is recorded like any failure
                    log.exception("unexpected error polling %s", feed.url)
                    result = self._failed(feed, f"internal error: {type(e).__name__}: {e}", None)
            if progress is not None:
                progress(result)
            return result

        return list(await asyncio.gather(*(one(feed) for feed in feeds)))

    async def poll_forever(self, stop: asyncio.Event, *, tick: float = 30.0) -> None:
        """Poll due feeds and summarize what is new until `stop` is set; re-reads feeds.yaml when it changes."""
        model_problem = None
        while not stop.is_set():
            try:
                await self.poll()
            except NewsbotError as e:
                log.error("poll failed: %s", e)
            try:
                await self.enrich()
                model_problem = None
            except ModelError as e:
                if str(e) != model_problem:  # said once, not every tick
                    log.error("stories are stored but not summarized: %s", e)
                model_problem = str(e)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick)

    async def _poll_feed(self, feed: FeedRow) -> FeedResult:
        interval = feed.interval or self.settings.poll_interval
        try:
            fetched = await self.fetcher.fetch(feed.url, feed.validators, allow_file=feed.url.startswith("file:"))
        except FeedError as e:
            return self._failed(feed, e.reason, getattr(e, "retry_after", None))
        now = self.now()
        next_fetch_at = after_success(now, interval, max_age=fetched.max_age, retry_after=fetched.retry_after)
        if fetched.not_modified or fetched.content is None:
            if feed.content_error:  # unchanged since it failed to parse: still broken, and no need to parse again
                return self._failed(feed, feed.last_error or "content unchanged since it failed to parse", None)
            self.store.record_fetch_ok(feed.id, now, validators=fetched.validators, next_fetch_at=next_fetch_at)
            return FeedResult(feed.id, feed.url, feed.title or feed.feed_title, not_modified=True)
        try:
            parsed = await self._cpu(
                parse_feed, fetched.content, url=fetched.final_url, content_type=fetched.headers.get("content-type")
            )
        except FeedError as e:
            return self._failed(feed, e.reason, None, content_validators=fetched.validators)
        if parsed.warning:
            self.store.log_feed_problem(feed.id, now, f"parsed with a problem: {parsed.warning}")
        decisions = self._decide(feed.id, parsed.entries)
        texts = await self._extract_pages(feed, decisions) if self.settings.extract_articles else {}
        counts = self.store.save_entries(feed.id, decisions, self.now(), texts=texts)
        self.store.record_fetch_ok(
            feed.id, now, validators=fetched.validators, next_fetch_at=next_fetch_at, feed_title=parsed.title
        )
        return FeedResult(
            feed.id,
            feed.url,
            feed.title or parsed.title,
            new=counts.new,
            merged=counts.merged,
            updated=counts.updated,
            unchanged=counts.unchanged,
            extracted=len(texts),
            warning=parsed.warning,
        )

    def _decide(self, feed_id: int, entries: Sequence[ParsedEntry]) -> list[Decision]:
        known = self.store.known_sources(feed_id, [e.guid for e in entries])
        urls = {u for e in entries if e.guid not in known and (u := canonical_url(e.url))}
        return decide(entries, known, self.store.known_story_urls(sorted(urls)))

    async def _extract_pages(self, feed: FeedRow, decisions: Sequence[Decision]) -> dict[str, str]:
        """Full text for new teaser entries: fetch each page under the fetch rules; a failure keeps the feed's text.

        Links come from the feed's content, so private addresses are allowed only on the feed's own host (an intranet
        feed linking to its own pages), and the whole step has a time budget: pages not done by then keep their teaser.
        """
        wanted = [d.entry for d in decisions if d.action in ("new", "updated") and needs_extraction(d.entry)]
        if not wanted:
            return {}
        limit = asyncio.Semaphore(MAX_CONCURRENT_PAGES)
        feed_host = urlsplit(feed.url).hostname

        async def one(entry: ParsedEntry) -> tuple[str, str | None]:
            assert entry.url is not None
            try:
                async with limit:
                    page = await self.fetcher.fetch(entry.url, allow_private=urlsplit(entry.url).hostname == feed_host)
                if page.content is None:
                    return entry.guid, None
                text = await self._cpu(extract_article, page.content, url=page.final_url)
            except FeedError as e:
                self.store.log_feed_problem(feed.id, self.now(), f"article page {entry.url}: {e.reason}")
                return entry.guid, None
            # A page that yields less than the feed already had is navigation or a paywall, not the article.
            return entry.guid, text if text and len(text) > len(entry.text) else None

        tasks = [asyncio.create_task(one(entry)) for entry in wanted]
        done, late = await asyncio.wait(tasks, timeout=self.settings.fetch_timeout * EXTRACTION_BUDGET)
        for task in late:
            task.cancel()
        if late:
            self.store.log_feed_problem(
                feed.id, self.now(), f"{len(late)} article pages not fetched in time; their feed text was kept"
            )
        texts = {}
        for task in done:
            if task.exception() is not None:  # a bug in one page's handling must not cost the feed its entries
                log.error("article extraction failed", exc_info=task.exception())
                continue
            guid, text = task.result()
            if text:
                texts[guid] = text
        return texts

    def _failed(
        self,
        feed: FeedRow,
        reason: str,
        retry_after: float | None,
        *,
        content_validators: Validators | None = None,
    ) -> FeedResult:
        now = self.now()
        state = after_error(
            now,
            feed.interval or self.settings.poll_interval,
            feed.error_count,
            max_failures=self.settings.max_failures,
            retry_after=retry_after,
        )
        self.store.record_fetch_error(
            feed.id,
            now,
            message=reason,
            error_count=state.error_count,
            next_fetch_at=state.next_fetch_at,
            disable=state.disable,
            content_validators=content_validators,
        )
        if state.disable:
            log.warning("feed %s disabled after %d consecutive failures: %s", feed.url, state.error_count, reason)
        return FeedResult(feed.id, feed.url, feed.title or feed.feed_title, error=reason)

    def _ensure_pool(self) -> None:
        if self._pool is None:
            # forkserver: forking this process (event loop, sqlite, maybe torch threads) is unsafe.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["bot.feeds.parse", "bot.feeds.extract"])
            # The CPUs this process may use (a container's share), not the host's count.
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)

    async def _cpu(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """CPU-bound pure work (parsing, extraction) off the event loop: in the process pool when one is running.

        A worker killed mid-task (out of memory, a crash in a C parser on hostile input) breaks the pool; it is
        replaced and the task tried once more, so one poison feed costs itself, not every later poll.
        """
        if self._pool is None:
            return await asyncio.to_thread(fn, *args, **kwargs)
        try:
            return await self._in_pool(fn, args, kwargs)
        except BrokenProcessPool:
            log.warning("a worker process died; starting a new pool and trying once more")
            try:
                return await self._in_pool(fn, args, kwargs)
            except BrokenProcessPool as e:
                raise FeedError(str(kwargs.get("url", "")), "the worker process died while handling it") from e

    async def _in_pool(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        pool = self._pool
        assert pool is not None
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, _call, fn, args, kwargs)
        except BrokenProcessPool:
            if self._pool is pool:  # the first task to notice replaces it; the others just retry
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self._ensure_pool()
            raise

    # -- enrichment -----------------------------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The language engine the settings and feeds.yaml describe, built on first need (models load lazily)."""
        with self._engine_lock:
            if self._engine is None:
                try:
                    self._engine = make_engine(feedlist.engine_config(self.sync_feed_list(), self.settings))
                except EngineError as e:
                    raise ModelError(str(e)) from e
            return self._engine

    def pending_enrichment(self) -> int:
        return self.store.count_to_enrich(max_attempts=MAX_ENRICH_ATTEMPTS)

    async def enrich(self, *, progress: Callable[[int], None] | None = None) -> EnrichReport:
        """Detect, translate to English and summarize every story whose current text has not been; resumable.

        Model work runs in a thread (torch releases the GIL), batch by batch, so the event loop stays responsive.
        A missing model stops nothing else: its stories record the error and the rest go on.
        """
        engine = self.engine
        done = failed = 0
        errors: list[str] = []
        while batch := self.store.stories_to_enrich(engine.config.batch_size, max_attempts=MAX_ENRICH_ATTEMPTS):
            articles = [Article(title=title, text=text, lang_hint=hint) for _, title, text, hint in batch]
            try:
                results: list[Enriched | str] = list(await asyncio.to_thread(engine.process_many, articles))
            except Exception:  # one bad article (or one missing pair model) must not sink its batch-mates
                results = [await asyncio.to_thread(_enrich_one, engine, article) for article in articles]
            for (story_id, title, text, _), result in zip(batch, results, strict=True):
                if isinstance(result, str):
                    self.store.record_enrich_failure([story_id], result)
                    failed += 1
                    if result not in errors:
                        errors.append(result)
                    continue
                self.store.save_enrichment(
                    story_id,
                    self.now(),
                    lang=result.lang,
                    lang_confidence=result.lang_confidence,
                    title_en=result.title_en,
                    text_en=result.text_en,
                    summary_en=result.summary_en,
                    translated=result.translated,
                    models=result.models,
                    source_hash=content_hash(title, text),
                )
                done += 1
            if progress is not None:
                progress(len(batch))
        return EnrichReport(done=done, failed=failed, errors=errors)

    async def summary_in(self, story: StoryRow, lang: str) -> tuple[str, str]:
        """(title, summary) of an enriched story in `lang`, translated on first need and cached.

        The story's own language gets its original title; English is the pivot itself.
        """
        if not story.enriched or story.summary_en is None or story.title_en is None:
            raise NewsbotError(f"story {story.id} is not summarized yet: run `newsbot poll --once` or wait for it")
        if lang == "en":
            return story.title_en, story.summary_en
        engine = self.engine
        model = translation_model(engine.config, "en", lang) if story.translated is not False else "none"
        cached = self.store.cached_translation(story.id, lang, story.content_hash, model)
        if cached is not None:
            return cached
        try:
            translation = await asyncio.to_thread(engine.translate, [story.title_en, story.summary_en], "en", lang)
        except EngineError as e:
            raise ModelError(str(e)) from e
        title, summary = translation.texts
        if lang == story.lang:
            title = story.title  # a reader of the source language gets the headline as published
        self.store.save_translation(story.id, lang, story.content_hash, model, title, summary, self.now())
        return title, summary

    # -- stories --------------------------------------------------------------------------------------------------
    def stories(self, *, since: datetime | None = None, limit: int | None = None) -> list[StoryRow]:
        return self.store.list_stories(since=since, limit=limit)

    def story(self, id_or_url: str | int) -> StoryRow | None:
        if isinstance(id_or_url, int) or id_or_url.isdigit():
            return self.store.get_story(int(id_or_url))
        # A pasted link may carry tracking parameters or a fragment: look it up as dedupe stored it.
        return self.store.get_story(canonical_url(id_or_url) or id_or_url) or self.store.get_story(id_or_url)


async def _no_dns(host: str) -> list[str]:
    """A resolver that knows nothing: the guard then judges only what needs no lookup (literal addresses, localhost)."""
    raise OSError(f"{host} not looked up")


def _enrich_one(engine: Engine, article: Article) -> Enriched | str:
    try:
        return engine.process(article)
    except Exception as e:  # recorded on the story, shown by `stories show`; the poll goes on
        log.warning("enrichment failed: %s", e)
        return str(e) if isinstance(e, EngineError) else f"{type(e).__name__}: {e}"


def _call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    return fn(*args, **kwargs)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def make_service(
    settings: Settings,
    *,
    store: Store | None = None,
    fetcher: Fetcher | None = None,
    now: Callable[[], datetime] | None = None,
    engine: Engine | None = None,
) -> Service:
    """Wire the service from settings; tests inject any collaborator."""
    return Service(
        settings,
        engine=engine,
        store=store or open_store(settings.db),
        fetcher=fetcher or make_fetcher(settings),
        now=now or _utcnow,
    )
