"""Whole articles in a reader's language (📖), cached per (story, language, engine fingerprint)."""

from __future__ import annotations

from datetime import datetime

from bot.store.base import StoreBase, iso


class ArticleStore(StoreBase):
    def cached_article(self, story_id: int, lang: str, fingerprint: str, content_hash: str) -> tuple[str, str] | None:
        """(title, text) made for this story's current text by the engine of `fingerprint`, if any."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT title, text FROM article_translations "
                "WHERE story_id = ? AND lang = ? AND fingerprint = ? AND content_hash = ?",
                [story_id, lang, fingerprint, content_hash],
            ).fetchone()
        return (row[0], row[1]) if row else None

    def save_article(
        self,
        story_id: int,
        lang: str,
        fingerprint: str,
        content_hash: str,
        model: str,
        title: str,
        text: str,
        now: datetime,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                """
                INSERT INTO article_translations (story_id, lang, fingerprint, content_hash, title, text, model,
                    created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(story_id, lang, fingerprint) DO UPDATE SET content_hash = excluded.content_hash,
                    title = excluded.title, text = excluded.text, model = excluded.model,
                    created_at = excluded.created_at
                """,
                [story_id, lang, fingerprint, content_hash, title, text, model, iso(now)],
            )

    def record_view(
        self, chat_id: int, message_id: int, subscription_id: int, story_id: int, user_id: int, now: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO article_views (chat_id, message_id, subscription_id, story_id, user_id, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [chat_id, message_id, subscription_id, story_id, user_id, iso(now)],
            )

    def view_of(self, chat_id: int, message_id: int) -> tuple[int, int, int] | None:
        """(subscription id, story id, user id) of the article view that message ends, if the bot sent one there and
        its subscription is still active."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT v.subscription_id, v.story_id, v.user_id FROM article_views v "
                "JOIN subscriptions s ON s.id = v.subscription_id AND s.active "
                "WHERE v.chat_id = ? AND v.message_id = ?",
                [chat_id, message_id],
            ).fetchone()
        return (int(row[0]), int(row[1]), int(row[2])) if row else None

    def was_delivered(self, subscription_id: int, story_id: int) -> bool:
        """Whether a digest of this subscription carried the story (a member of an event's cluster too)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT 1 FROM deliveries WHERE subscription_id = ? AND story_id = ?", [subscription_id, story_id]
            ).fetchone()
        return row is not None
