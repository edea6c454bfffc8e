"""A redirector link (feedproxy-style) is followed once and the entry stored under the page's final URL: the item and
its direct twin from another feed are one story with two sources. A redirect that fails keeps the link."""

from __future__ import annotations

from pathlib import Path

from bot.feeds.fetch import HttpFetcher
from bot.service import make_service
from tests.httpserver import PUBLIC_IP, FeedServer, Route, public_ip_served_by, redirect, resolver_for
from tests.service.test_enrichment_retries import rss
from tests.test_service import make_settings


def feed(link: str, guid: str) -> bytes:
    body = rss([(guid, "OpenAI ships a voice agent")])
    return body.replace(f"https://news.example/{guid}".encode(), link.encode())


async def test_a_redirector_item_and_its_direct_twin_are_one_story(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/feed-a"] = Route(body=feed("http://feedproxy.google.com/~r/wire/~3/abc/", "a"))
    feed_server.routes["/feed-b"] = Route(body=feed("http://news.example/2026/voice-agent", "b"))
    feed_server.routes["/feed-c"] = Route(body=feed("http://t.co/broken", "c"))
    feed_server.routes["/~r/wire/~3/abc/"] = redirect("http://news.example/2026/voice-agent?utm_source=feedburner")
    feed_server.routes["/2026/voice-agent"] = Route(body=b"<html><body><p>The article.</p></body></html>")
    feed_server.routes["/broken"] = Route(status=500)
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n" + "".join(f"  - url: http://feeds.example/feed-{x}\n" for x in "abc"), encoding="utf-8"
    )
    hosts = ["feeds.example", "feedproxy.google.com", "news.example", "t.co"]
    fetcher = HttpFetcher(
        allow_private=False,
        resolver=resolver_for({host: [PUBLIC_IP] for host in hosts}),
        connect_to=public_ip_served_by(feed_server.port),
    )
    settings = make_settings(tmp_path, allow_private_urls=False, extract_articles=False, backend="extractive")
    service = make_service(settings, fetcher=fetcher)
    try:
        results = await service.ingest.poll(force=True)
        assert all(r.error is None for r in results), results
        stories = await service.stories.recent()
        linked = {s.url: s for s in stories}
        story = await service.stories.get(linked["https://news.example/2026/voice-agent"].id)
        assert story is not None and sorted(src.guid for src in story.sources) == ["a", "b"]  # one story, both feeds
        assert len(stories) == 2 and "http://t.co/broken" in {s.link for s in stories}  # kept as given
        requested = [r.path for r in feed_server.requests()]
        assert requested.count("/~r/wire/~3/abc/") == 1
        await service.ingest.poll(force=True)  # known now: not followed again
        assert [r.path for r in feed_server.requests()].count("/~r/wire/~3/abc/") == 1
    finally:
        await service.aclose()
