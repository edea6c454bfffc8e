"""`newsbot poll --once` on a main box with a broker and no models: a worker box that ran `newsbot models download`
(from a local server answering like the Hugging Face Hub) summarizes its stories, and the main box never loads a model
library."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fakehub import SUMMARIZER, hub
from tests.httpserver import FeedServer
from tests.workers.fleet import ROOT, Worker, environment, serve_feed, wait_for_workers
from tests.workers.redis import RedisServer

__all__ = ["hub"]  # the fixture, used by name

STORIES = 8
POLL = (
    "import sys\n"
    "from bot.cli import app\n"
    "try:\n"
    "    app(['poll', '--once'])\n"
    "except SystemExit as e:\n"
    "    assert not e.code, e.code\n"
    "loaded = [m for m in ('torch', 'transformers', 'ctranslate2') if m in sys.modules]\n"
    "assert not loaded, loaded\n"
)


@pytest.mark.slow
def test_poll_once_on_a_main_box_without_models_summarizes_through_a_worker(
    tmp_path: Path, hub: FeedServer, feed_server: FeedServer, redis_server: RedisServer, redis_url: str
) -> None:
    feeds = tmp_path / "feeds.yaml"  # the shipped model ids: nothing names a local path
    listed = {"settings": {"languages": ["en", "it", "de"]}, "feeds": [{"url": serve_feed(feed_server, STORIES)}]}
    feeds.write_text(yaml.safe_dump(listed), encoding="utf-8")
    main = environment(tmp_path, feeds, redis_url) | {"HF_HUB_OFFLINE": "1"}
    box = main | {"NEWSBOT_MODEL_DIR": str(tmp_path / "worker-models")}
    download = box | {"HF_ENDPOINT": hub.url().rstrip("/"), "HF_HUB_OFFLINE": "0"}
    subprocess.run([sys.executable, "-m", "bot", "models", "download"], cwd=ROOT, env=download, check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    worker = Worker(box, "w", tmp_path / "w.log")
    try:
        wait_for_workers(redis_server.client(), [worker])
        done = subprocess.run([sys.executable, "-c", POLL], cwd=ROOT, env=main, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"summarized {STORIES} stories, 0 failed" in done.stdout, done.stdout + done.stderr
    finally:
        worker.stop()
    assert not (tmp_path / "models").exists()  # the main box's model directory: never made
    with sqlite3.connect(tmp_path / "newsbot.db") as conn:
        models = conn.execute("SELECT DISTINCT json_extract(models, '$.summarize') FROM stories").fetchall()
        italian = conn.execute("SELECT count(*) FROM stories WHERE lang = 'it' AND translated = 1").fetchone()[0]
    assert models == [(SUMMARIZER,)] and italian >= 1
