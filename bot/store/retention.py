"""What is forgotten: everything older than the retention age, and a chat that said /stop. Deleting a story takes its
sources, translations, vectors, keyphrases and delivery rows with it (foreign keys cascade); its search row goes
here, FTS5 having no foreign keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.base import StoreBase, iso

PRUNE_BATCH = 500  # stories per write transaction: a running bot's other writes wait at most one batch


@dataclass(frozen=True)
class Pruned:
    stories: int = 0
    messages: int = 0  # sent, refused or dropped outbox rows
    digests: int = 0
    other: int = 0  # cached phrase translations, feed error history


class RetentionStore(StoreBase):
    def prune_before(self, cutoff: datetime) -> Pruned:
        """Delete what is older than `cutoff`: stories stored before it (a story stored since is still on its way to
        digests, whatever its publication date), delivered messages and digests made before it, old caches."""
        stamp = iso(cutoff)
        stories = 0
        while True:
            with self._write() as conn:
                ids = [
                    row[0]
                    for row in conn.execute(
                        "SELECT id FROM stories WHERE created_at < ? ORDER BY id LIMIT ?", [stamp, PRUNE_BATCH]
                    )
                ]
                if not ids:
                    break
                marks = ",".join("?" * len(ids))  # a batch is within SQLite's limit on parameters
                conn.execute(f"DELETE FROM stories_fts WHERE rowid IN ({marks})", ids)
                conn.execute(f"DELETE FROM stories WHERE id IN ({marks})", ids)
                stories += len(ids)
        with self._write() as conn:
            messages = conn.execute("DELETE FROM outbox WHERE state != 'pending' AND created_at < ?", [stamp]).rowcount
            digests = conn.execute("DELETE FROM digests WHERE created_at < ?", [stamp]).rowcount
            other = conn.execute("DELETE FROM phrase_translations WHERE created_at < ?", [stamp]).rowcount
            other += conn.execute("DELETE FROM feed_errors WHERE at < ?", [stamp]).rowcount
        return Pruned(stories, messages, digests, other)

    def forget_chat(self, chat_id: int, thread_id: int) -> int:
        """Delete a chat's subscription with its settings, digests and delivery history, and every message to it;
        returns the subscriptions deleted."""
        with self._write() as conn:
            conn.execute("DELETE FROM outbox WHERE chat_id = ? AND thread_id = ?", [chat_id, thread_id])
            return conn.execute(
                "DELETE FROM subscriptions WHERE chat_id = ? AND thread_id = ?", [chat_id, thread_id]
            ).rowcount
