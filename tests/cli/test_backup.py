"""`newsbot backup DIR`: taken while another process inserts 1,000 stories, the copy passes PRAGMA integrity_check
and holds a consistent snapshot; it holds the stories still only in the write-ahead log; newsbot started on the
restored copy serves `stories list` and `health`."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.feeds.dedupe import decide
from bot.feeds.types import ParsedEntry
from bot.store import open_store
from bot.store.migrations import migrations

ROOT = Path(__file__).resolve().parents[2]
STORIES = 1000

# Another process, as `newsbot run` would be: one story per write transaction, a few milliseconds apart.
WRITER = f"""
import sys, time
from datetime import UTC, datetime
from bot.feeds.dedupe import decide
from bot.feeds.types import ParsedEntry
from bot.store import open_store

store = open_store(sys.argv[1])
[feed] = store.list_feeds()
for n in range({STORIES}):
    entry = ParsedEntry(guid=f"g{{n}}", url=f"https://ai.example/{{n}}", title=f"Story {{n}}", text="Body. " * 50)
    store.save_entries(feed.id, decide([entry], {{}}, {{}}), datetime.now(UTC))
    if n == 0:
        print("started", flush=True)
    time.sleep(0.005)
store.close()
"""


@pytest.mark.slow
def test_a_backup_during_writes_is_consistent_and_a_restored_copy_serves(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    (live / "feeds.yaml").write_text("# my feeds\nfeeds:\n  - url: https://ai.example/feed.xml\n", encoding="utf-8")
    store = open_store(live / "newsbot.db")
    store.sync_feeds([("https://ai.example/feed.xml", None, None, None, True)], datetime.now(UTC))
    store.close()
    env = {"NEWSBOT_DB": str(live / "newsbot.db"), "NEWSBOT_FEEDS": str(live / "feeds.yaml"),
           "NEWSBOT_BACKEND": "extractive"}  # fmt: skip

    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(live / "newsbot.db")], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "started"
        time.sleep(0.5)
        result = CliRunner().invoke(app, ["backup", str(tmp_path / "backups"), "--json"], env=env)
        still_writing = writer.poll() is None
        assert writer.wait(60) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["integrity"] == "ok" and still_writing  # the copy was taken mid-stream
    assert 0 < report["stories"] < STORIES
    copy = Path(report["database"])
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == report["stories"]
        # Every story in the snapshot has its source: a transaction is in the copy whole or not at all.
        orphans = "SELECT count(*) FROM stories WHERE id NOT IN (SELECT story_id FROM story_sources)"
        assert conn.execute(orphans).fetchone()[0] == 0
    with sqlite3.connect(live / "newsbot.db") as conn:
        assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == STORIES
    assert Path(report["feeds"]).read_text(encoding="utf-8") == (live / "feeds.yaml").read_text(encoding="utf-8")

    # Restore as docs/operating.md says: both files back in place, no -wal or -shm beside the database.
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy2(copy, restored / "newsbot.db")
    shutil.copy2(report["feeds"], restored / "feeds.yaml")
    env = {**env, "NEWSBOT_DB": str(restored / "newsbot.db"), "NEWSBOT_FEEDS": str(restored / "feeds.yaml")}
    listed = CliRunner().invoke(app, ["stories", "list", "--json", "--limit", "5000"], env=env)
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == report["stories"]
    health = CliRunner().invoke(app, ["health", "--json"], env=env)
    assert json.loads(health.stdout)["feeds"] == 1  # it serves (exit 1: no bot has run on this copy yet)
    with sqlite3.connect(restored / "newsbot.db") as conn:
        applied = {row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations")}
    assert applied == {m.name for m in migrations._migrations}


def test_a_backup_never_overwrites_and_a_bad_directory_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    env = {"NEWSBOT_DB": str(tmp_path / "newsbot.db"), "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
           "NEWSBOT_BACKEND": "extractive"}  # fmt: skip
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    result = CliRunner().invoke(app, ["backup", str(blocked / "sub")], env=env)
    assert result.exit_code == 1 and "cannot create" in result.output and "Traceback" not in result.output
    made = CliRunner().invoke(app, ["backup", str(tmp_path / "b")], env=env)
    assert made.exit_code == 0 and "integrity ok" in made.output and "and feeds.yaml" in made.output


def test_a_backup_holds_the_stories_still_only_in_the_write_ahead_log(tmp_path: Path) -> None:
    """Stories committed while another connection reads are in the WAL, not yet in the database file: a copy of the
    file alone would lack them, the backup must not."""
    (tmp_path / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    env = {"NEWSBOT_DB": str(tmp_path / "newsbot.db"), "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
           "NEWSBOT_BACKEND": "extractive"}  # fmt: skip
    now = datetime.now(UTC)
    store = open_store(tmp_path / "newsbot.db")
    reader = sqlite3.connect(tmp_path / "newsbot.db", isolation_level=None)
    try:
        store.sync_feeds([("https://ai.example/feed.xml", None, None, None, True)], now)
        [feed] = store.list_feeds()
        # An open read transaction keeps every later commit in the WAL: no checkpoint may copy it into the file.
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM stories").fetchone()[0] == 0
        for n in range(20):
            entry = ParsedEntry(guid=f"g{n}", url=f"https://ai.example/{n}", title=f"Story {n}", text="Body. " * 50)
            store.save_entries(feed.id, decide([entry], {}, {}), now)
        file_alone = tmp_path / "file-alone.db"
        shutil.copy(tmp_path / "newsbot.db", file_alone)
        with sqlite3.connect(file_alone) as conn:  # the premise: the database file alone lacks them
            assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == 0
        result = CliRunner().invoke(app, ["backup", str(tmp_path / "backups"), "--json"], env=env)
    finally:
        reader.close()
        store.close()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["integrity"] == "ok"
    assert report["stories"] == 20, "the backup lacks stories committed before it began"
    with sqlite3.connect(report["database"]) as conn:
        titles = {row[0] for row in conn.execute("SELECT title FROM stories")}
    assert titles == {f"Story {n}" for n in range(20)}
