"""A main box and its workers for the tests: 200 stories (FLORES lines, English and Italian) served as one feed,
feeds.yaml naming the tiny models, the environment `newsbot worker` processes share with the main box, and the
workers themselves (real subprocesses, as an admin starts them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from tests.corpora import flores_lines
from tests.httpserver import FeedServer, Route
from tests.tinymodels import TinyModels

ROOT = Path(__file__).resolve().parents[2]


def feed(count: int, *, italian_every: int = 10) -> bytes:
    """`count` entries, each three FLORES lines long; every `italian_every`-th in Italian."""
    english, italian = flores_lines("en", 3 * count), flores_lines("it", 3 * count)
    items = []
    for n in range(count):
        lines = italian if n % italian_every == 0 else english
        title, text = lines[3 * n][:80], " ".join(lines[3 * n : 3 * n + 3])
        items.append(f"<item><title>{escape(title)}</title><link>https://news.example/{n}</link><guid>g{n}</guid>"
                     f"<description>{escape(text)}</description></item>")  # fmt: skip
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>{"".join(items)}</channel></rss>'.encode()


def write_feeds_yaml(path: Path, url: str, tiny: TinyModels, *, summarizer: Path | None = None) -> Path:
    """feeds.yaml naming the tiny models (`summarizer`: another one, for a worker with other models)."""
    models = {
        "summarizer": str(summarizer or tiny.long_summarizer),
        "translation_overrides": {"it-en": str(tiny.it_en), "en-de": str(tiny.en_de), "en-it": str(tiny.en_it)},
        "translation_fallback": str(tiny.mul_en),
    }
    listed = {"settings": {"languages": ["en", "it", "de"], "models": models}, "feeds": [{"url": url}]}
    path.write_text(yaml.safe_dump(listed), encoding="utf-8")
    return path


def serve_feed(server: FeedServer, count: int) -> str:
    server.routes["/feed"] = Route(body=feed(count))
    return server.url("/feed")


def environment(tmp_path: Path, feeds: Path, broker_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env |= {
        "NEWSBOT_DB": str(tmp_path / "newsbot.db"),
        "NEWSBOT_FEEDS": str(feeds),
        "NEWSBOT_BACKEND": "transformers",
        "NEWSBOT_MODEL_DIR": str(tmp_path / "models"),
        "NEWSBOT_ALLOW_PRIVATE_URLS": "1",
        "NEWSBOT_EXTRACT_ARTICLES": "0",
        "NEWSBOT_TORCH_THREADS": "1",  # the same arithmetic in every process, so outputs compare equal
    }
    if broker_url:
        env["NEWSBOT_BROKER_URL"] = broker_url
    return env


def settings_of(env: dict[str, str], **overrides: Any) -> Any:
    from bot.config import load_settings

    names = {"NEWSBOT_DB": "db", "NEWSBOT_FEEDS": "feeds", "NEWSBOT_BACKEND": "backend",
             "NEWSBOT_MODEL_DIR": "model_dir", "NEWSBOT_ALLOW_PRIVATE_URLS": "allow_private_urls",
             "NEWSBOT_EXTRACT_ARTICLES": "extract_articles", "NEWSBOT_TORCH_THREADS": "torch_threads",
             "NEWSBOT_BROKER_URL": "broker_url"}  # fmt: skip
    return load_settings(**{names[k]: v for k, v in env.items() if k in names}, **overrides)


class Worker:
    """One `newsbot worker` subprocess; its log in `log`."""

    def __init__(self, env: dict[str, str], name: str, log: Path, *, concurrency: int = 1) -> None:
        self.name = name
        self.log = log
        command = [sys.executable, "-m", "bot", "worker", "--name", name, "--concurrency", str(concurrency)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def wait_for_workers(redis: Any, workers: list[Worker], timeout: float = 90) -> None:
    """Until every worker has said it is up (its sign of life in Redis) and is consuming."""
    from bot.workers.app import WORKER_KEY

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in workers:
            assert worker.process.poll() is None, f"worker {worker.name} exited:\n{worker.output()}"
        if all(redis.get(WORKER_KEY + w.name) for w in workers):
            return
        time.sleep(0.1)
    raise AssertionError("workers not up: " + "; ".join(w.output()[-2000:] for w in workers))


def enriched(db: Path) -> dict[str, tuple[Any, ...]]:
    """Each enriched story's output, by URL: what must be the same whichever path made it."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT url, lang, lang_confidence, title_en, text_en, summary_en, translated, models FROM stories "
            "WHERE enriched_hash = content_hash"
        ).fetchall()
    return {row[0]: (*row[1:7], json.loads(row[7])) for row in rows}


def count_saves(db: Path) -> None:
    """A trigger counting every time a story's enrichment is written (stored twice = counted twice)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS test_saves (story_id INTEGER)")
        conn.execute(
            "CREATE TRIGGER IF NOT EXISTS test_count_saves AFTER UPDATE OF enriched_at ON stories "
            "WHEN NEW.enriched_at IS NOT NULL BEGIN INSERT INTO test_saves VALUES (NEW.id); END"
        )


def saves(db: Path) -> dict[int, int]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT story_id, count(*) FROM test_saves GROUP BY story_id").fetchall())
