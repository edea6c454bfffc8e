"""The one facade the front-ends (CLI, Telegram) call: `make_service` wires one stage object per step of the flow.

No SQL, no telegram, no argument parsing here or in the stages; each stage is a module named for what it does.
The store's records that the front-ends read (FeedRow, StoryRow, Subscription, ...) are handed on from here: no
front-end imports bot.store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from bot.config import Settings
from bot.feeds.fetch import make_fetcher
from bot.feeds.types import Fetcher
from bot.service.articles import Articles
from bot.service.ask import Ask
from bot.service.backup import Backups
from bot.service.celery_work import BrokerStatus, CeleryWork
from bot.service.context import Context
from bot.service.delivery import Delivery, Outcome
from bot.service.digests import Digests, Queued, RoundReport
from bot.service.downloads import DownloadState, ModelDownloads
from bot.service.engines import Engines
from bot.service.enrichment import Enrichment, EnrichReport
from bot.service.feeds import Feeds, ImportReport, Source
from bot.service.health import Health, HealthCheck
from bot.service.indexing import Indexing
from bot.service.ingest import FeedResult, Ingest
from bot.service.links import Links, PageView
from bot.service.localize import Localize, Localized
from bot.service.model_work import ModelThread, ModelWork
from bot.service.notices import Notices
from bot.service.preferences import Preferences, SourceSetting
from bot.service.retention import Retention
from bot.service.stories import Stories
from bot.service.subscribers import Chat, Started, Subscribers
from bot.service.trends import Trends
from bot.store import Store, open_store
from bot.store.pages import PageRow
from bot.store.rows import FeedRow, OutboxRow, Problem, StoryRow, Subscription
from summarizer.embed import make_embedder
from summarizer.types import Embedder, Engine

__all__ = [
    "BrokerStatus",
    "Chat",
    "DownloadState",
    "EnrichReport",
    "FeedResult",
    "FeedRow",
    "Health",
    "ImportReport",
    "Localized",
    "OutboxRow",
    "Outcome",
    "PageRow",
    "PageView",
    "Problem",
    "Queued",
    "RoundReport",
    "Service",
    "Source",
    "SourceSetting",
    "Started",
    "StoryRow",
    "Subscription",
    "make_service",
]


class Service:
    """The stages, sharing one Context (settings, store thread, clock, model thread)."""

    def __init__(
        self, ctx: Context, *, fetcher: Fetcher, engine: Engine | None = None, embedder: Embedder | None = None
    ) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.store = ctx.store
        self.now = ctx.now
        self.fetcher = fetcher
        self.feeds = Feeds(ctx, fetcher)
        self.notices = Notices(ctx)
        self.ingest = Ingest(ctx, self.feeds, fetcher, self.notices)
        self.engines = Engines(ctx, self.feeds, engine)
        # Model work in this process, or on `newsbot worker` processes when a broker is configured.
        self.model_work: ModelWork = ModelThread(ctx, self.engines)
        self.broker: CeleryWork | None = None
        if ctx.settings.broker_url:
            self.model_work = self.broker = CeleryWork(ctx, self.engines, ctx.settings.broker_url)
        self.enrichment = Enrichment(ctx, self.engines, self.model_work)
        self.localize = Localize(ctx, self.engines, self.model_work)
        self.stories = Stories(ctx)
        self.subscribers = Subscribers(ctx, self.engines)
        self.preferences = Preferences(ctx, self.feeds)
        self.indexing = Indexing(ctx, embedder or make_embedder(ctx.settings.embedder), ctx.settings.embedder)
        self.digests = Digests(ctx, self.subscribers, self.localize, self.indexing, self.preferences)
        self.delivery = Delivery(ctx, self.subscribers)
        self.downloads = ModelDownloads(ctx, self.engines)
        self.health = HealthCheck(ctx, self.feeds, self.engines, self.enrichment, self.downloads, self.broker)
        self.backups = Backups(ctx)
        self.ask = Ask(ctx, self.engines, self.localize, self.model_work, self.indexing)
        self.trends = Trends(ctx, self.feeds)
        self.retention = Retention(ctx, self.indexing)
        self.links = Links(ctx, self.engines, self.model_work, fetcher)
        self.articles = Articles(ctx, self.engines, self.model_work, self.preferences)

    async def run_pipeline(self, stop: asyncio.Event, *, tick: float = 30.0) -> None:
        """Poll on schedule and enrich what is new, side by side, until `stop`: a backlog never holds up polling.
        Models missing at the start are fetched meanwhile (NEWSBOT_AUTO_DOWNLOAD)."""
        wake, index, phrase = asyncio.Event(), asyncio.Event(), asyncio.Event()

        def new_stories() -> None:
            wake.set()
            index.set()

        def enriched() -> None:
            index.set()
            phrase.set()

        await asyncio.gather(
            self.downloads.fetch_missing(on_ready=wake.set),
            self.ingest.poll_forever(stop, tick=tick, on_new=new_stories),
            self.enrichment.work(stop, wake, tick=tick, after=enriched),
            self.indexing.work(stop, index, tick=tick),
            self.trends.work(stop, phrase, tick=tick),
            self.retention.work(stop),
        )

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        self.ingest.close()
        if self.broker is not None:
            self.broker.close()
        await asyncio.to_thread(self.ctx.close)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def make_service(
    settings: Settings,
    *,
    store: Store | None = None,
    fetcher: Fetcher | None = None,
    now: Callable[[], datetime] | None = None,
    engine: Engine | None = None,
    embedder: Embedder | None = None,
) -> Service:
    """Wire the service from settings; tests inject any collaborator."""
    ctx = Context(settings, store or open_store(settings.db), now or _utcnow)
    return Service(ctx, fetcher=fetcher or make_fetcher(settings), engine=engine, embedder=embedder)
