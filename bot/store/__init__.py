"""The SQLite store: the only package that writes SQL."""

from bot.store.db import Store, open_store

__all__ = ["Store", "open_store"]
