"""The first run as an admin makes it: `newsbot run` with an empty model directory fetches the models in the
background from a server that answers like the hub, with progress lines in its log and the state in `newsbot health`,
answers /help meanwhile, and once the models are here summarizes again the stories it stored without them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from tests.fakebotapi import TOKEN, FakeBotAPI
from tests.fakehub import SUMMARIZER, serve_repo
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import rss
from tests.tinymodels import TinyModels

ROOT = Path(__file__).resolve().parents[2]
MODELS = [SUMMARIZER, "Helsinki-NLP/opus-mt-it-en", "Helsinki-NLP/opus-mt-en-it", "Helsinki-NLP/opus-mt-mul-en"]


def summarized_by(db: Path) -> list[str | None]:
    """Each story's summarizer, as the enrichment recorded it (None: summarized without a model, or not yet)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT models FROM stories ORDER BY id").fetchall()
    return [json.loads(models or "{}").get("summarize") for (models,) in rows]


async def health(env: dict[str, str], *options: str) -> str:
    """`newsbot health` as an admin runs it beside the bot (off this test's event loop: the command runs its own)."""
    return (await asyncio.to_thread(CliRunner().invoke, app, ["health", *options], env=env)).stdout


@pytest.mark.slow
async def test_the_first_run_fetches_the_models_while_the_bot_serves(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels
) -> None:
    feed_server.routes["/feed"] = Route(body=rss([("a", "Story A"), ("b", "Story B")]))
    (tmp_path / "feeds.yaml").write_text(
        yaml.safe_dump({"settings": {"languages": ["en", "it"]}, "feeds": [{"url": feed_server.url("/feed")}]})
    )
    db, log = tmp_path / "newsbot.db", tmp_path / "bot.log"
    with FeedServer() as hub, FakeBotAPI() as api:
        serve_repo(hub, SUMMARIZER, tiny_models.long_summarizer, rate=150_000)  # about 9 s: long enough to look at
        serve_repo(hub, "Helsinki-NLP/opus-mt-it-en", tiny_models.it_en)
        serve_repo(hub, "Helsinki-NLP/opus-mt-en-it", tiny_models.en_de)
        serve_repo(hub, "Helsinki-NLP/opus-mt-mul-en", tiny_models.mul_en)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_", "HF_"))}
        env |= {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "NEWSBOT_DB": str(db),
            "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
            "NEWSBOT_BACKEND": "transformers",
            "NEWSBOT_MODEL_DIR": str(tmp_path / "models"),
            "NEWSBOT_ALLOW_PRIVATE_URLS": "1",
            "NEWSBOT_EXTRACT_ARTICLES": "0",
            "HF_ENDPOINT": hub.url().rstrip("/"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stderr=log.open("ab"), stdout=subprocess.DEVNULL
        )
        try:
            text = lambda: log.read_text(encoding="utf-8", errors="replace")  # noqa: E731
            assert await asyncio.to_thread(api.wait_for, lambda: f"downloading {SUMMARIZER}: " in text(), 60), text()
            # Meanwhile: the bot answers, stories are stored (without their summarizer), health says what is fetched.
            api.push_text(42, "/help")
            assert await asyncio.to_thread(api.wait_for, lambda: api.messages_to(42), 20), text()
            assert await asyncio.to_thread(api.wait_for, lambda: len(summarized_by(db)) == 2, 30), text()
            assert summarized_by(db) == [None, None]
            during = await health(env, "--json")
            assert "models ready" not in text(), "the download was over before the bot was looked at"
            download = json.loads(during)["model_download"]
            assert download["state"] == "fetching" and download["current"] == SUMMARIZER, download
            assert sorted(download["models"]) == sorted(MODELS)
            shown = await health(env)
            # The MB come with the first count of bytes, a few seconds in (the log's lines are checked below).
            assert re.search(rf"downloading 1 of 4 \({re.escape(SUMMARIZER)}(: \d+ of 1 MB)?\)", shown), shown

            assert await asyncio.to_thread(api.wait_for, lambda: "models ready" in text(), 90), text()
            again = lambda: summarized_by(db) == [SUMMARIZER, SUMMARIZER]  # noqa: E731
            assert await asyncio.to_thread(api.wait_for, again, 90), (summarized_by(db), text())
            after = json.loads(await health(env, "--json"))
            assert after["missing_models"] == [] and after["model_download"]["state"] == "done"
            bot.send_signal(signal.SIGTERM)
            assert bot.wait(30) == 0
        finally:
            if bot.poll() is None:
                bot.kill()
    for name in MODELS:  # a progress line per model at least: MB of its total, and the rate
        assert re.search(rf"downloading {re.escape(name)}: [\d.]+ of [\d.]+ MB, [\d.]+ MB/s", text()), name
    assert "Fetching" not in text() and "it/s" not in text()  # no third-party progress bars in the log
