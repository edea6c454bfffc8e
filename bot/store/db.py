"""SQLite access for feeds, stories and their sources; every SQL statement of newsbot lives in bot/store/."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.errors import StorageError
from bot.feeds.dedupe import Decision, KnownSource, content_hash
from bot.feeds.types import Validators
from bot.store.migrations import migrations

_IN_CHUNK = 500  # stays well under SQLite's bound-parameter limit


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class FeedRow:
    id: int
    url: str
    title: str | None
    lang: str | None
    interval: int | None
    enabled: bool
    auto_disabled: bool
    etag: str | None
    last_modified: str | None
    error_count: int
    last_error: str | None
    last_error_at: str | None
    last_ok_at: str | None
    last_fetch_at: str | None
    next_fetch_at: str | None
    feed_title: str | None
    content_error: bool = False  # the validators belong to content that failed to parse

    @property
    def validators(self) -> Validators:
        return Validators(etag=self.etag, last_modified=self.last_modified)

    @property
    def status(self) -> str:
        if not self.enabled:
            return "paused"
        if self.auto_disabled:
            return "disabled"
        if self.error_count:
            return "error"
        if self.last_fetch_at is None:
            return "new"
        return "ok"


@dataclass(frozen=True)
class StorySource:
    feed_id: int
    feed_url: str
    feed_title: str | None
    guid: str
    url: str | None
    first_seen_at: str


@dataclass(frozen=True)
class StoryRow:
    id: int
    url: str | None
    link: str | None
    title: str
    text: str
    extracted: bool
    published: str | None
    author: str | None
    content_hash: str
    created_at: str
    updated_at: str
    lang: str | None = None
    lang_confidence: float | None = None
    title_en: str | None = None
    text_en: str | None = None
    summary_en: str | None = None
    translated: bool | None = None
    models: dict[str, str] = field(default_factory=dict)
    enriched_at: str | None = None
    enrich_error: str | None = None
    sources: list[StorySource] = field(default_factory=list)

    @property
    def enriched(self) -> bool:
        return self.enriched_at is not None and self.summary_en is not None


@dataclass(frozen=True)
class SaveCounts:
    new: int = 0
    merged: int = 0  # an article already stored via another feed or URL variant: one more source, no new story
    updated: int = 0
    unchanged: int = 0


_FEED_COLUMNS = (
    "id, url, title, lang, interval, enabled, auto_disabled, etag, last_modified, error_count, last_error, "
    "last_error_at, last_ok_at, last_fetch_at, next_fetch_at, feed_title, content_error"
)
_STORY_BASE = "id, url, link, title, text, extracted, published, author, content_hash, created_at, updated_at"
_STORY_COLUMNS = f"{_STORY_BASE}, lang, lang_confidence, title_en, text_en, summary_en, translated, models, enriched_at, enrich_error"


def _feed(row: Sequence[Any]) -> FeedRow:
    values = list(row)
    for flag in (5, 6, 16):
        values[flag] = bool(values[flag])
    return FeedRow(*values)


def _story(row: Sequence[Any]) -> StoryRow:
    values = list(row)
    values[5] = bool(values[5])
    if values[16] is not None:
        values[16] = bool(values[16])
    values[17] = json.loads(values[17]) if values[17] else {}
    return StoryRow(*values)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


class Store:
    """One connection, serialised by a lock so the poller's threads and the bot's executor can share it safely."""

    def __init__(self, db: Database, path: Path | str = ":memory:") -> None:
        self.db = db
        self.path = path
        self._lock = threading.RLock()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction. IMMEDIATE: another process writing meanwhile (`poll --once` beside `run`) makes this
        wait for the busy timeout; a deferred one that read first would fail at once with "database is locked"."""
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:  # nested: part of the caller's transaction
                yield
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            except sqlite3.Error as e:
                raise StorageError(f"database {self.path}: {e}") from e

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def migrate(self) -> None:
        with self._lock:
            migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    # -- feeds -----------------------------------------------------------------------------------------------------
    def sync_feeds(self, feeds: Iterable[tuple[str, str | None, str | None, int | None, bool]], now: datetime) -> None:
        """Mirror feeds.yaml: (url, title, lang, interval, enabled) rows; feeds no longer listed are kept but hidden."""
        rows = list(feeds)
        with self._write():
            self.db.execute("UPDATE feeds SET in_file = 0")
            self.db.conn.executemany(
                """
                INSERT INTO feeds (url, title, lang, interval, enabled, in_file, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)
                ON CONFLICT(url) DO UPDATE SET title = excluded.title, lang = excluded.lang,
                    interval = excluded.interval, enabled = excluded.enabled, in_file = 1
                """,
                [(url, title, lang, interval, int(enabled), iso(now)) for url, title, lang, interval, enabled in rows],
            )

    def list_feeds(self) -> list[FeedRow]:
        with self._lock:
            cursor = self.db.execute(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE in_file = 1 ORDER BY id")
            return [_feed(row) for row in cursor.fetchall()]

    def get_feed(self, id_or_url: int | str) -> FeedRow | None:
        column = "id" if isinstance(id_or_url, int) else "url"
        with self._lock:
            row = self.db.execute(
                f"SELECT {_FEED_COLUMNS} FROM feeds WHERE in_file = 1 AND {column} = ?", [id_or_url]
            ).fetchone()
        return _feed(row) if row else None

    def record_fetch_ok(
        self,
        feed_id: int,
        now: datetime,
        *,
        validators: Validators,
        next_fetch_at: datetime,
        feed_title: str | None = None,
    ) -> None:
        with self._write():
            self.db.execute(
                """
                UPDATE feeds SET etag = ?, last_modified = ?, error_count = 0, content_error = 0, last_ok_at = ?,
                    last_fetch_at = ?, next_fetch_at = ?, feed_title = coalesce(?, feed_title)
                WHERE id = ?
                """,
                [
                    validators.etag,
                    validators.last_modified,
                    iso(now),
                    iso(now),
                    iso(next_fetch_at),
                    feed_title,
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
    ) -> None:
        """A failed fetch or parse. `content_validators`: the response parsed badly; keep its validators so the next
        poll can ask "changed since?" instead of downloading the same broken content again."""
        with self._write():
            self.db.execute(
                """
                UPDATE feeds SET error_count = ?, last_error = ?, last_error_at = ?, last_fetch_at = ?,
                    next_fetch_at = ?, auto_disabled = max(auto_disabled, ?)
                WHERE id = ?
                """,
                [error_count, message, iso(now), iso(now), iso(next_fetch_at), int(disable), feed_id],
            )
            if content_validators is not None:
                self.db.execute(
                    "UPDATE feeds SET etag = ?, last_modified = ?, content_error = 1 WHERE id = ?",
                    [content_validators.etag, content_validators.last_modified, feed_id],
                )
            self.log_feed_problem(feed_id, now, message)

    def log_feed_problem(self, feed_id: int, now: datetime, message: str) -> None:
        """Record a problem an admin should see that does not count as the feed failing (an article page, say)."""
        with self._write():
            self.db.execute(
                "INSERT INTO feed_errors (feed_id, at, message) VALUES (?, ?, ?)", [feed_id, iso(now), message]
            )

    def reset_feed(self, feed_id: int) -> None:
        """An admin re-enabled the feed: forget the failure streak and fetch it at the next chance."""
        with self._write():
            self.db.execute(
                "UPDATE feeds SET auto_disabled = 0, error_count = 0, next_fetch_at = NULL WHERE id = ?", [feed_id]
            )

    def feed_errors(self, feed_id: int, limit: int = 20) -> list[tuple[str, str]]:
        with self._lock:
            cursor = self.db.execute(
                "SELECT at, message FROM feed_errors WHERE feed_id = ? ORDER BY id DESC LIMIT ?", [feed_id, limit]
            )
            return [(at, message) for at, message in cursor.fetchall()]

    # -- stories ---------------------------------------------------------------------------------------------------
    def known_sources(self, feed_id: int, guids: Sequence[str]) -> dict[str, KnownSource]:
        found: dict[str, KnownSource] = {}
        with self._lock:
            for chunk in _chunks(guids):
                marks = ",".join("?" * len(chunk))
                cursor = self.db.execute(
                    f"SELECT guid, story_id, entry_hash FROM story_sources WHERE feed_id = ? AND guid IN ({marks})",
                    [feed_id, *chunk],
                )
                found.update((guid, KnownSource(story_id, h)) for guid, story_id, h in cursor.fetchall())
        return found

    def known_story_urls(self, urls: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        with self._lock:
            for chunk in _chunks(urls):
                marks = ",".join("?" * len(chunk))
                cursor = self.db.execute(f"SELECT url, id FROM stories WHERE url IN ({marks})", list(chunk))
                found.update(cursor.fetchall())
        return found

    def save_entries(
        self, feed_id: int, decisions: Sequence[Decision], now: datetime, *, texts: dict[str, str] | None = None
    ) -> SaveCounts:
        """Apply one feed's decisions in one transaction. `texts` maps a guid to article text extracted from its page."""
        texts = texts or {}
        stamp = iso(now)
        new = merged = updated = unchanged = 0
        with self._write():
            conn = self.db.conn
            for d in decisions:
                entry = d.entry
                if d.action == "unchanged":
                    unchanged += 1
                    conn.execute(
                        "UPDATE story_sources SET last_seen_at = ? WHERE feed_id = ? AND guid = ?",
                        [stamp, feed_id, entry.guid],
                    )
                    continue
                if d.action == "updated":
                    updated += 1
                    self._update_story(conn, d, texts.get(entry.guid), stamp)
                    conn.execute(
                        "UPDATE story_sources SET entry_hash = ?, url = ?, last_seen_at = ? WHERE feed_id = ? AND guid = ?",
                        [d.entry_hash, entry.url, stamp, feed_id, entry.guid],
                    )
                    continue
                # Another feed polled concurrently may have stored this URL since the decision: look again.
                story_id = d.story_id or (self._story_id_by_url(conn, d.url) if d.url else None)
                if story_id is None:
                    new += 1
                    text = texts.get(entry.guid) or entry.text
                    cursor = conn.execute(
                        f"""
                        INSERT INTO stories ({_STORY_BASE})
                        VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        [
                            d.url,
                            entry.url,
                            entry.title,
                            text,
                            int(entry.guid in texts),
                            entry.published,
                            entry.author,
                            content_hash(entry.title, text),
                            stamp,
                            stamp,
                        ],
                    )
                    story_id = cursor.lastrowid
                else:
                    merged += 1
                conn.execute(
                    """
                    INSERT INTO story_sources (story_id, feed_id, guid, url, entry_hash, first_seen_at, last_seen_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(feed_id, guid) DO NOTHING  -- a second process polling the same feed got here first
                    """,
                    [story_id, feed_id, entry.guid, entry.url, d.entry_hash, stamp, stamp],
                )
        return SaveCounts(new=new, merged=merged, updated=updated, unchanged=unchanged)

    @staticmethod
    def _story_id_by_url(conn: sqlite3.Connection, url: str | None) -> int | None:
        row = conn.execute("SELECT id FROM stories WHERE url = ?", [url]).fetchone()
        return int(row[0]) if row else None

    @staticmethod
    def _update_story(conn: sqlite3.Connection, d: Decision, extracted_text: str | None, stamp: str) -> None:
        row = conn.execute("SELECT text, extracted FROM stories WHERE id = ?", [d.story_id]).fetchone()
        if row is None:
            raise StorageError(f"story {d.story_id} vanished while being updated")
        old_text, was_extracted = row
        if extracted_text:
            text, extracted = extracted_text, 1
        elif was_extracted and d.entry.is_teaser:
            # The page's full text beats the feed's changed teaser; only the headline moves.
            text, extracted = old_text, 1
        else:
            text, extracted = d.entry.text, 0
        conn.execute(
            """
            UPDATE stories SET title = ?, text = ?, extracted = ?, published = coalesce(?, published),
                author = coalesce(?, author), content_hash = ?, updated_at = ?, enrich_attempts = 0
            WHERE id = ?
            """,
            [
                d.entry.title,
                text,
                extracted,
                d.entry.published,
                d.entry.author,
                content_hash(d.entry.title, text),
                stamp,
                d.story_id,
            ],
        )

    def list_stories(self, *, since: datetime | None = None, limit: int | None = None) -> list[StoryRow]:
        sql = f"SELECT {_STORY_COLUMNS} FROM stories"
        params: list[Any] = []
        if since is not None:
            sql += " WHERE coalesce(published, created_at) >= ? OR created_at >= ?"
            params += [iso(since), iso(since)]
        sql += " ORDER BY coalesce(published, created_at) DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            return [_story(row) for row in self.db.execute(sql, params).fetchall()]

    def get_story(self, id_or_url: int | str) -> StoryRow | None:
        with self._lock:
            if isinstance(id_or_url, int):
                row = self.db.execute(f"SELECT {_STORY_COLUMNS} FROM stories WHERE id = ?", [id_or_url]).fetchone()
            else:
                row = self.db.execute(
                    f"""
                    SELECT {_STORY_COLUMNS} FROM stories WHERE url = ? OR link = ?
                        OR id IN (SELECT story_id FROM story_sources WHERE url = ?)
                    LIMIT 1
                    """,
                    [id_or_url, id_or_url, id_or_url],
                ).fetchone()
            if row is None:
                return None
            story = _story(row)
            cursor = self.db.execute(
                """
                SELECT s.feed_id, f.url, coalesce(f.title, f.feed_title), s.guid, s.url, s.first_seen_at
                FROM story_sources s JOIN feeds f ON f.id = s.feed_id WHERE s.story_id = ? ORDER BY s.id
                """,
                [story.id],
            )
            story.sources.extend(StorySource(*r) for r in cursor.fetchall())
            return story

    # -- enrichment ------------------------------------------------------------------------------------------------
    def stories_to_enrich(self, limit: int, *, max_attempts: int = 3) -> list[tuple[int, str, str, str | None]]:
        """(id, title, text, language hint of its first feed) for stories whose current text is not yet enriched."""
        with self._lock:
            cursor = self.db.execute(
                """
                SELECT s.id, s.title, s.text,
                    (SELECT f.lang FROM story_sources src JOIN feeds f ON f.id = src.feed_id
                     WHERE src.story_id = s.id ORDER BY src.id LIMIT 1)
                FROM stories s
                WHERE (s.enriched_hash IS NULL OR s.enriched_hash != s.content_hash) AND s.enrich_attempts < ?
                ORDER BY s.id LIMIT ?
                """,
                [max_attempts, limit],
            )
            return [(int(i), title, text, hint) for i, title, text, hint in cursor.fetchall()]

    def count_to_enrich(self, *, max_attempts: int = 3) -> int:
        with self._lock:
            row = self.db.execute(
                "SELECT count(*) FROM stories WHERE (enriched_hash IS NULL OR enriched_hash != content_hash) "
                "AND enrich_attempts < ?",
                [max_attempts],
            ).fetchone()
            return int(row[0])

    def save_enrichment(
        self,
        story_id: int,
        now: datetime,
        *,
        lang: str,
        lang_confidence: float,
        title_en: str,
        text_en: str,
        summary_en: str,
        translated: bool,
        models: dict[str, str],
        source_hash: str,
    ) -> bool:
        """Store what the engine made of the text whose hash was `source_hash`; False if the text changed meanwhile."""
        with self._write():
            cursor = self.db.execute(
                """
                UPDATE stories SET lang = ?, lang_confidence = ?, title_en = ?, text_en = ?, summary_en = ?,
                    translated = ?, models = ?, enriched_hash = content_hash, enriched_at = ?, enrich_error = NULL
                WHERE id = ? AND content_hash = ?
                """,
                [
                    lang,
                    lang_confidence,
                    title_en,
                    text_en,
                    summary_en,
                    int(translated),
                    json.dumps(models, sort_keys=True),
                    iso(now),
                    story_id,
                    source_hash,
                ],
            )
            return cursor.rowcount == 1

    def record_enrich_failure(self, story_ids: Sequence[int], message: str) -> None:
        with self._write():
            self.db.conn.executemany(
                "UPDATE stories SET enrich_error = ?, enrich_attempts = enrich_attempts + 1 WHERE id = ?",
                [(message, story_id) for story_id in story_ids],
            )

    def cached_translation(self, story_id: int, lang: str, content_hash: str, model: str) -> tuple[str, str] | None:
        with self._lock:
            row = self.db.execute(
                "SELECT title, summary FROM story_translations "
                "WHERE story_id = ? AND lang = ? AND content_hash = ? AND model = ?",
                [story_id, lang, content_hash, model],
            ).fetchone()
        return (row[0], row[1]) if row else None

    def save_translation(
        self, story_id: int, lang: str, content_hash: str, model: str, title: str, summary: str, now: datetime
    ) -> None:
        with self._write():
            self.db.execute(
                """
                INSERT INTO story_translations (story_id, lang, content_hash, model, title, summary, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(story_id, lang) DO UPDATE SET content_hash = excluded.content_hash,
                    model = excluded.model, title = excluded.title, summary = excluded.summary,
                    created_at = excluded.created_at
                """,
                [story_id, lang, content_hash, model, title, summary, iso(now)],
            )

    def count_stories(self) -> int:
        with self._lock:
            return int(self.db.execute("SELECT count(*) FROM stories").fetchone()[0])


def open_store(path: Path | str) -> Store:
    """Open (creating if needed) the database file in WAL mode with foreign keys on, migrated to the latest schema."""
    try:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        db = Database(conn)
        if str(path) != ":memory:":
            db.enable_wal()
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        store = Store(db, path)
        store.migrate()
    except sqlite3.Error as e:
        raise StorageError(f"cannot open database {path}: {e}") from e
    return store
