"""Ingest end to end through the service: real feeds over local HTTP, validators, 304s, one changed feed."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings, load_settings
from bot.feeds.parse import parse_feed
from bot.service import Service, make_service
from tests.httpserver import FeedServer, Route
from tests.realfeeds import LAST_MODIFIED, etag_of, real_feeds, serve

# The two real feeds that are broken beyond use (no entries and an XML syntax error).
BROKEN = {"malformed_rss_namespaced.xml", "rss_2.0_invalid_1.xml"}


def write_feed_list(path: Path, urls: list[str]) -> None:
    path.write_text(yaml.safe_dump({"feeds": [{"url": url} for url in urls]}), encoding="utf-8")


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "db": tmp_path / "newsbot.db",
        "feeds": tmp_path / "feeds.yaml",
        "allow_private_urls": True,
        "extract_articles": False,
        "fetch_timeout": 5.0,
    }
    values.update(overrides)
    return load_settings(**values)


def counting_cpu(service: Service) -> list[str]:
    """Record every CPU-stage call (parse, extract) the service makes."""
    calls: list[str] = []
    original = service.ingest._cpu

    async def spy(fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(fn.__name__)
        return await original(fn, *args, **kwargs)

    service.ingest._cpu = spy  # type: ignore[method-assign]
    return calls


async def test_real_feeds_first_poll_304s_then_one_change(tmp_path: Path, feed_server: FeedServer) -> None:
    served = serve(feed_server, real_feeds())
    write_feed_list(tmp_path / "feeds.yaml", list(served))
    service = make_service(make_settings(tmp_path))

    async def scenario() -> None:
        # 1. First poll: every usable entry is stored, the JSON Feed included.
        first = {r.url: r for r in await service.ingest.poll(force=True)}
        assert {Path(u).name for u, r in first.items() if r.error} == BROKEN
        for url, feed in served.items():
            if feed.path.name in BROKEN:
                continue
            parsed = parse_feed(feed.path.read_bytes(), url=url, content_type=feed.content_type)
            result = first[url]
            assert result.new + result.merged == len({e.guid for e in parsed.entries}), feed.path.name
        json_feed = next(r for u, f in served.items() if f.format == "jsonfeed" for r in [first[u]])
        assert json_feed.new > 0
        stored = service.store.count_stories()
        assert stored == sum(r.new for r in first.values()) > 900

        # 2. Second poll: exactly the served validators go back, every good feed answers 304, nothing is parsed.
        feed_server.clear_log()
        cpu_calls = counting_cpu(service)
        second = {r.url: r for r in await service.ingest.poll(force=True)}
        for url, feed in served.items():
            [request] = feed_server.requests(_path(url))
            assert request.headers["if-none-match"] == etag_of(feed.path.read_bytes())
            assert request.headers["if-modified-since"] == LAST_MODIFIED
            if feed.path.name in BROKEN:  # unchanged broken content stays an error, without a second download
                assert second[url].error == first[url].error
            else:
                assert second[url].not_modified
        assert cpu_calls == []
        assert service.store.count_stories() == stored
        assert all(f.error_count == 2 for f in (await service.feeds.all()) if Path(f.url).name in BROKEN)

        # 3. One feed gains an item: the next poll stores exactly that entry.
        url, feed = next((u, f) for u, f in served.items() if f.path.name == "rss_2.0_ilgiornale.xml")
        body = feed.path.read_bytes().replace(
            b"<item>",
            b"<item><title>Nuovo articolo</title><link>https://www.ilgiornale.it/news/nuovo-1.html</link>"
            b"<guid>https://www.ilgiornale.it/news/nuovo-1.html</guid><description>Testo nuovo.</description></item><item>",
            1,
        )
        route = feed_server.routes[_path(url)]
        route.body, route.etag = body, etag_of(body)
        third = {r.url: r for r in await service.ingest.poll(force=True)}
        assert (third[url].new, third[url].unchanged) == (1, 1)
        assert all(r.not_modified for u, r in third.items() if u != url and served[u].path.name not in BROKEN)
        assert service.store.count_stories() == stored + 1
        story = await service.stories.get("https://www.ilgiornale.it/news/nuovo-1.html")
        assert story is not None and story.title == "Nuovo articolo"

    try:
        await scenario()
    finally:
        await service.aclose()


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.mark.parametrize("enabled", [True, False])
async def test_paused_feed_is_not_polled(tmp_path: Path, feed_server: FeedServer, enabled: bool) -> None:
    served = serve(feed_server, real_feeds()[:1])
    url = next(iter(served))
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": url, "enabled": enabled}]}))
    service = make_service(make_settings(tmp_path))
    try:
        results = await service.ingest.poll(force=True)
    finally:
        await service.aclose()
    assert len(results) == (1 if enabled else 0)
    assert len(feed_server.requests()) == (1 if enabled else 0)


async def test_broken_feed_is_not_downloaded_again_until_it_changes(tmp_path: Path, feed_server: FeedServer) -> None:
    broken = next(f for f in real_feeds() if f.path.name in BROKEN).path.read_bytes()
    feed_server.routes["/feed"] = Route(body=broken, etag='"broken"')
    write_feed_list(tmp_path / "feeds.yaml", [feed_server.url("/feed")])
    service = make_service(make_settings(tmp_path))
    try:
        [first] = await service.ingest.poll(force=True)
        calls = counting_cpu(service)
        [second] = await service.ingest.poll(force=True)
        assert first.error and second.error == first.error and calls == []
        assert [r.headers.get("if-none-match") for r in feed_server.requests()] == [None, '"broken"']
        assert (await service.feeds.get(first.feed_id)).error_count == 2

        good = real_feeds()[0].path.read_bytes()
        feed_server.routes["/feed"] = Route(body=good, etag=etag_of(good))
        [third] = await service.ingest.poll(force=True)
        assert third.error is None and third.new > 0 and calls == ["parse_feed"]
        state = await service.feeds.get(first.feed_id)
        assert (state.status, state.error_count, state.content_error) == ("ok", 0, False)
    finally:
        await service.aclose()


async def test_failing_feed_backs_off_then_is_disabled_until_enabled(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(status=500)
    write_feed_list(tmp_path / "feeds.yaml", [feed_server.url("/feed")])
    clock = [datetime(2026, 11, 25, 12, 0, tzinfo=UTC)]
    service = make_service(make_settings(tmp_path, max_failures=3, poll_interval=600), now=lambda: clock[0])
    try:
        [result] = await service.ingest.poll()
        state = await service.feeds.get(result.feed_id)
        assert (state.status, state.error_count) == ("error", 1)
        assert await service.ingest.poll() == []  # backing off: not due yet
        clock[0] += timedelta(seconds=600)
        await service.ingest.poll()
        clock[0] += timedelta(seconds=1200)  # the interval doubled
        await service.ingest.poll()
        state = await service.feeds.get(result.feed_id)
        assert (state.status, state.error_count, state.last_error) == ("disabled", 3, "HTTP 500 Internal Server Error")
        clock[0] += timedelta(days=2)
        assert await service.ingest.poll(force=True) == []  # disabled feeds wait for an admin, even with --once
        assert len(feed_server.requests()) == 3

        feed_server.routes["/feed"] = Route(body=real_feeds()[0].path.read_bytes())
        assert (await service.feeds.set_enabled(str(result.feed_id), True)).status == "ok"
        [again] = await service.ingest.poll()
        assert again.error is None and (await service.feeds.get(result.feed_id)).status == "ok"
    finally:
        await service.aclose()


def test_service_imports_neither_torch_nor_telegram() -> None:
    code = (
        "import sys, bot.service, bot.cli; "
        "heavy = [m for m in ('torch', 'transformers', 'telegram', 'mcp', 'uvicorn') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
