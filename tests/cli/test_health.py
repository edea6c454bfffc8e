"""`newsbot health [--json]`: a failing feed and a growing enrichment backlog are reported; the exit code is 1 while
the bot's heartbeat is missing or older than NEWSBOT_HEARTBEAT_MAX_AGE, 0 while it is fresh."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.service import make_service
from tests.httpserver import FeedServer, Route
from tests.test_service import make_settings


def rss(count: int) -> bytes:
    items = "".join(
        f"<item><title>Story number {n} about models</title><link>https://ai.example/{n}</link><guid>g-{n}</guid>"
        f"<description>{'The text of a story. ' * 20}</description></item>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>AI</title>{items}</channel></rss>'.encode()


def in_service(tmp_path: Path, *, poll: bool = False, beat_at: datetime | None = None) -> None:
    """What another process does to the same database: poll the feeds (storing, not summarizing), or beat."""

    async def body() -> None:
        service = make_service(make_settings(tmp_path, backend="extractive"))
        try:
            if poll:
                await service.ingest.poll(force=True)  # the worker of `newsbot run` would summarize them later
            if beat_at is not None:
                await service.ctx.db(service.ctx.store.beat, "run", beat_at, 4242)
        finally:
            await service.aclose()

    asyncio.run(body())


def test_health_reports_a_failing_feed_a_growing_backlog_and_the_heartbeat(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed"] = Route(body=rss(3))
    feed_server.routes["/down"] = Route(status=503)
    (tmp_path / "feeds.yaml").write_text(
        yaml.safe_dump({"feeds": [{"url": feed_server.url("/feed")}, {"url": feed_server.url("/down")}]})
    )
    env = {
        "NEWSBOT_DB": str(tmp_path / "newsbot.db"),
        "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
        "NEWSBOT_BACKEND": "extractive",
        "NEWSBOT_HEARTBEAT_MAX_AGE": "60",
    }

    def health() -> tuple[int, dict[str, Any], str]:
        result = CliRunner().invoke(app, ["health", "--json"], env=env)
        return result.exit_code, json.loads(result.stdout), result.stderr

    in_service(tmp_path, poll=True)
    code, first, stderr = health()
    assert code == 1 and first["healthy"] is False and "never run" in stderr
    assert first["heartbeat_at"] is None and first["enrichment_backlog"] == 3 and first["feeds"] == 2
    [failing] = first["failing_feeds"]
    assert failing["url"] == feed_server.url("/down") and "503" in failing["last_error"]

    feed_server.routes["/feed"] = Route(body=rss(7))
    in_service(tmp_path, poll=True, beat_at=datetime.now(UTC))
    code, second, _ = health()
    assert second["enrichment_backlog"] == 7  # grew
    assert (code, second["healthy"], second["problems"]) == (0, True, [])
    assert 0 <= second["heartbeat_age_s"] < 60

    in_service(tmp_path, beat_at=datetime.now(UTC) - timedelta(seconds=300))
    code, third, stderr = health()
    age = re.search(r"heartbeat is (\d+) s old \(limit 60 s\)", stderr)  # 300 s, and the command's own start-up
    assert code == 1 and third["healthy"] is False and age and 300 <= int(age[1]) < 330, stderr

    table = CliRunner().invoke(app, ["health"], env=env)
    assert table.exit_code == 1
    assert "stories waiting for their summary: 7" in table.stdout
    assert f"failing feed #{failing['id']} {feed_server.url('/down')}" in table.stdout
