"""`newsbot run` as a process: killed with SIGKILL during a stalled send and restarted, every subscriber has the
digest and only the stalled message may arrive twice; SIGTERM exits 0; the token appears in no log line."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.service import Chat, make_service
from bot.store.base import iso
from tests.fakebotapi import TOKEN, FakeBotAPI
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import rss
from tests.test_service import make_settings

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIBERS = 50
STALLED = 17  # the k-th send of the round hangs


def environment(tmp_path: Path, api: FakeBotAPI) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "NEWSBOT_DB": str(tmp_path / "newsbot.db"),
            "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
            "NEWSBOT_BACKEND": "extractive",
            "NEWSBOT_ALLOW_PRIVATE_URLS": "1",
            "NEWSBOT_EXTRACT_ARTICLES": "0",
        }
    )
    return env


async def prepare(tmp_path: Path, server: FeedServer) -> None:
    """Stories stored and summarized, 50 subscribers whose morning slot has just passed."""
    server.routes["/feed"] = Route(body=rss([("a", "Story A"), ("b", "Story B"), ("c", "Story C")]))
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": server.url("/feed"), "lang": "en"}]}))
    service = make_service(make_settings(tmp_path, backend="extractive"))
    try:
        await service.ingest.poll(force=True)
        await service.enrichment.enrich()
        now = datetime.now(UTC)
        for chat_id in range(1, SUBSCRIBERS + 1):
            sub = (await service.subscribers.start(Chat(chat_id))).subscription
            await service.ctx.db(
                service.store.update_subscription, sub.id, now, next_digest_at=iso(now - timedelta(minutes=1))
            )
    finally:
        await service.aclose()


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--verbose", "run"],
        cwd=ROOT,
        env=env,
        stderr=log.open("ab"),
        stdout=subprocess.DEVNULL,
    )


def heartbeat_pid(db: Path) -> int | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT pid FROM heartbeats WHERE process = 'run'").fetchone()
    return row[0] if row else None


def outbox(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT key, state FROM outbox ORDER BY id").fetchall()


@pytest.mark.slow
async def test_kill_during_a_stalled_send_then_restart_delivers_everything_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    await prepare(tmp_path, feed_server)
    db, log = tmp_path / "newsbot.db", tmp_path / "bot.log"
    with FakeBotAPI() as api:
        api.stall_sends = {STALLED}
        env = environment(tmp_path, api)
        first = start_bot(env, log)
        try:
            assert await asyncio.to_thread(api.stalled.wait, 60), log.read_text()
            # Everything but the stalled message goes out and is recorded meanwhile.
            sent = lambda: sum(state == "sent" for _, state in outbox(db))  # noqa: E731
            assert await asyncio.to_thread(api.wait_for, lambda: sent() == SUBSCRIBERS - 1, 30), outbox(db)
            [stalled] = [c for c in api.calls_of("sendMessage")][STALLED - 1 : STALLED]
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
        api.release.set()  # the stalled request completes at "Telegram": it was delivered, the bot never knew
        await asyncio.to_thread(api.wait_for, lambda: len(api.messages_to(stalled.params["chat_id"])) == 1, 5)

        second = start_bot(env, log)
        try:
            done = lambda: outbox(db) and all(state == "sent" for _, state in outbox(db))  # noqa: E731
            assert await asyncio.to_thread(api.wait_for, done, 60), outbox(db)
            # The running bot beats, and `newsbot health` (Docker's HEALTHCHECK) sees it alive.
            assert await asyncio.to_thread(api.wait_for, lambda: heartbeat_pid(db) == second.pid, 10)
            healthy = await asyncio.to_thread(CliRunner().invoke, app, ["health", "--json"], env=env)
            assert healthy.exit_code == 0, healthy.output
            second.send_signal(signal.SIGTERM)
            assert second.wait(30) == 0  # a clean stop
        finally:
            if second.poll() is None:
                second.kill()

        keys = [key for key, _ in outbox(db)]
        assert len(keys) == len(set(keys)) == SUBSCRIBERS  # one digest message per subscriber, by key
        per_chat = Counter(m.chat_id for m in api.sent)
        assert set(per_chat) == set(range(1, SUBSCRIBERS + 1))
        twice = [chat for chat, count in per_chat.items() if count > 1]
        assert twice == [stalled.params["chat_id"]] and per_chat[twice[0]] == 2  # only the one in flight
        text = log.read_text()
        assert TOKEN not in text and "<token>" in text  # python-telegram-bot and httpx log URLs; we redact them


def test_run_without_a_token_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    result = CliRunner().invoke(
        app,
        ["run"],
        env={
            "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
            "NEWSBOT_DB": str(tmp_path / "x.db"),
            "TELEGRAM_BOT_TOKEN": "",
        },
    )
    assert result.exit_code == 1 and "TELEGRAM_BOT_TOKEN is not set" in result.output and "@BotFather" in result.output
