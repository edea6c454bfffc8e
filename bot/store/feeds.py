"""Feed fetch state: the mirror of feeds.yaml, validators, errors, backoff and auto-disable, and feed problems."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.feeds.types import Validators
from bot.store.base import StoreBase, iso
from bot.store.rows import FEED_COLUMNS, FeedRow, feed_row


class FeedStore(StoreBase):
    def sync_feeds(self, feeds: Iterable[tuple[str, str | None, str | None, int | None, bool]], now: datetime) -> None:
        """Mirror feeds.yaml: (url, title, lang, interval, enabled) rows; feeds no longer listed are kept but hidden."""
        rows = list(feeds)
        with self._write() as conn:
            conn.execute("UPDATE feeds SET in_file = 0")
            conn.executemany(
                """
                INSERT INTO feeds (url, title, lang, interval, enabled, in_file, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)
                ON CONFLICT(url) DO UPDATE SET title = excluded.title, lang = excluded.lang,
                    interval = excluded.interval, enabled = excluded.enabled, in_file = 1
                """,
                [(url, title, lang, interval, int(enabled), iso(now)) for url, title, lang, interval, enabled in rows],
            )

    def list_feeds(self) -> list[FeedRow]:
        with self._read() as conn:
            cursor = conn.execute(f"SELECT {FEED_COLUMNS} FROM feeds WHERE in_file = 1 ORDER BY id")
            return [feed_row(row) for row in cursor.fetchall()]

    def get_feed(self, id_or_url: int | str) -> FeedRow | None:
        column = "id" if isinstance(id_or_url, int) else "url"
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {FEED_COLUMNS} FROM feeds WHERE in_file = 1 AND {column} = ?", [id_or_url]
            ).fetchone()
        return feed_row(row) if row else None

    def record_fetch_ok(
        self,
        feed_id: int,
        now: datetime,
        *,
        validators: Validators,
        next_fetch_at: datetime,
        feed_title: str | None = None,
        feed_lang: str | None = None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                """
                UPDATE feeds SET etag = ?, last_modified = ?, error_count = 0, content_error = 0, last_ok_at = ?,
                    last_fetch_at = ?, next_fetch_at = ?, feed_title = coalesce(?, feed_title),
                    feed_lang = coalesce(?, feed_lang)
                WHERE id = ?
                """,
                [
                    validators.etag,
                    validators.last_modified,
                    iso(now),
                    iso(now),
                    iso(next_fetch_at),
                    feed_title,
                    feed_lang,
                    feed_id,
                ],
            )

    def record_fetch_error(
        self,
        feed_id: int,
        now: datetime,
        *,
        message: str,
        error_count: int,
        next_fetch_at: datetime,
        disable: bool,
        content_validators: Validators | None = None,
    ) -> bool:
        """A failed fetch or parse. `content_validators`: the response parsed badly; keep its validators so the next
        poll can ask "changed since?" instead of downloading the same broken content again. True when this very
        failure disabled the feed (whichever process recorded it)."""
        with self._write() as conn:
            was_disabled = conn.execute("SELECT auto_disabled FROM feeds WHERE id = ?", [feed_id]).fetchone()
            conn.execute(
                """
                UPDATE feeds SET error_count = ?, last_error = ?, last_error_at = ?, last_fetch_at = ?,
                    next_fetch_at = ?, auto_disabled = max(auto_disabled, ?)
                WHERE id = ?
                """,
                [error_count, message, iso(now), iso(now), iso(next_fetch_at), int(disable), feed_id],
            )
            if content_validators is not None:
                conn.execute(
                    "UPDATE feeds SET etag = ?, last_modified = ?, content_error = 1 WHERE id = ?",
                    [content_validators.etag, content_validators.last_modified, feed_id],
                )
            self.log_feed_problem(feed_id, now, message, failure=True)
        return bool(disable and was_disabled is not None and not was_disabled[0])

    def log_feed_problem(self, feed_id: int, now: datetime, message: str, *, failure: bool = False) -> None:
        """Record what an admin should see: a failure, or a problem that does not count as failing (an article page)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO feed_errors (feed_id, at, message, failure) VALUES (?, ?, ?, ?)",
                [feed_id, iso(now), message, int(failure)],
            )

    def reset_feed(self, feed_id: int, *, forget_notices: bool = False) -> None:
        """An admin re-enabled the feed: forget the failure streak and fetch it at the next chance. `forget_notices`:
        the feed was added anew, so its first success is no news ("works again") to anyone."""
        with self._write() as conn:
            conn.execute(
                "UPDATE feeds SET auto_disabled = 0, error_count = 0, next_fetch_at = NULL, "
                "down_notified = down_notified * ? WHERE id = ?",
                [0 if forget_notices else 1, feed_id],
            )

    def feed_errors(self, feed_id: int, limit: int = 20) -> list[tuple[str, str]]:
        with self._read() as conn:
            cursor = conn.execute(
                "SELECT at, message FROM feed_errors WHERE feed_id = ? ORDER BY id DESC LIMIT ?", [feed_id, limit]
            )
            return [(at, message) for at, message in cursor.fetchall()]

    def recent_problems(self, since: datetime, per_feed: int = 3) -> dict[int, list[tuple[str, str]]]:
        """feed id -> its newest problems since `since` that are not failures, as (at, message), newest first."""
        with self._read() as conn:
            cursor = conn.execute(
                """
                SELECT feed_id, at, message FROM (
                    SELECT feed_id, at, message, row_number() OVER (PARTITION BY feed_id ORDER BY id DESC) AS rank
                    FROM feed_errors WHERE failure = 0 AND at >= ?
                ) WHERE rank <= ? ORDER BY feed_id, rank
                """,
                [iso(since), per_feed],
            )
            found: dict[int, list[tuple[str, str]]] = {}
            for feed_id, at, message in cursor.fetchall():
                found.setdefault(int(feed_id), []).append((at, message))
            return found

    def notify_admins(
        self, feed_id: int, key: str, messages: Sequence[tuple[int, str]], *, down: bool, now: datetime
    ) -> None:
        """Queue one notice per admin (chat id, text) about a feed, and remember whether admins know it is down:
        the key makes a repeated call queue nothing twice."""
        stamp = iso(now)
        with self._write() as conn:
            conn.executemany(
                """
                INSERT INTO outbox (key, subscription_id, chat_id, thread_id, priority, text, next_attempt_at, created_at)
                VALUES (?, NULL, ?, 0, 0, ?, ?, ?) ON CONFLICT (key) DO NOTHING
                """,
                [(f"notice:{key}:{chat_id}", chat_id, text, stamp, stamp) for chat_id, text in messages],
            )
            conn.execute("UPDATE feeds SET down_notified = ? WHERE id = ?", [int(down), feed_id])

    def feed_languages(self) -> dict[int, str]:
        """Each feed's most common detected story language (for /sources when feeds.yaml gives no hint)."""
        with self._read() as conn:
            cursor = conn.execute(
                """
                SELECT feed_id, lang FROM (
                    SELECT src.feed_id, s.lang, count(*) AS n,
                        row_number() OVER (PARTITION BY src.feed_id ORDER BY count(*) DESC, s.lang) AS rank
                    FROM story_sources src JOIN stories s ON s.id = src.story_id
                    WHERE s.lang IS NOT NULL AND s.lang != 'und'
                    GROUP BY src.feed_id, s.lang
                ) WHERE rank = 1
                """
            )
            return {int(feed_id): lang for feed_id, lang in cursor.fetchall()}
