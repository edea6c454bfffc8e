"""Stories and their sources: saving one feed's dedupe decisions, looking stories up by id or URL."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.errors import StorageError
from bot.feeds.types import Decision, KnownSource
from bot.store.base import StoreBase, chunks, iso, select_in
from bot.store.rows import STORY_BASE, STORY_COLUMNS, SaveCounts, StoryRow, StorySource, story_row
from bot.store.search import index_story

# Below this much text two entries with the same title and text are not taken for one article (a headline alone,
# "Read more", an empty podcast description).
SYNDICATED_MIN_CHARS = 200


def content_hash(title: str, text: str) -> str:
    """Fingerprint of a story's stored title and text (keys caches of derived work such as summaries)."""
    return hashlib.sha256(f"{title}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()


class StoryStore(StoreBase):
    def known_sources(self, feed_id: int, guids: Sequence[str]) -> dict[str, KnownSource]:
        found: dict[str, KnownSource] = {}
        with self._read() as conn:
            for chunk in chunks(guids):
                marks = ",".join("?" * len(chunk))
                cursor = conn.execute(
                    f"SELECT guid, story_id, entry_hash FROM story_sources WHERE feed_id = ? AND guid IN ({marks})",
                    [feed_id, *chunk],
                )
                found.update((guid, KnownSource(story_id, h)) for guid, story_id, h in cursor.fetchall())
        return found

    def known_story_urls(self, urls: Sequence[str]) -> dict[str, int]:
        with self._read() as conn:
            return dict(select_in(conn, "SELECT url, id FROM stories WHERE url IN ({marks})", urls))

    def save_entries(
        self, feed_id: int, decisions: Sequence[Decision], now: datetime, *, texts: dict[str, str] | None = None
    ) -> SaveCounts:
        """Apply one feed's decisions in one transaction. `texts` maps a guid to article text extracted from its page."""
        texts = texts or {}
        stamp = iso(now)
        live = {d.entry.guid for d in decisions}  # the guids the feed carries right now
        new = merged = updated = unchanged = 0
        with self._write() as conn:
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
                    index_story(conn, d.story_id or 0)
                    conn.execute(
                        "UPDATE story_sources SET entry_hash = ?, url = ?, last_seen_at = ? WHERE feed_id = ? AND guid = ?",
                        [d.entry_hash, entry.url, stamp, feed_id, entry.guid],
                    )
                    continue
                # Another feed polled concurrently may have stored this URL since the decision: look again.
                story_id = d.story_id or (self._story_id_by_url(conn, d.url) if d.url else None)
                text = texts.get(entry.guid) or entry.text
                if story_id is None and len(text) >= SYNDICATED_MIN_CHARS:
                    # A syndicated copy: the same title and text under another URL joins the story as a source.
                    story_id = self._story_id_by_content(conn, content_hash(entry.title, text))
                created = story_id is None
                if created:
                    new += 1
                    cursor = conn.execute(
                        f"INSERT INTO stories ({STORY_BASE}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    assert story_id is not None
                    index_story(conn, story_id)
                else:
                    again = self._same_feed_source(conn, replace(d, story_id=story_id), feed_id, texts, stamp, live)
                    if again is not None:  # this feed's own story under a new guid: not a second source
                        updated += again
                        unchanged += not again
                        continue
                    merged += 1
                inserted = conn.execute(
                    """
                    INSERT INTO story_sources (story_id, feed_id, guid, url, entry_hash, first_seen_at, last_seen_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(feed_id, guid) DO NOTHING  -- a second process polling the same feed got here first
                    """,
                    [story_id, feed_id, entry.guid, entry.url, d.entry_hash, stamp, stamp],
                ).rowcount
                if not inserted and created and story_id != self._source_story(conn, feed_id, entry.guid):
                    # That process stored this entry as a story of its own (an entry without a link, which no URL
                    # lookup finds): the one made here would have no source. It goes, and the entry is theirs.
                    new -= 1
                    conn.execute("DELETE FROM stories_fts WHERE rowid = ?", [story_id])
                    conn.execute("DELETE FROM stories WHERE id = ?", [story_id])
        return SaveCounts(new=new, merged=merged, updated=updated, unchanged=unchanged)

    def _same_feed_source(
        self, conn: sqlite3.Connection, d: Decision, feed_id: int, texts: dict[str, str], stamp: str, live: set[str]
    ) -> bool | None:
        """A known story under a new guid from a feed that already has it (a feed whose guids change on every fetch):
        that feed's source row takes the new guid instead of a second row joining, and a changed entry (a new title,
        say) updates the story instead of leaving it as it was. True: updated; False: unchanged; None when the feed
        has no source of the story yet, or its source is an entry the feed still carries (two entries of one feed for
        one story: each keeps its own row, rather than taking the guid from each other on every poll)."""
        row = conn.execute(
            "SELECT id, entry_hash, guid FROM story_sources WHERE story_id = ? AND feed_id = ? ORDER BY id LIMIT 1",
            [d.story_id, feed_id],
        ).fetchone()
        if row is None:
            return None
        source_id, old_hash, held = row
        if held in live:
            return None
        conn.execute(
            "UPDATE OR IGNORE story_sources SET guid = ?, url = ?, entry_hash = ?, last_seen_at = ? WHERE id = ?",
            [d.entry.guid, d.entry.url, d.entry_hash, stamp, source_id],
        )
        if old_hash == d.entry_hash:
            return False
        self._update_story(conn, d, texts.get(d.entry.guid), stamp)
        index_story(conn, d.story_id or 0)
        return True

    @staticmethod
    def _source_story(conn: sqlite3.Connection, feed_id: int, guid: str) -> int | None:
        row = conn.execute("SELECT story_id FROM story_sources WHERE feed_id = ? AND guid = ?", [feed_id, guid])
        found = row.fetchone()
        return int(found[0]) if found else None

    @staticmethod
    def _story_id_by_content(conn: sqlite3.Connection, digest: str) -> int | None:
        row = conn.execute("SELECT id FROM stories WHERE content_hash = ? ORDER BY id LIMIT 1", [digest]).fetchone()
        return int(row[0]) if row else None

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
                author = coalesce(?, author), content_hash = ?, updated_at = ?, enrich_attempts = 0,
                next_enrich_at = NULL
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
        sql = f"SELECT {STORY_COLUMNS} FROM stories"
        params: list[Any] = []
        if since is not None:
            sql += " WHERE coalesce(published, created_at) >= ? OR created_at >= ?"
            params += [iso(since), iso(since)]
        sql += " ORDER BY coalesce(published, created_at) DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._read() as conn:
            return [story_row(row) for row in conn.execute(sql, params).fetchall()]

    def get_story(self, id_or_url: int | str) -> StoryRow | None:
        with self._read() as conn:
            if isinstance(id_or_url, int):
                row = conn.execute(f"SELECT {STORY_COLUMNS} FROM stories WHERE id = ?", [id_or_url]).fetchone()
            else:
                row = conn.execute(
                    f"""
                    SELECT {STORY_COLUMNS} FROM stories WHERE url = ? OR link = ?
                        OR id IN (SELECT story_id FROM story_sources WHERE url = ?)
                    LIMIT 1
                    """,
                    [id_or_url, id_or_url, id_or_url],
                ).fetchone()
            if row is None:
                return None
            story = story_row(row)
            story.sources.extend(self._sources(conn, story.id))
            return story

    @staticmethod
    def _sources(conn: sqlite3.Connection, story_id: int) -> list[StorySource]:
        cursor = conn.execute(
            """
            SELECT s.feed_id, f.url, coalesce(f.title, f.feed_title), s.guid, s.url, s.first_seen_at
            FROM story_sources s JOIN feeds f ON f.id = s.feed_id WHERE s.story_id = ? ORDER BY s.id
            """,
            [story_id],
        )
        return [StorySource(*r) for r in cursor.fetchall()]

    def count_stories(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM stories").fetchone()[0])
