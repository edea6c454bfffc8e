"""The feed list stage: feeds.yaml mirrored into the store, feed edits (CLI and admin commands alike), OPML."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from bot.errors import ConfigError, FeedError, UnknownFeedError, UnsafeURLError
from bot.feedlist import edit, load, opml, schema
from bot.feeds.parse import parse_feed
from bot.feeds.types import Fetcher, ParsedFeed
from bot.feeds.urlsafety import check_url
from bot.service.context import Context
from bot.store.rows import FeedRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportReport:
    added: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, why)


@dataclass(frozen=True)
class Source:
    """A feed as /sources shows it: its name, its link, and the language of its stories."""

    id: int
    name: str
    url: str
    lang: str | None  # feeds.yaml's hint, else the most common detected language of its stories
    enabled: bool


class Feeds:
    """The feeds stage: feeds.yaml (bot/feedlist/) kept in step with the store, and every edit of it."""

    def __init__(self, ctx: Context, fetcher: Fetcher) -> None:
        self.ctx = ctx
        self.fetcher = fetcher
        self._loaded: schema.FeedList | None = None
        self._loaded_mtime: int | None = None

    async def sync(self, *, force: bool = False) -> schema.FeedList:
        """The validated feeds.yaml, mirrored into the store; re-read only when the file changed (or `force`)."""
        return await self.ctx.db(self._sync, force)

    def _sync(self, force: bool) -> schema.FeedList:  # on the SQLite thread: file and mirror change together
        path = self.ctx.settings.feeds
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            mtime = None  # load_feed_list says what is wrong with the path
        if force or self._loaded is None or mtime != self._loaded_mtime:
            try:
                loaded = load.load_feed_list(path)
            except ConfigError:
                if self._loaded is None or force:
                    raise
                # An admin's half-finished edit must not stop polling: keep the last good list, say why once.
                log.error("%s is invalid; polling with its last valid version", path, exc_info=True)
                self._loaded_mtime = mtime
                return self._loaded
            self.ctx.store.sync_feeds(
                ((f.url, f.title, f.lang, f.interval, f.enabled) for f in loaded.feeds), self.ctx.now()
            )
            self._loaded, self._loaded_mtime = loaded, mtime
        return self._loaded

    async def all(self) -> list[FeedRow]:
        await self.sync()
        return await self.ctx.db(self.ctx.store.list_feeds)

    async def get(self, id_or_url: str | int) -> FeedRow:
        await self.sync()
        return await self.ctx.db(self._find, id_or_url)

    def _find(self, id_or_url: str | int) -> FeedRow:
        store = self.ctx.store
        key: str | int = int(id_or_url) if isinstance(id_or_url, str) and id_or_url.isdigit() else id_or_url
        found = store.get_feed(key)
        if found is None and isinstance(key, str):  # the URL as the admin typed it: compare as the feed list does
            wanted = schema.normalize_url(key)
            found = next((f for f in store.list_feeds() if schema.normalize_url(f.url) == wanted), None)
        if found is None:
            raise UnknownFeedError(f"no feed with id or URL {id_or_url!r}; `newsbot feeds list` shows them")
        return found

    async def check_new(self, url: str, *, allow_file: bool) -> ParsedFeed:
        """Fetch and parse a feed once, so a typo fails now and not at the next poll.

        The fetcher's guard refuses unsafe URLs (and redirects to them) before any request is sent.
        """
        result = await self.fetcher.fetch(url, allow_file=allow_file)
        if result.content is None:  # a first fetch sends no validators; a 304 here is a broken server
            raise FeedError(url, f"HTTP {result.status} without a body")
        return await asyncio.to_thread(
            parse_feed, result.content, url=result.final_url, content_type=result.headers.get("content-type")
        )

    async def add(
        self, url: str, *, title: str | None = None, lang: str | None = None, allow_file: bool = False
    ) -> FeedRow:
        url = url.strip()
        try:
            schema.check_feed_url(url, allow_file=allow_file)
        except ValueError as e:
            raise ConfigError(f"cannot add {url!r}: {e}") from e
        path = self.ctx.settings.feeds
        await self.ctx.db(edit.ensure_not_listed, path, url)
        parsed = await self.check_new(url, allow_file=allow_file)
        await self.ctx.db(edit.add_feed, path, url, title=title or parsed.title, lang=lang, allow_file=allow_file)
        row = await self.get(url)
        # A feed removed after failing and added again starts with a clean slate.
        await self.ctx.db(self.ctx.store.reset_feed, row.id, forget_notices=True)
        return await self.get(row.id)

    async def remove(self, id_or_url: str | int) -> FeedRow:
        row = await self.get(id_or_url)
        await self.ctx.db(edit.remove_feed, self.ctx.settings.feeds, row.url)
        await self.sync(force=True)
        return row

    async def set_enabled(self, id_or_url: str | int, enabled: bool) -> FeedRow:
        row = await self.get(id_or_url)
        await self.ctx.db(edit.set_enabled, self.ctx.settings.feeds, row.url, enabled)
        if enabled:
            await self.ctx.db(self.ctx.store.reset_feed, row.id)
        return await self.get(row.id)

    async def import_opml(self, data: bytes) -> ImportReport:
        """Add every feed of an OPML file that passes the URL guard and the list's rules; the rest are reported.

        OPML files come from elsewhere: file:// outlines are refused even on the command line.
        """
        report = ImportReport()
        accepted: list[opml.OpmlFeed] = []
        for outline in opml.parse_opml(data):
            try:
                await check_url(outline.url, allow_private=self.ctx.settings.allow_private_urls, resolver=_no_dns)
            except UnsafeURLError as e:
                report.skipped.append((outline.url, e.reason))
                continue
            except FeedError:
                pass  # a name needs DNS to judge; every fetch runs the full guard, so judging it now adds nothing
            accepted.append(outline)
        for result in await self.ctx.db(edit.add_feeds, self.ctx.settings.feeds, accepted):
            if result.error:
                report.skipped.append((result.url, result.error))
            else:
                report.added.append(result.url)
        await self.sync(force=True)
        return report

    async def export_opml(self) -> bytes:
        return opml.export_opml((await self.sync()).feeds)

    async def recent_problems(self, days: int = 7) -> dict[int, list[tuple[str, str]]]:
        """feed id -> its latest problems that are not failures (broken UTF-8, article pages not fetched), newest first."""
        since = self.ctx.now() - timedelta(days=days)
        return await self.ctx.db(self.ctx.store.recent_problems, since)

    async def sources(self) -> list[Source]:
        """The enabled feeds a subscriber's stories come from, with their languages."""
        feeds = await self.all()
        detected = await self.ctx.db(self.ctx.store.feed_languages)
        return [
            Source(f.id, f.name, f.url, f.lang or detected.get(f.id), f.enabled and not f.auto_disabled) for f in feeds
        ]


async def _no_dns(host: str) -> list[str]:
    """A resolver that knows nothing: the guard then judges only what needs no lookup (literal addresses, localhost)."""
    raise OSError(f"{host} not looked up")
