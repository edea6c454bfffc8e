"""Trends through the service and the CLI: the fixture fortnight polled from a local feed, keyphrases made by the real
yake, counts equal to the fixture's, a PNG a phone can show, `newsbot trends` with its JSON twin and its errors, and
its window as long as NEWSBOT_RETENTION_DAYS."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from PIL import Image
from typer.testing import CliRunner

from bot.cli import app
from bot.i18n import texts
from bot.render.trends import chart_title, chart_ylabel
from bot.service import make_service
from tests.httpserver import FeedServer, Route
from tests.qa_corpus import rss
from tests.test_service import make_settings
from tests.trends.week import BEFORE, FEEDS_YAML, NOW, WEEK, feed, items


def write_feeds(tmp_path: Path, server: FeedServer, body: bytes) -> None:
    server.routes["/week"] = Route(body=body)
    listed = {**FEEDS_YAML, "feeds": [{"url": server.url("/week"), "title": "Wire", "lang": "en"}]}
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump(listed))


def check_png(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (1200, 840)
    assert 20_000 < len(data) < 1_000_000  # a real chart, far under Telegram's 10 MB


async def test_the_fortnight_gives_the_fixtures_counts_and_a_chart(tmp_path: Path, feed_server: FeedServer) -> None:
    write_feeds(tmp_path, feed_server, feed())
    service = make_service(make_settings(tmp_path, backend="extractive"), now=lambda: NOW)
    try:
        await service.ingest.poll(force=True)
        await service.enrichment.enrich()
        assert await service.trends.pending() == len(items())
        assert await service.trends.extract() == len(items()) and await service.trends.pending() == 0
        report = await service.trends.report(days=7)
        t = texts("it")
        png = await service.trends.chart(report, title=chart_title(report, t), ylabel=chart_ylabel(t), lang="it")
        rome = await service.trends.report(days=7, tz="Pacific/Kiritimati")  # UTC+14: 10:00 UTC is the next day
    finally:
        await service.aclose()
    assert {t.name: t.daily for t in report.watched} == WEEK and {t.name: t.previous for t in report.watched} == BEFORE
    [voice] = [p for p in report.phrases if "voice agent" in p.name]  # found by yake, not given; said once
    assert voice.total == sum(i.voice_agent for i in items())
    check_png(png)
    assert rome.days[-1] > report.days[-1]


def test_cli_trends_prints_the_counts_writes_the_png_and_refuses_bad_input(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    today = datetime.now(UTC).date()  # the CLI runs on the real clock
    write_feeds(tmp_path, feed_server, feed(today))
    env = {
        "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
        "NEWSBOT_DB": str(tmp_path / "newsbot.db"),
        "NEWSBOT_BACKEND": "extractive",
        "NEWSBOT_ALLOW_PRIVATE_URLS": "1",
        "NEWSBOT_EXTRACT_ARTICLES": "0",
    }
    runner = CliRunner()
    assert runner.invoke(app, ["poll", "--once"], env=env).exit_code == 0
    chart = tmp_path / "trends.png"
    result = runner.invoke(app, ["trends", "--days", "7", "--png", str(chart), "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {row["name"]: tuple(row["daily"]) for row in data["watchlist"]} == WEEK
    assert {row["name"]: row["previous"] for row in data["watchlist"]} == BEFORE
    assert data["days"][-1] == today.isoformat() and data["stories"] == sum(map(sum, WEEK.values()))
    check_png(chart.read_bytes())
    table = runner.invoke(app, ["trends"], env=env)
    assert table.exit_code == 0 and "Most told" in table.stdout and "OpenAI" in table.stdout
    openai = next(line for line in table.stdout.splitlines() if line.split()[:1] == ["OpenAI"])
    assert [cell for cell in openai.split() if cell != "│"][1:4] == ["9", "4", "+5"]
    for bad, message in ((["--days", "0"], "--days"), (["--png", "/nonexistent/dir/x.png"], "cannot write the chart")):
        refused = runner.invoke(app, ["trends", *bad], env=env)
        assert refused.exit_code != 0 and message in refused.output, refused.output
        assert "Traceback" not in refused.output


def test_cli_trends_reaches_back_as_far_as_stories_are_kept(tmp_path: Path, feed_server: FeedServer) -> None:
    today = datetime.now(UTC).date()  # the CLI runs on the real clock
    long_ago = today - timedelta(days=300)
    archive = rss([{"id": "old-1", "title": "OpenAI: an old story", "text": "OpenAI said something long ago.",
                    "published": f"{long_ago.isoformat()}T10:00:00Z"}])  # fmt: skip
    write_feeds(tmp_path, feed_server, feed(today))
    feed_server.routes["/archive"] = Route(body=archive)
    listed = yaml.safe_load((tmp_path / "feeds.yaml").read_text())
    listed["feeds"].append({"url": feed_server.url("/archive"), "title": "Archive", "lang": "en"})
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump(listed))
    env = {
        "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
        "NEWSBOT_DB": str(tmp_path / "newsbot.db"),
        "NEWSBOT_BACKEND": "extractive",
        "NEWSBOT_ALLOW_PRIVATE_URLS": "1",
        "NEWSBOT_EXTRACT_ARTICLES": "0",
        "NEWSBOT_RETENTION_DAYS": "365",
    }
    runner = CliRunner()
    assert runner.invoke(app, ["poll", "--once"], env=env).exit_code == 0

    year = runner.invoke(app, ["trends", "--days", "365", "--json"], env=env)
    assert year.exit_code == 0, year.output
    data = json.loads(year.stdout)
    assert len(data["days"]) == 365 and data["days"][-1] == today.isoformat()
    [openai] = [row for row in data["watchlist"] if row["name"] == "OpenAI"]
    assert openai["total"] == sum(WEEK["OpenAI"]) + BEFORE["OpenAI"] + 1  # the fortnight and the story 300 days ago
    assert openai["daily"][data["days"].index(long_ago.isoformat())] == 1
    assert runner.invoke(app, ["trends", "--days", "365"], env=env).exit_code == 0

    too_far = runner.invoke(app, ["trends", "--days", "366"], env=env)
    assert too_far.exit_code == 1 and type(too_far.exception) is SystemExit and "Traceback" not in too_far.output
    said = " ".join(too_far.output.split())
    assert "366 days go further back than stories are kept (NEWSBOT_RETENTION_DAYS=365)" in said, said
    assert "ask for 1 to 365 days" in said
    by_default = runner.invoke(app, ["trends", "--days", "91"], env={**env, "NEWSBOT_RETENTION_DAYS": None})
    assert by_default.exit_code == 1 and "(NEWSBOT_RETENTION_DAYS=90)" in " ".join(by_default.output.split())
