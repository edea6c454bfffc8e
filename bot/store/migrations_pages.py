"""Migration 0021: pages readers sent to be summarized (/summarize, a link in a private chat), in tables of their own:
a page is never a story, so no digest, /ask answer, trend or search ever sees one. bot/store/migrations.py
registers it on its one migration set, after 0020 (`register`)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations


def m0021(db: Database) -> None:
    # One statement at a time: executescript() would commit each on its own, outside the migration's transaction.
    db.execute(
        """
        CREATE TABLE pages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url TEXT NOT NULL UNIQUE,        -- canonical (bot.feeds.dedupe.canonical_url): the cache key
            link TEXT NOT NULL,              -- where the page was found after redirects, for readers
            title TEXT NOT NULL,
            text TEXT NOT NULL,              -- the extracted article text, paragraphs separated by blank lines
            lang TEXT NOT NULL,
            title_en TEXT NOT NULL,          -- the English pivot, or the original when `translated` is 0
            text_en TEXT NOT NULL,
            summary_en TEXT NOT NULL,
            translated INTEGER NOT NULL,     -- 0: the extractive backend (the pivot fields are the original)
            fetched_at TEXT NOT NULL
        )
        """
    )
    # A page in a reader's language: its summary ('summary': title and summary) or its whole text ('text'), per
    # translation model, so a changed model translates again.
    db.execute(
        """
        CREATE TABLE page_translations (
            page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
            lang TEXT NOT NULL,
            part TEXT NOT NULL CHECK (part IN ('summary', 'text')),
            model TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (page_id, lang, part, model)
        ) WITHOUT ROWID
        """
    )
    # Which chats asked for a page: only they may open its whole text (callback data is never trusted).
    db.execute(
        """
        CREATE TABLE page_readers (
            page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
            chat_id INTEGER NOT NULL,
            asked_at TEXT NOT NULL,
            PRIMARY KEY (page_id, chat_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX pages_fetched ON pages(fetched_at)")


def register(migrations: Migrations) -> None:
    migrations(name="0021_summarized_pages")(m0021)
