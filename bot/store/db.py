"""The Store: every SQL statement of newsbot lives in bot/store/, one module per kind of data, joined here."""

from __future__ import annotations

from pathlib import Path

from bot.store.articles import ArticleStore
from bot.store.backup import BackupStore
from bot.store.digests import DigestStore
from bot.store.enrichment import EnrichmentStore
from bot.store.feeds import FeedStore
from bot.store.heartbeats import HeartbeatStore
from bot.store.outbox import OutboxStore
from bot.store.pages import PageStore
from bot.store.preferences import PreferenceStore
from bot.store.retention import RetentionStore
from bot.store.search import SearchStore
from bot.store.stories import StoryStore
from bot.store.subscriptions import KeptStore, SubscriptionStore
from bot.store.trends import TrendStore


class Store(
    FeedStore,
    StoryStore,
    EnrichmentStore,
    SubscriptionStore,
    DigestStore,
    OutboxStore,
    KeptStore,
    SearchStore,
    TrendStore,
    HeartbeatStore,
    BackupStore,
    RetentionStore,
    PageStore,
    PreferenceStore,
    ArticleStore,
):
    """Feeds, stories, enrichment, subscribers, digests, outbox, search, trends, heartbeats, backups, retention,
    summarized pages, readers' preferences, article views; one connection per thread (see
    StoreBase)."""


def open_store(path: Path | str) -> Store:
    """Open (creating if needed) the database file in WAL mode with foreign keys on, migrated to the latest schema."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    store = Store(path)
    store.migrate()
    return store
