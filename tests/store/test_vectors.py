"""Story vectors on disk: what they cost per row, and the migration that moved them into a rowid table."""

import logging
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from bot.errors import StorageError
from bot.feeds.dedupe import decide
from bot.feeds.types import ParsedEntry
from bot.store import Store, open_store
from bot.store.migrations import m0017, migrations

DIM = 384  # e5-small and MiniLM alike
EMBEDDERS = ("e5", "minilm")


def _stories(store: Store, now: datetime, count: int) -> list[int]:
    store.sync_feeds([("https://ex.org/feed", None, None, None, True)], now)
    [feed] = store.list_feeds()
    entries = [
        ParsedEntry(guid=f"g{n}", url=f"https://ex.org/{n}", title=f"Story {n}", text=f"Body of story number {n}.")
        for n in range(count)
    ]
    store.save_entries(feed.id, decide(entries, {}, set()), now)
    return [int(row[0]) for row in store.conn.execute("SELECT id FROM stories ORDER BY id")]


def _vectors(ids: list[int], seed: int) -> dict[str, list[tuple[int, str, np.ndarray]]]:
    rng = np.random.default_rng(seed)
    return {
        embedder: [(i, f"hash{i}", rng.standard_normal(DIM).astype(np.float32)) for i in ids] for embedder in EMBEDDERS
    }


def test_a_vector_takes_about_its_own_size_on_disk(store: Store, now: datetime) -> None:
    ids = _stories(store, now, 400)
    for embedder, rows in _vectors(ids, 0).items():
        store.save_vectors(embedder, rows)
    store.conn.commit()
    pages = store.conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name IN ('story_vectors', 'sqlite_autoindex_story_vectors_1')"
    ).fetchone()[0]
    per_row = pages / (len(ids) * len(EMBEDDERS))
    # 1,536 bytes of floats and a hash: two rows to a 4 KB page; the WITHOUT ROWID table took 4.7 KB (an overflow page
    # each)
    assert DIM * 4 < per_row < 2.5 * 1024


def test_the_migration_keeps_every_vector_its_key_and_its_cascade(tmp_path: Path, now: datetime) -> None:
    path = tmp_path / "newsbot.db"
    old = Store(path)
    migrations.apply(old.db, stop_before="0016_story_vectors_in_a_rowid_table")
    assert (
        "WITHOUT ROWID" in old.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'story_vectors'").fetchone()[0]
    )
    ids = _stories(old, now, 30)
    saved = _vectors(ids, 1)
    for embedder, rows in saved.items():
        old.save_vectors(embedder, rows)
    old.close()

    # Up to the compaction (later migrations write to the log again, a few pages each), then the rest as at a start.
    store = Store(path)
    migrations.apply(store.db, stop_before="0018_model_downloads")
    assert store.conn.execute("PRAGMA freelist_count").fetchone()[0] == 0  # the old table's pages handed back
    assert Path(f"{path}-wal").stat().st_size < 64 * 1024  # and the log that carried the rewrite emptied
    store.close()
    store = open_store(path)
    assert (
        "WITHOUT ROWID"
        not in store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'story_vectors'").fetchone()[0]
    )
    for embedder, rows in saved.items():
        got, matrix = store.vectors(embedder, DIM)
        assert got.tolist() == ids
        assert np.array_equal(matrix, np.stack([vector for _, _, vector in rows]))
    replacement = saved["minilm"][0][2]
    store.save_vectors("e5", [(ids[0], "changed", replacement)])  # the upsert still finds its key
    assert store.vector_state("e5")[0] == len(ids)
    assert np.array_equal(store.vectors("e5", DIM)[1][0], replacement)
    with store.conn:
        store.conn.execute("DELETE FROM story_sources WHERE story_id = ?", [ids[1]])
        store.conn.execute("DELETE FROM stories WHERE id = ?", [ids[1]])
    assert store.vector_state("e5")[0] == store.vector_state("minilm")[0] == len(ids) - 1
    store.close()


def test_a_database_that_cannot_be_compacted_now_is_left_to_reuse_its_pages(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(tmp_path / "busy.db")
    db.execute("CREATE TABLE t (x)")
    db.conn.execute("BEGIN")
    db.execute("INSERT INTO t VALUES (1)")
    with caplog.at_level(logging.WARNING, logger="bot.store.migrations"):
        m0017(db)  # VACUUM cannot run inside a transaction: said, not raised
    assert "not compacted" in caplog.text
    db.conn.commit()
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 1


def test_two_processes_opening_an_old_database_at_once_both_start(tmp_path: Path, now: datetime) -> None:
    """Both read 0016 as pending; the one that applies it second fails, rolls back and finds nothing left to do."""
    for attempt in range(3):
        path = tmp_path / f"newsbot{attempt}.db"
        old = Store(path)
        migrations.apply(old.db, stop_before="0016_story_vectors_in_a_rowid_table")
        ids = _stories(old, now, 1500)
        for embedder, rows in _vectors(ids, attempt).items():
            old.save_vectors(embedder, rows)
        old.close()
        outcomes = _open_together(path, 2)
        assert outcomes == ["opened", "opened"]
        store = open_store(path)
        assert store.vector_state("e5")[0] == store.vector_state("minilm")[0] == len(ids)
        applied = [row[0] for row in store.conn.execute("SELECT name FROM _sqlite_migrations WHERE name LIKE '001%'")]
        assert sorted(applied) == sorted(set(applied))  # each once
        store.close()


def _open_together(path: Path, count: int) -> list[str]:
    """Open the database from `count` threads at once (a connection each, as processes have): how each went."""
    start = threading.Barrier(count)
    outcomes: list[str] = []

    def open_it() -> None:
        start.wait()
        try:
            open_store(path).close()
            outcomes.append("opened")
        except StorageError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=open_it) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes
