"""The SQLite store: the only package that writes SQL."""

from bot.store.db import Store, open_store
from bot.store.rows import FeedRow, StoryRow, StorySource

__all__ = ["FeedRow", "Store", "StoryRow", "StorySource", "open_store"]
