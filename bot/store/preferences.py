"""Readers' preferences: votes and opened articles per (subscription, user, story), and the feeds a subscription
switched off. A write naming a subscription that is not active, a story or a feed that is gone changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.store.base import StoreBase, iso, select_in


@dataclass(frozen=True)
class Feedback:
    """What one subscription's readers said, for its ranking."""

    votes: dict[int, int] = field(default_factory=dict)  # story id -> sum of its readers' votes (+1 / -1 each)
    opened: frozenset[int] = frozenset()  # stories someone opened
    off: dict[int, bool] = field(default_factory=dict)  # feed id -> muted (True) or switched off in /sources
    story_feeds: dict[int, tuple[int, ...]] = field(default_factory=dict)  # rated or opened story -> its feeds


def _active(conn: sqlite3.Connection, subscription_id: int) -> bool:
    row = conn.execute("SELECT active FROM subscriptions WHERE id = ?", [subscription_id]).fetchone()
    return bool(row and row[0])


def _story_exists(conn: sqlite3.Connection, story_id: int) -> bool:
    return conn.execute("SELECT 1 FROM stories WHERE id = ?", [story_id]).fetchone() is not None


class PreferenceStore(StoreBase):
    def save_vote(self, subscription_id: int, user_id: int, story_id: int, value: int, now: datetime) -> bool:
        """The user's vote on the story, replacing any earlier one; False (nothing written) when the subscription is
        not active or the story is gone."""
        if value not in (-1, 1):
            raise ValueError(f"a vote is +1 or -1, not {value!r}")
        with self._write() as conn:
            if not (_active(conn, subscription_id) and _story_exists(conn, story_id)):
                return False
            conn.execute(
                """
                INSERT INTO story_votes (subscription_id, user_id, story_id, value, at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (subscription_id, user_id, story_id) DO UPDATE SET value = excluded.value, at = excluded.at
                """,
                [subscription_id, user_id, story_id, value, iso(now)],
            )
        return True

    def vote_of(self, subscription_id: int, user_id: int, story_id: int) -> int:
        with self._read() as conn:
            row = conn.execute(
                "SELECT value FROM story_votes WHERE subscription_id = ? AND user_id = ? AND story_id = ?",
                [subscription_id, user_id, story_id],
            ).fetchone()
        return int(row[0]) if row else 0

    def save_open(self, subscription_id: int, user_id: int, story_id: int, now: datetime) -> bool:
        with self._write() as conn:
            if not (_active(conn, subscription_id) and _story_exists(conn, story_id)):
                return False
            conn.execute(
                "INSERT OR IGNORE INTO story_opens (subscription_id, user_id, story_id, at) VALUES (?, ?, ?, ?)",
                [subscription_id, user_id, story_id, iso(now)],
            )
        return True

    def set_source_off(self, subscription_id: int, feed_id: int, *, off: bool, muted: bool, now: datetime) -> bool:
        """Switch a feed off (muted: by the 🔇 button) or back on for one subscription; False (nothing written) when
        the subscription is not active or the feed is not in the feed list."""
        with self._write() as conn:
            listed = conn.execute("SELECT 1 FROM feeds WHERE id = ? AND in_file = 1", [feed_id]).fetchone()
            if not (listed and _active(conn, subscription_id)):
                return False
            if off:
                conn.execute(
                    """
                    INSERT INTO sources_off (subscription_id, feed_id, muted, at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (subscription_id, feed_id) DO UPDATE SET muted = excluded.muted, at = excluded.at
                    """,
                    [subscription_id, feed_id, int(muted), iso(now)],
                )
            else:
                conn.execute(
                    "DELETE FROM sources_off WHERE subscription_id = ? AND feed_id = ?", [subscription_id, feed_id]
                )
        return True

    def feedback(self, subscription_ids: Sequence[int]) -> dict[int, Feedback]:
        """subscription id -> its readers' votes, opened stories and switched-off feeds."""
        votes: dict[int, dict[int, int]] = {sid: {} for sid in subscription_ids}
        opened: dict[int, set[int]] = {sid: set() for sid in subscription_ids}
        off: dict[int, dict[int, bool]] = {sid: {} for sid in subscription_ids}
        with self._read() as conn:
            sql = "SELECT subscription_id, story_id, sum(value) FROM story_votes WHERE subscription_id IN ({marks}) "
            for sid, story_id, total in select_in(conn, sql + "GROUP BY 1, 2", subscription_ids):
                votes[sid][int(story_id)] = int(total)
            sql = "SELECT DISTINCT subscription_id, story_id FROM story_opens WHERE subscription_id IN ({marks})"
            for sid, story_id in select_in(conn, sql, subscription_ids):
                opened[sid].add(int(story_id))
            sql = "SELECT subscription_id, feed_id, muted FROM sources_off WHERE subscription_id IN ({marks})"
            for sid, feed_id, muted in select_in(conn, sql, subscription_ids):
                off[sid][int(feed_id)] = bool(muted)
            rated = sorted({i for sid in subscription_ids for i in (*votes[sid], *opened[sid])})
            sql = "SELECT story_id, feed_id FROM story_sources WHERE story_id IN ({marks}) ORDER BY id"
            carried: dict[int, list[int]] = {}
            for story_id, feed_id in select_in(conn, sql, rated):
                carried.setdefault(int(story_id), []).append(int(feed_id))
        return {
            sid: Feedback(
                votes[sid],
                frozenset(opened[sid]),
                off[sid],
                {i: tuple(carried.get(i, ())) for i in (*votes[sid], *opened[sid])},
            )
            for sid in subscription_ids
        }
