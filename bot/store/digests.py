"""Digests and deliveries: which stories may go into digests, which each subscriber already got, and storing a
digest (its outbox messages, its deliveries, the subscriber's next slot) in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.store.base import StoreBase, chunks, iso
from bot.store.rows import STORY_COLUMNS, CandidateRow, NewDigest, story_row

MAX_CANDIDATES = 3000
# A story first stored now but published more than this before the window (a feed just added, with its archive) is
# old news, not news.
_DAY = timedelta(days=1)


class DigestStore(StoreBase):
    def digest_candidates(self, *, since: datetime, now: datetime, ready_by: datetime) -> list[CandidateRow]:
        """Stories stored since `since` (and not published long before it), newest first, that a digest may show:
        summarized, or failed to be (they go out with their own text), or stored before `ready_by` (waited enough)."""
        with self._read() as conn:
            rows = conn.execute(
                f"""
                SELECT {STORY_COLUMNS} FROM stories
                WHERE created_at >= :since AND coalesce(published, created_at) >= :oldest
                  AND coalesce(published, created_at) <= :future
                  AND (summary_en IS NOT NULL OR enrich_error IS NOT NULL OR created_at <= :ready_by)
                ORDER BY created_at DESC, id DESC LIMIT :limit
                """,
                {
                    "since": iso(since),
                    "oldest": iso(since - _DAY),
                    "future": iso(now + _DAY),
                    "ready_by": iso(ready_by),
                    "limit": MAX_CANDIDATES,
                },
            ).fetchall()
            stories = [story_row(row) for row in rows]
            names = self._source_names(conn, [s.id for s in stories])
        return [CandidateRow(story, *names.get(story.id, ((), None, ()))) for story in stories]

    @staticmethod
    def _source_names(
        conn: sqlite3.Connection, story_ids: Sequence[int]
    ) -> dict[int, tuple[tuple[str, ...], str | None, tuple[int, ...]]]:
        """story id -> (its feeds' names, first feed first; the first feed's language hint; the feeds' ids)."""
        names: dict[int, list[str]] = {}
        hints: dict[int, str | None] = {}
        ids: dict[int, list[int]] = {}
        for chunk in chunks(story_ids):
            marks = ",".join("?" * len(chunk))
            cursor = conn.execute(
                f"""
                SELECT src.story_id, coalesce(f.title, f.feed_title, f.url), coalesce(f.lang, f.feed_lang), f.id
                FROM story_sources src
                JOIN feeds f ON f.id = src.feed_id WHERE src.story_id IN ({marks}) ORDER BY src.id
                """,
                list(chunk),
            )
            for story_id, name, hint, feed_id in cursor.fetchall():
                found = names.setdefault(story_id, [])
                hints.setdefault(story_id, hint)
                if name not in found:
                    found.append(name)
                if feed_id not in (carried := ids.setdefault(story_id, [])):
                    carried.append(feed_id)
        return {story_id: (tuple(found), hints[story_id], tuple(ids[story_id])) for story_id, found in names.items()}

    def delivered(self, subscription_ids: Sequence[int], story_ids: Sequence[int]) -> dict[int, set[int]]:
        """subscription id -> the ids among `story_ids` it already got."""
        got: dict[int, set[int]] = {sid: set() for sid in subscription_ids}
        with self._read() as conn:
            for subscribers in chunks(subscription_ids):
                for stories in chunks(story_ids):
                    cursor = conn.execute(
                        f"""
                        SELECT subscription_id, story_id FROM deliveries
                        WHERE subscription_id IN ({",".join("?" * len(subscribers))})
                          AND story_id IN ({",".join("?" * len(stories))})
                        """,
                        [*subscribers, *stories],
                    )
                    for subscription_id, story_id in cursor.fetchall():
                        got[subscription_id].add(story_id)
        return got

    def save_digests(self, digests: Iterable[NewDigest], now: datetime) -> int:
        """Store each digest unless its key exists (made before a crash, or by a concurrent request); returns how
        many were new. Messages, deliveries and the next slot are written together or not at all."""
        saved = 0
        stamp = iso(now)
        with self._write() as conn:
            for digest in digests:
                found = conn.execute(
                    "SELECT active FROM subscriptions WHERE id = ?", [digest.subscription_id]
                ).fetchone()
                if not found or not found[0]:
                    continue  # stopped (or blocked) while its digest was being made: nothing goes out
                cursor = conn.execute(
                    """
                    INSERT INTO digests (subscription_id, key, stories, parts, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (subscription_id, key) DO NOTHING
                    """,
                    [digest.subscription_id, digest.key, len(digest.story_ids), len(digest.parts), stamp],
                )
                if cursor.rowcount == 1:
                    saved += 1
                    digest_id = cursor.lastrowid
                    conn.executemany(
                        "INSERT OR IGNORE INTO deliveries (subscription_id, story_id, digest_id) VALUES (?, ?, ?)",
                        [(digest.subscription_id, story_id, digest_id) for story_id in digest.story_ids],
                    )
                    conn.executemany(
                        """
                        INSERT INTO outbox (key, subscription_id, chat_id, thread_id, priority, text, next_attempt_at,
                            created_at, reply_markup)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        [
                            (
                                f"{digest.subscription_id}:{digest.key}:{part}",
                                digest.subscription_id,
                                digest.chat_id,
                                digest.thread_id,
                                digest.priority,
                                text,
                                stamp,
                                stamp,
                                digest.markups[part - 1] if part <= len(digest.markups) else None,
                            )
                            for part, text in enumerate(digest.parts, start=1)
                        ],
                    )
                if digest.next_digest_at is not None:
                    conn.execute(
                        "UPDATE subscriptions SET next_digest_at = ? WHERE id = ? AND next_digest_at IS ?",
                        [digest.next_digest_at, digest.subscription_id, digest.expected_next],
                    )
        return saved

    def advance_schedules(self, slots: Iterable[tuple[int, str, str | None]]) -> None:
        """(subscription id, next slot, the slot it replaces) for subscribers whose slot passed with nothing new (no
        empty digest); a schedule changed meanwhile is left as it now is."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE subscriptions SET next_digest_at = ? WHERE id = ? AND next_digest_at IS ?",
                [(at, sid, expected) for sid, at, expected in slots],
            )
