"""Append-only numbered schema migrations (sqlite-utils Migrations); never edit an applied one, add the next."""

from __future__ import annotations

import logging
import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.store import migrations_digests, migrations_pages

log = logging.getLogger(__name__)
migrations = Migrations("newsbot")


@migrations(name="0001_feeds_stories_sources")
def m0001(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE feeds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url TEXT NOT NULL UNIQUE,
            title TEXT,
            lang TEXT,
            interval INTEGER,
            in_file INTEGER NOT NULL DEFAULT 1,   -- listed in feeds.yaml (the source of truth for which feeds exist)
            enabled INTEGER NOT NULL DEFAULT 1,   -- the admin's switch, mirrored from feeds.yaml
            auto_disabled INTEGER NOT NULL DEFAULT 0,  -- set after too many consecutive failures
            etag TEXT,
            last_modified TEXT,
            error_count INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_error_at TEXT,
            last_ok_at TEXT,
            last_fetch_at TEXT,
            next_fetch_at TEXT,
            feed_title TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE feed_errors (
            id INTEGER PRIMARY KEY,
            feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX feed_errors_feed ON feed_errors(feed_id, at);
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url TEXT UNIQUE,            -- canonical URL (tracking parameters and fragment removed); NULL if none
            link TEXT,                  -- the URL as first seen
            title TEXT NOT NULL,
            text TEXT NOT NULL,         -- plain text: the extracted article, or the feed's own text
            extracted INTEGER NOT NULL DEFAULT 0,
            published TEXT,
            author TEXT,
            content_hash TEXT NOT NULL, -- of title + text as stored
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX stories_created ON stories(created_at);
        CREATE TABLE story_sources (
            id INTEGER PRIMARY KEY,
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            guid TEXT NOT NULL,
            url TEXT,
            entry_hash TEXT NOT NULL,   -- of the entry as the feed gave it: what "changed" is judged on
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            UNIQUE (feed_id, guid)
        );
        CREATE INDEX story_sources_story ON story_sources(story_id);
        """
    )


@migrations(name="0002_feed_content_error")
def m0002(db: Database) -> None:
    # Set when the stored validators belong to content that failed to parse: a 304 then means "still broken",
    # so a broken feed costs its publisher a conditional GET per poll instead of a full download.
    db.execute("ALTER TABLE feeds ADD COLUMN content_error INTEGER NOT NULL DEFAULT 0")


@migrations(name="0003_enrichment")
def m0003(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE stories ADD COLUMN lang TEXT;
        ALTER TABLE stories ADD COLUMN lang_confidence REAL;
        ALTER TABLE stories ADD COLUMN title_en TEXT;
        ALTER TABLE stories ADD COLUMN text_en TEXT;
        ALTER TABLE stories ADD COLUMN summary_en TEXT;
        ALTER TABLE stories ADD COLUMN translated INTEGER;      -- 0: the backend could not translate (extractive)
        ALTER TABLE stories ADD COLUMN models TEXT;             -- JSON: role -> model id or path
        ALTER TABLE stories ADD COLUMN enriched_hash TEXT;      -- content_hash the enrichment was made from
        ALTER TABLE stories ADD COLUMN enriched_at TEXT;
        ALTER TABLE stories ADD COLUMN enrich_error TEXT;
        ALTER TABLE stories ADD COLUMN enrich_attempts INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX stories_to_enrich ON stories(enriched_hash, enrich_attempts);
        -- A summary (and title) in a subscriber's language, made on first need; valid while hash and model match.
        CREATE TABLE story_translations (
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            lang TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            title TEXT NOT NULL,
            summary TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (story_id, lang)
        );
        """
    )


@migrations(name="0004_enrichment_retries_and_problems")
def m0004(db: Database) -> None:
    db.executescript(
        """
        -- A failed story is retried after a backoff, and at once when the models it failed with have changed.
        ALTER TABLE stories ADD COLUMN next_enrich_at TEXT;
        ALTER TABLE stories ADD COLUMN enrich_fingerprint TEXT;
        DROP INDEX stories_to_enrich;
        CREATE INDEX stories_pending ON stories(created_at DESC, id DESC)
            WHERE enriched_hash IS NULL OR enriched_hash != content_hash;
        -- Problems that are not a feed's: a model missing for a language, a translation that failed. One row per
        -- kind of problem (key), counted, so a problem repeated every digest round is one line for the admin.
        CREATE TABLE problems (
            key TEXT PRIMARY KEY,
            message TEXT NOT NULL,
            first_at TEXT NOT NULL,
            last_at TEXT NOT NULL,
            count INTEGER NOT NULL
        );
        """
    )


@migrations(name="0005_subscriptions_digests_outbox")
def m0005(db: Database) -> None:
    db.executescript(
        """
        -- One subscription per (chat, forum topic): private chats, groups, channels and topics fit one model.
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL,
            thread_id INTEGER NOT NULL DEFAULT 0,   -- forum topic (message_thread_id); 0 = the chat itself
            kind TEXT NOT NULL,                     -- private, group, supergroup, channel
            title TEXT,                             -- a user's name or a chat's title, for admins
            lang TEXT NOT NULL,
            times TEXT NOT NULL,                    -- JSON list of "HH:MM" in tz
            tz TEXT NOT NULL,
            topics TEXT NOT NULL DEFAULT '[]',      -- JSON list; empty = every story
            active INTEGER NOT NULL DEFAULT 1,
            inactive_reason TEXT,                   -- stopped, blocked (403), ...
            window_start TEXT NOT NULL,             -- no story stored before this is ever sent (first digest: 24 h)
            next_digest_at TEXT,                    -- the next scheduled slot, UTC
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (chat_id, thread_id)
        );
        CREATE INDEX subscriptions_due ON subscriptions(next_digest_at) WHERE active = 1;
        -- A digest made for a subscriber: `key` makes making it idempotent (a scheduled slot, or the update id of
        -- the /digest that asked for it).
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            stories INTEGER NOT NULL,
            parts INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (subscription_id, key)
        );
        -- Which stories each subscriber already got: not a time watermark, so a story enriched late is not lost.
        CREATE TABLE deliveries (
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            digest_id INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
            PRIMARY KEY (subscription_id, story_id)
        ) WITHOUT ROWID;
        CREATE INDEX deliveries_story ON deliveries(story_id);
        -- Every message is written here first; the sender drains it. key = subscription:digest key:part.
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            subscription_id INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,
            chat_id INTEGER NOT NULL,
            thread_id INTEGER NOT NULL DEFAULT 0,
            priority INTEGER NOT NULL,              -- 0: a reply to a command; 1: a scheduled digest
            text TEXT NOT NULL,                     -- Telegram HTML, <= 4,096 characters after parsing
            state TEXT NOT NULL DEFAULT 'pending',  -- pending, sent, failed (refused or expired), dropped (chat gone)
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            message_id INTEGER,                     -- Telegram's, once sent
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX outbox_pending ON outbox(priority, id) WHERE state = 'pending';
        CREATE INDEX outbox_chat ON outbox(chat_id, thread_id) WHERE state = 'pending';
        """
    )


@migrations(name="0006_feed_problems_and_admin_notices")
def m0006(db: Database) -> None:
    db.executescript(
        """
        -- feed_errors holds failures (a fetch or parse that failed: they count towards auto-disable) and problems
        -- (the feed worked, but something an admin should see happened: broken UTF-8, an article page not fetched).
        -- Rows from before this migration are counted as failures.
        ALTER TABLE feed_errors ADD COLUMN failure INTEGER NOT NULL DEFAULT 1;
        -- Admins were told this feed was disabled; they are told once more when it works again.
        ALTER TABLE feeds ADD COLUMN down_notified INTEGER NOT NULL DEFAULT 0;
        """
    )


@migrations(name="0007_kept_values")
def m0007(db: Database) -> None:
    # Small values the bot makes once and keeps across restarts (the webhook's secret token).
    db.execute("CREATE TABLE kept (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL)")


@migrations(name="0008_search_index_and_vectors")
def m0008(db: Database) -> None:
    from bot.ask.fts import index_text

    db.executescript(
        """
        -- Full-text search over each story's original and English text, kept in step by the store (rowid = story
        -- id). unicode61 with diacritics removed; Chinese and Japanese are indexed as character pairs (bot/ask/fts).
        CREATE VIRTUAL TABLE stories_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
        -- One embedding per story and embedder: float32, L2-normalised, of the text whose hash is source_hash.
        CREATE TABLE story_vectors (
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            embedder TEXT NOT NULL,
            source_hash TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (story_id, embedder)
        ) WITHOUT ROWID;
        """
    )
    rows = db.execute("SELECT id, title, text, title_en, text_en FROM stories").fetchall()
    db.conn.executemany(
        "INSERT INTO stories_fts (rowid, title, body) VALUES (?, ?, ?)",
        [(i, index_text(title, title_en), index_text(text, text_en)) for i, title, text, title_en, text_en in rows],
    )


@migrations(name="0009_phrase_translations")
def m0009(db: Database) -> None:
    # Sentences quoted in answers, translated into a reader's language once: key = hash of (source, target, model,
    # text).
    db.execute("CREATE TABLE phrase_translations (key TEXT PRIMARY KEY, text TEXT NOT NULL, created_at TEXT NOT NULL)")


@migrations(name="0010_story_keyphrases")
def m0010(db: Database) -> None:
    # A story's keyphrases for /trends (JSON list, best first), made from the text whose hash is source_hash: the
    # enrichment's (the English pivot) once there is one, else the story's own.
    db.execute(
        """
        CREATE TABLE story_keyphrases (
            story_id INTEGER PRIMARY KEY REFERENCES stories(id) ON DELETE CASCADE,
            source_hash TEXT NOT NULL,
            phrases TEXT NOT NULL
        )
        """
    )


@migrations(name="0011_feed_declared_language")
def m0011(db: Database) -> None:
    # The language the feed itself declares (RSS <language>, Atom xml:lang, JSON Feed "language"), as written
    # ("pt-BR"): the hint for its stories' detection when feeds.yaml gives the feed none.
    db.execute("ALTER TABLE feeds ADD COLUMN feed_lang TEXT")


@migrations(name="0012_heartbeats")
def m0012(db: Database) -> None:
    # The running bot's sign of life, written every tick: `newsbot health` (and Docker's HEALTHCHECK) reads its age.
    db.execute("CREATE TABLE heartbeats (process TEXT PRIMARY KEY, at TEXT NOT NULL, pid INTEGER NOT NULL)")


@migrations(name="0013_retention_indexes")
def m0013(db: Database) -> None:
    # Retention prunes by age: stories by when they were stored (indexed since 0001), delivered messages and digests
    # by when they were made.
    db.executescript(
        """
        CREATE INDEX outbox_created ON outbox(created_at) WHERE state != 'pending';
        CREATE INDEX digests_created ON digests(created_at);
        """
    )


@migrations(name="0014_canonical_urls_fold_variants")
def m0014(db: Database) -> None:
    # canonical_url now folds http/https, `www.`, a trailing slash, query order and IDNA: stored keys follow, so a
    # variant polled later finds its story. Two stories that now share a key keep theirs (the first one gets it).
    from bot.feeds.dedupe import canonical_url

    rows = db.execute("SELECT id, url FROM stories WHERE url IS NOT NULL").fetchall()
    for story_id, url in rows:
        folded = canonical_url(url)
        if folded and folded != url:
            db.execute("UPDATE OR IGNORE stories SET url = ? WHERE id = ?", [folded, story_id])


@migrations(name="0015_stories_by_content")
def m0015(db: Database) -> None:
    # A syndicated copy (the same title and text under another URL) is found by its content hash.
    db.execute("CREATE INDEX stories_content ON stories(content_hash)")


@migrations(name="0016_story_vectors_in_a_rowid_table")
def m0016(db: Database) -> None:
    # A vector row (1.5 KB for 384 float32) is past what a WITHOUT ROWID table keeps on its b-tree page (about 1 KB
    # of a 4 KB page), so each spilled onto an overflow page of its own: 4.7 KB a vector. A rowid table keeps rows
    # up to a page's size in place, two to a page: 2.1 KB. The key and its upsert target stay (story_id, embedder).
    # The old table's pages are freed (0017 gives them back).
    db.execute(
        """
        CREATE TABLE story_vectors_in_rows (
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            embedder TEXT NOT NULL,
            source_hash TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (story_id, embedder)
        )
        """
    )
    db.execute(
        "INSERT INTO story_vectors_in_rows (story_id, embedder, source_hash, vector) "
        "SELECT story_id, embedder, source_hash, vector FROM story_vectors ORDER BY story_id, embedder"
    )
    db.execute("DROP TABLE story_vectors")
    db.execute("ALTER TABLE story_vectors_in_rows RENAME TO story_vectors")


@migrations(name="0017_vacuum_after_moving_vectors", transactional=False)
def m0017(db: Database) -> None:
    # 0016 left the old vector table's pages free inside the file (445 MB of 1.1 GB at 100,000 stories): hand them back
    # once. VACUUM needs every other connection out of its transactions; if one is not, later writes reuse the pages.
    try:
        db.execute("VACUUM")
        # In WAL mode the whole rewritten file went through the log, which keeps its size while connections stay open
        # (all of `newsbot run`): a log as large as the database, unless emptied now.
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError as e:
        log.warning("database not compacted after moving its vectors (%s); its free pages will be reused instead", e)
        return
    if busy:
        log.warning(
            "the write-ahead log keeps the compacted file's size until every connection has closed (another one was "
            "reading while it was to be emptied)"
        )


@migrations(name="0018_model_downloads")
def m0018(db: Database) -> None:
    # What `newsbot run` is fetching in the background (one row: the process that fetches), for `newsbot health`.
    db.execute("CREATE TABLE model_downloads (process TEXT PRIMARY KEY, state TEXT NOT NULL, at TEXT NOT NULL)")


# Later migrations live in modules of their own, registered here in their order (0019-0020, 0021).
migrations_digests.register(migrations)
migrations_pages.register(migrations)
