"""Migrations 0019 and 0020: what readers do with a digest: the articles they open (the translations kept for them,
the views a vote must come from, the keyboards digest messages carry) and what they say (votes, opens, feeds switched
off). bot/store/migrations.py registers them
on its one migration set, after 0018 (`register`)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations


def m0019(db: Database) -> None:
    # A whole article in a reader's language (📖), made once per (story, language, engine fingerprint): the story's
    # text may change (content_hash), the models too (fingerprint); either makes the cached one stale.
    db.executescript(
        """
        CREATE TABLE article_translations (
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            lang TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            model TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (story_id, lang, fingerprint)
        );
        -- Each article view the bot sent (its last message carries 👍 👎 🔇): a press under it acts for the
        -- subscription it was opened from (a group's, when opened from a group), on that story only.
        CREATE TABLE article_views (
            chat_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL,
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, message_id)
        );
        -- A digest message's inline keyboard (📖 per story) as plain JSON rows of buttons; NULL: none.
        ALTER TABLE outbox ADD COLUMN reply_markup TEXT;
        """
    )


def m0020(db: Database) -> None:
    # What a subscription's readers said about stories (each member of a group votes for themself; all of them shape
    # the group's ranking) and which feeds it switched off. Deleting a story (retention), a subscription (/stop) or a
    # feed takes its rows with it. One statement at a time: executescript would commit outside the migration.
    for kind in ("votes", "opens"):
        value = "value INTEGER NOT NULL CHECK (value IN (-1, 1))," if kind == "votes" else ""
        db.execute(
            f"""CREATE TABLE story_{kind} (
                subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
                user_id INTEGER NOT NULL,
                story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
                {value}
                at TEXT NOT NULL,
                PRIMARY KEY (subscription_id, user_id, story_id)
            ) WITHOUT ROWID"""
        )
        db.execute(f"CREATE INDEX story_{kind}_story ON story_{kind}(story_id)")
    # A row: this subscription reads nothing from this feed (muted with the button under an article, or switched off
    # in /sources); no row: the feed is on.
    db.execute(
        """CREATE TABLE sources_off (
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
            feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            muted INTEGER NOT NULL DEFAULT 0,
            at TEXT NOT NULL,
            PRIMARY KEY (subscription_id, feed_id)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX sources_off_feed ON sources_off(feed_id)")


def register(migrations: Migrations) -> None:
    migrations(name="0019_article_views")(m0019)
    migrations(name="0020_reader_preferences")(m0020)
