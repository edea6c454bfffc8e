"""The ingest stage: fetch due feeds, parse, dedupe, extract teasers' pages, store; one bad feed never stops the rest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from yarl import URL

from bot.errors import FeedError, NewsbotError
from bot.feeds.dedupe import canonical_url, decide
from bot.feeds.extract import extract_article, needs_extraction
from bot.feeds.parse import parse_feed
from bot.feeds.redirectors import is_redirector
from bot.feeds.schedule import after_error, after_success
from bot.feeds.types import Decision, Fetcher, FetchResult, ParsedEntry, Validators
from bot.service.context import Context
from bot.service.feeds import Feeds
from bot.service.notices import Notices
from bot.store.rows import FeedRow

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


class Ingest:
    def __init__(self, ctx: Context, feeds: Feeds, fetcher: Fetcher, notices: Notices) -> None:
        self.ctx = ctx
        self.feeds = feeds
        self.fetcher = fetcher
        self.notices = notices
        self._pool: Executor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def due_feeds(self, *, force: bool) -> list[FeedRow]:
        """Feeds to fetch now: enabled ones; without `force`, only those whose scheduled time has come."""
        now = self.ctx.now()
        due = []
        for feed in await self.feeds.all():
            if not feed.enabled or feed.auto_disabled:
                continue
            if force or feed.next_fetch_at is None or datetime.fromisoformat(feed.next_fetch_at) <= now:
                due.append(feed)
        return due

    async def poll(
        self, *, force: bool = False, progress: Callable[[FeedResult], None] | None = None
    ) -> list[FeedResult]:
        """Fetch, parse, dedupe, extract and store every due feed; one bad feed never stops the others."""
        feeds = await self.due_feeds(force=force)
        if len(feeds) >= POOL_THRESHOLD:
            self._ensure_pool()
        limit = asyncio.Semaphore(MAX_CONCURRENT_FEEDS)

        async def one(feed: FeedRow) -> FeedResult:
            async with limit:
                try:
                    result = await self._poll_feed(feed)
                except Exception as e:  # a bug or a storage failure costs one feed, not the poll
                    log.exception("unexpected error polling %s", feed.url)
                    result = await self._failed(feed, f"internal error: {type(e).__name__}: {e}", None)
            if progress is not None:
                progress(result)
            return result

        return list(await asyncio.gather(*(one(feed) for feed in feeds)))

    async def poll_forever(
        self, stop: asyncio.Event, *, tick: float = 30.0, on_new: Callable[[], None] | None = None
    ) -> None:
        """Poll due feeds until `stop` is set; re-reads feeds.yaml when it changes. Nothing but `stop` ends it."""
        while not stop.is_set():
            try:
                results = await self.poll()
            except NewsbotError as e:  # feeds.yaml unreadable, the database locked past its timeout...
                log.error("poll failed: %s", e)
            except Exception:
                log.exception("poll failed")
            else:
                if results:  # one line per cycle that polled anything, with what it did
                    log.info(
                        "poll: %d feeds, %d new stories, %d updated, %d not modified, %d failed",
                        len(results), sum(r.new for r in results), sum(r.updated for r in results),
                        sum(r.not_modified for r in results), sum(r.error is not None for r in results),
                    )  # fmt: skip
                if on_new is not None and any(r.new or r.updated for r in results):
                    on_new()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick)

    async def _poll_feed(self, feed: FeedRow) -> FeedResult:
        db, store = self.ctx.db, self.ctx.store
        interval = feed.interval or self.ctx.settings.poll_interval
        try:
            fetched = await self.fetcher.fetch(feed.url, feed.validators, allow_file=feed.url.startswith("file:"))
        except FeedError as e:
            return await self._failed(feed, e.reason, getattr(e, "retry_after", None))
        now = self.ctx.now()
        next_fetch_at = after_success(now, interval, max_age=fetched.max_age, retry_after=fetched.retry_after)
        if fetched.not_modified or fetched.content is None:
            if feed.content_error:  # unchanged since it failed to parse: still broken, and no need to parse again
                return await self._failed(feed, feed.last_error or "content unchanged since it failed to parse", None)
            await db(store.record_fetch_ok, feed.id, now, validators=fetched.validators, next_fetch_at=next_fetch_at)
            await self._recovered(feed)
            return FeedResult(feed.id, feed.url, feed.title or feed.feed_title, not_modified=True)
        try:
            parsed = await self._cpu(
                parse_feed, fetched.content, url=fetched.final_url, content_type=fetched.headers.get("content-type")
            )
        except FeedError as e:
            return await self._failed(feed, e.reason, None, content_validators=fetched.validators)
        if parsed.warning:
            await db(store.log_feed_problem, feed.id, now, f"parsed with a problem: {parsed.warning}")
        entries = await self._follow_redirectors(feed, parsed.entries)
        decisions = await db(self._decide, feed.id, entries)
        texts = await self._extract_pages(feed, decisions) if self.ctx.settings.extract_articles else {}
        counts = await db(store.save_entries, feed.id, decisions, self.ctx.now(), texts=texts)
        await db(
            store.record_fetch_ok,
            feed.id,
            now,
            validators=fetched.validators,
            next_fetch_at=next_fetch_at,
            feed_title=parsed.title,
            feed_lang=parsed.language,
        )
        await self._recovered(feed)
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

    async def _recovered(self, feed: FeedRow) -> None:
        if feed.down_notified:  # admins were told it was disabled: they hear, once, that it works again
            await self._tell(self.notices.feed_recovered(feed))

    def _decide(self, feed_id: int, entries: Sequence[ParsedEntry]) -> list[Decision]:  # on the SQLite thread
        store = self.ctx.store
        known = store.known_sources(feed_id, [e.guid for e in entries])
        urls = {u for e in entries if e.guid not in known and (u := canonical_url(e.url))}
        return decide(entries, known, store.known_story_urls(sorted(urls)))

    async def _follow_redirectors(self, feed: FeedRow, entries: Sequence[ParsedEntry]) -> list[ParsedEntry]:
        """New entries whose link is a redirector (feedproxy, t.co ...) take the URL it leads to; one that cannot be
        followed (or not in time) keeps its link."""
        redirected = [e for e in entries if is_redirector(e.url)]
        if not redirected:
            return list(entries)
        known = await self.ctx.db(self.ctx.store.known_sources, feed.id, [e.guid for e in redirected])
        wanted = [e for e in redirected if e.guid not in known]

        async def final_url(entry: ParsedEntry, page: FetchResult) -> str | None:
            return page.final_url

        found = await self._each_page(feed, wanted, final_url, what="redirect", late="redirects not followed in time")
        return [replace(e, url=found[e.guid]) if e.guid in found else e for e in entries]

    async def _extract_pages(self, feed: FeedRow, decisions: Sequence[Decision]) -> dict[str, str]:
        """Full text for new teaser entries: fetch each page under the fetch rules; a failure keeps the feed's text.
        A page that yields less than the feed already had is navigation or a paywall, not the article."""
        wanted = [d.entry for d in decisions if d.action in ("new", "updated") and needs_extraction(d.entry)]

        async def article(entry: ParsedEntry, page: FetchResult) -> str | None:
            if page.content is None:
                return None
            text = await self._cpu(extract_article, page.content, url=page.final_url)
            return text if text and len(text) > len(entry.text) else None

        return await self._each_page(
            feed,
            wanted,
            article,
            what="article page",
            late="article pages not fetched in time; their feed text was kept",
        )

    async def _each_page(
        self,
        feed: FeedRow,
        entries: Sequence[ParsedEntry],
        use: Callable[[ParsedEntry, FetchResult], Coroutine[Any, Any, T | None]],
        *,
        what: str,
        late: str,
    ) -> dict[str, T]:
        """Fetch each entry's link and `use` the page: guid -> what `use` made of it (None is left out).

        Links come from the feed's content, so private addresses are allowed only on the feed's own host (an intranet
        feed linking to its own pages), and the whole step has a time budget: links not done by then are left out
        (`late` says how many, in the feed's log). A failed fetch is logged as "`what` URL: reason"."""
        if not entries:
            return {}
        limit = asyncio.Semaphore(MAX_CONCURRENT_PAGES)
        # The host as aiohttp connects to it (IDNA); a file:// feed has none, so its links get no private access.
        feed_host = URL(feed.url).raw_host or ""
        db, store = self.ctx.db, self.ctx.store

        async def one(entry: ParsedEntry) -> tuple[str, T | None]:
            assert entry.url is not None
            try:
                async with limit:
                    page = await self.fetcher.fetch(entry.url, private_host=feed_host)
                return entry.guid, await use(entry, page)
            except FeedError as e:
                await db(store.log_feed_problem, feed.id, self.ctx.now(), f"{what} {entry.url}: {e.reason}")
                return entry.guid, None

        tasks = [asyncio.create_task(one(entry)) for entry in entries]
        done, unfinished = await asyncio.wait(tasks, timeout=self.ctx.settings.fetch_timeout * EXTRACTION_BUDGET)
        for task in unfinished:
            task.cancel()
        if unfinished:
            await db(store.log_feed_problem, feed.id, self.ctx.now(), f"{len(unfinished)} {late}")
        found: dict[str, T] = {}
        for task in done:
            if task.exception() is not None:  # a bug in one page's handling must not cost the feed its entries
                log.error("%s failed", what, exc_info=task.exception())
                continue
            guid, value = task.result()
            if value is not None:
                found[guid] = value
        return found

    async def _failed(
        self,
        feed: FeedRow,
        reason: str,
        retry_after: float | None,
        *,
        content_validators: Validators | None = None,
    ) -> FeedResult:
        """Record a feed's failure and back it off; if even that cannot be stored, the failure is still reported."""
        now = self.ctx.now()
        state = after_error(
            now,
            feed.interval or self.ctx.settings.poll_interval,
            feed.error_count,
            max_failures=self.ctx.settings.max_failures,
            retry_after=retry_after,
        )
        try:
            disabled_now = await self.ctx.db(
                self.ctx.store.record_fetch_error,
                feed.id,
                now,
                message=reason,
                error_count=state.error_count,
                next_fetch_at=state.next_fetch_at,
                disable=state.disable,
                content_validators=content_validators,
            )
        except NewsbotError as e:
            log.error("could not record the failure of %s (%s): %s", feed.url, reason, e)
            return FeedResult(feed.id, feed.url, feed.title or feed.feed_title, error=f"{reason} (not recorded: {e})")
        if disabled_now:  # this failure disabled it (the database says so, whichever process got there): tell once
            log.warning("feed %s disabled after %d consecutive failures: %s", feed.url, state.error_count, reason)
            await self._tell(self.notices.feed_disabled(feed, reason, state.error_count))
        return FeedResult(feed.id, feed.url, feed.title or feed.feed_title, error=reason)

    async def _tell(self, notice: Coroutine[Any, Any, None]) -> None:
        """A notice that cannot be queued is logged; it never turns the poll of a feed into a failure."""
        try:
            await notice
        except Exception:
            log.exception("could not queue a notice for the admins")

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


def _call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    return fn(*args, **kwargs)
