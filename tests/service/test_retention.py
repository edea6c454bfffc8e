"""Retention, on an injected clock: stories stored more than NEWSBOT_RETENTION_DAYS ago leave the database, the
search index, the vectors (in the store and in memory) and /ask's results, with their delivered messages; younger
ones stay. And /stop forgets a chat: no row of any table mentions it afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.service import Chat, make_service
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import rss
from tests.test_service import make_settings

CHAT = 987_654_321  # distinctive: no other id or count in the database looks like it


def mentions(db: Path, needle: int) -> list[str]:
    """Every table.column whose value equals `needle` or whose text contains it, in any row."""
    import sqlite3

    found = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info('{table}')")]
            for column in columns:
                sql = f'SELECT count(*) FROM "{table}" WHERE "{column}" = ? OR CAST("{column}" AS TEXT) LIKE ?'
                if conn.execute(sql, [needle, f"%{needle}%"]).fetchone()[0]:
                    found.append(f"{table}.{column}")
    return found


async def test_old_stories_leave_every_index_and_answers_and_stop_forgets_the_chat(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    clock = [datetime(2026, 6, 1, 9, 0, tzinfo=UTC)]
    (tmp_path / "feeds.yaml").write_text(f"feeds:\n  - url: {feed_server.url('/feed')}\n    lang: en\n")
    settings = make_settings(tmp_path, backend="extractive", retention_days=90)
    service = make_service(settings, now=lambda: clock[0])
    try:
        feed_server.routes["/feed"] = Route(body=rss([("old", "Nvidia reports record data center revenue")]))
        await service.ingest.poll(force=True)
        await service.enrichment.enrich()
        await service.indexing.index()
        sub = (await service.subscribers.start(Chat(CHAT))).subscription
        queued = await service.digests.digest_now(Chat(CHAT), request="1")
        assert queued.parts and mentions(settings.db, CHAT)
        [(message_id, *_)] = [(m.id,) for m in service.store.due_messages(clock[0] + timedelta(days=1), 10)]
        service.store.mark_sent(message_id, 1, clock[0])
        before = await service.ask.answer("Who reported record data center revenue?")
        assert before.found and "Nvidia" in before.citations[0].title
        [old_id] = [s.id for s in await service.stories.recent()]

        clock[0] += timedelta(days=91)  # the old story is now past the limit; a new one arrives
        feed_server.routes["/feed"] = Route(body=rss([("new", "Mistral releases an open model")]))
        await service.ingest.poll(force=True)
        await service.enrichment.enrich()
        await service.indexing.index()
        pruned = await service.retention.prune()
        assert (pruned.stories, pruned.messages, pruned.digests) == (1, 1, 1)

        store = service.store
        assert [s.title for s in await service.stories.recent()] == ["Mistral releases an open model"]
        assert store.conn.execute("SELECT count(*) FROM stories_fts WHERE rowid = ?", [old_id]).fetchone()[0] == 0
        assert store.conn.execute("SELECT count(*) FROM story_vectors WHERE story_id = ?", [old_id]).fetchone()[0] == 0
        assert store.conn.execute("SELECT count(*) FROM story_sources WHERE story_id = ?", [old_id]).fetchone()[0] == 0
        ids, _ = await service.indexing.vectors.matrix()
        assert old_id not in ids.tolist() and len(ids) == 1
        after = await service.ask.answer("Who reported record data center revenue?")
        assert all(c.story_id != old_id for c in after.citations)
        assert (await service.ask.answer("Who released an open model?")).found

        # /stop: settings, digests, delivery history and messages go; nothing names the chat any more.
        await service.digests.digest_now(Chat(CHAT), request="2")
        assert await service.subscribers.stop(Chat(CHAT)) is not None
        assert mentions(settings.db, CHAT) == [], sub
    finally:
        await service.aclose()
