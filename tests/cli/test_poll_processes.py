"""Two `newsbot poll --once` processes on the same feed at once (an admin's poll beside the running bot's): every
story keeps its source, none is stored twice, and an entry without a link is not left as a sourceless twin."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import open_store
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import rss

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_poll_once_processes_on_one_feed_leave_every_story_with_a_source(tmp_path: Path) -> None:
    items = [(f"s{n}", f"Story {n}") for n in range(40)]
    body = rss(items).replace(b"<link>https://news.example/s0</link>", b"")  # one entry without a link
    with FeedServer() as server:
        server.routes["/feed"] = Route(body=body)
        (tmp_path / "feeds.yaml").write_text(f"feeds:\n  - url: {server.url('/feed')}\n", encoding="utf-8")
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")},
               "NEWSBOT_DB": str(tmp_path / "newsbot.db"), "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
               "NEWSBOT_BACKEND": "extractive", "NEWSBOT_ALLOW_PRIVATE_URLS": "1",
               "NEWSBOT_EXTRACT_ARTICLES": "0"}  # fmt: skip
        open_store(tmp_path / "newsbot.db").close()  # migrated once, before the race
        command = [sys.executable, "-m", "bot", "poll", "--once"]
        both = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                for _ in range(2)]  # fmt: skip
        assert [p.wait(120) for p in both] == [0, 0], [p.stderr.read() if p.stderr else "" for p in both]
    with sqlite3.connect(tmp_path / "newsbot.db") as conn:
        orphans = "SELECT count(*) FROM stories WHERE id NOT IN (SELECT story_id FROM story_sources)"
        assert conn.execute(orphans).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == len(items)
        assert conn.execute("SELECT count(*) FROM story_sources").fetchone()[0] == len(items)
