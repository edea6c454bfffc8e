"""Whole-poll behaviour: hostile servers beside healthy feeds, teaser entries extracted from their pages, and the
feedparser corpus going through parse and store."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.errors import FeedError
from bot.feeds.dedupe import decide
from bot.feeds.fetch import HttpFetcher
from bot.feeds.parse import parse_feed
from bot.service import FeedResult, make_service
from tests.corpora import CORPORA
from tests.httpserver import (
    PUBLIC_IP,
    FeedServer,
    Route,
    gzip_bomb,
    huge_body,
    public_ip_served_by,
    redirect,
    resolver_for,
    stall,
)
from tests.memory import rss_growth_mb
from tests.pages import BOILERPLATE, italian_article_page, read_italian_article
from tests.realfeeds import real_feeds, serve
from tests.test_service import make_settings

TIMEOUT = 2.0

HOSTILE = {
    "/500": Route(status=500),
    "/404": Route(status=404),
    "/stall": stall(30.0),
    "/loop-a": redirect("/loop-b"),
    "/loop-b": redirect("/loop-a"),
    "/bomb": gzip_bomb(1 << 30),
    "/huge": huge_body(50 << 20),
    "/html": Route(
        body=b"<!doctype html><html><head><title>Home</title></head><body><p>Hi</p></body></html>",
        content_type="text/html; charset=utf-8",
    ),
    # Declared UTF-8, but no valid UTF-8 sequence in it (continuation bytes without lead bytes, stray 0xff).
    "/bad-utf8": Route(body=bytes(range(0x80, 0x100)) * 64, content_type="application/rss+xml; charset=utf-8"),
}
EXPECTED_ERROR = {
    "/500": "HTTP 500",
    "/404": "HTTP 404",
    "/stall": "timed out",
    "/loop-a": "too many redirects",
    "/bomb": "larger than",
    "/huge": "larger than",
    "/html": "not a feed",
    "/bad-utf8": "",  # any recorded error: the point is that it is stored, not how feedparser words it
}


def write_feed_list(path: Path, urls: list[str]) -> None:
    path.write_text(yaml.safe_dump({"feeds": [{"url": url} for url in urls]}), encoding="utf-8")


async def test_hostile_servers_fail_alone_fast_and_small(tmp_path: Path, feed_server: FeedServer) -> None:
    healthy = serve(feed_server, [f for f in real_feeds() if f.path.name.endswith((".rss", ".atom"))])
    feed_server.routes.update(HOSTILE)
    hostile = [feed_server.url(path) for path in HOSTILE if path != "/loop-b"]
    write_feed_list(tmp_path / "feeds.yaml", [*healthy, *hostile])
    service = make_service(make_settings(tmp_path, fetch_timeout=TIMEOUT))
    finished: dict[str, float] = {}
    start = time.monotonic()

    def progress(result: FeedResult) -> None:
        finished[result.url] = time.monotonic() - start

    try:
        with rss_growth_mb() as growth:
            results = {r.url: r for r in await service.ingest.poll(force=True, progress=progress)}
        feeds = {f.url: f for f in (await service.feeds.all())}
        stored = service.store.count_stories()
    finally:
        await service.aclose()

    assert growth[0] < 100, f"RSS grew {growth[0]:.0f} MB"
    for url in hostile:
        path = url.removeprefix(feed_server.url(""))
        path = "/" + path.lstrip("/")
        assert results[url].error is not None, path
        assert EXPECTED_ERROR[path] in results[url].error, (path, results[url].error)
        # Well under the 30 s stall, so a timeout not enforced fails; loose enough for a loaded 2-core CI box.
        assert finished[url] <= TIMEOUT + 12, (path, finished[url])
        assert feeds[url].status == "error" and feeds[url].last_error == results[url].error
    for url in healthy:
        assert results[url].error is None and results[url].new > 0, url
    assert stored == sum(results[u].new for u in healthy)


async def test_teaser_entry_gets_the_article_from_its_page(tmp_path: Path, feed_server: FeedServer) -> None:
    article = read_italian_article()
    feed_server.routes["/articolo"] = Route(body=italian_article_page(article), content_type="text/html; charset=utf-8")
    feed_server.routes["/gone"] = Route(status=404)
    teaser = article.paragraphs[0][:200] + "… Leggi tutto"
    items = "".join(
        f"<item><title>{title}</title><link>{feed_server.url(path)}</link><guid>{path}</guid>"
        f"<description>{teaser}</description></item>"
        for title, path in ((article.title, "/articolo"), ("Pagina sparita", "/gone"))
    )
    feed_server.routes["/feed"] = Route(
        body=f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Notizie</title>{items}'
        "</channel></rss>".encode(),
    )
    write_feed_list(tmp_path / "feeds.yaml", [feed_server.url("/feed")])
    service = make_service(make_settings(tmp_path, extract_articles=True))
    try:
        [result] = await service.ingest.poll(force=True)
        extracted = await service.stories.get(feed_server.url("/articolo"))
        kept = await service.stories.get(feed_server.url("/gone"))
        problems = service.store.feed_errors(result.feed_id)
    finally:
        await service.aclose()

    assert (result.new, result.extracted, result.error) == (2, 1, None)
    assert extracted is not None and extracted.extracted
    for paragraph in article.paragraphs:
        assert paragraph in extracted.text
    for junk in BOILERPLATE:
        assert junk not in extracted.text, junk
    # The unreachable page leaves the feed's own text, and the admin can see why.
    assert kept is not None and not kept.extracted and kept.text.startswith(article.paragraphs[0][:100])
    assert any("/gone" in message and "HTTP 404" in message for _, message in problems)


def _headers(raw: bytes) -> dict[str, str]:
    headers = {}
    for line in raw.decode("latin-1").splitlines():
        if line.strip().startswith("Header:"):
            name, _, value = line.strip()[len("Header:") :].partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers


def test_feedparser_corpus_goes_through_parse_and_store(store: Any, now: Any) -> None:
    """Every corpus file either stores its entries or becomes a per-feed error; nothing raises anything else."""
    files = sorted(p for p in (CORPORA / "feeds" / "feedparser-tests").rglob("*") if p.is_file())
    assert len(files) > 2000
    feeds = [(f"https://corpus.example/{p.relative_to(CORPORA)}", None, None, None, True) for p in files]
    store.sync_feeds(feeds, now)
    ids = {f.url: f.id for f in store.list_feeds()}
    errors = stored = 0
    for path, (url, *_rest) in zip(files, feeds, strict=True):
        raw = path.read_bytes()
        content_type = _headers(raw).get("content-type") if "http" in str(path) else None
        try:
            parsed = parse_feed(raw, url=url, content_type=content_type)
        except FeedError as e:
            store.record_fetch_error(ids[url], now, message=e.reason, error_count=1, next_fetch_at=now, disable=False)
            errors += 1
            continue
        known = store.known_sources(ids[url], [e.guid for e in parsed.entries])
        counts = store.save_entries(ids[url], decide(parsed.entries, known, {}), now)
        stored += counts.new + counts.merged
    failing = [f for f in store.list_feeds() if f.status == "error"]
    assert len(failing) == errors > 0 and all(f.last_error for f in failing)
    assert stored > 1000
    # Nothing executable survives from the sanitizer corpus.
    rows = store.db.execute(
        "SELECT s.title, s.text, coalesce(s.link, '') FROM stories s JOIN story_sources src ON src.story_id = s.id "
        "JOIN feeds f ON f.id = src.feed_id WHERE f.url LIKE '%/sanitize/%'"
    ).fetchall()
    assert len(rows) > 500
    for row in rows:
        blob = " ".join(row).lower()
        assert "<script" not in blob and "javascript:" not in blob
        assert not any(f" on{event}=" in blob for event in ("load", "error", "click", "mouseover", "focus"))


async def test_article_links_reach_no_other_private_host(tmp_path: Path, feed_server: FeedServer) -> None:
    """Private addresses allowed for the feed do not extend to where its (untrusted) links point."""
    feed_server.routes["/page"] = Route(body=italian_article_page(), content_type="text/html; charset=utf-8")
    other_host = f"http://localhost:{feed_server.port}/page"
    feed_server.routes["/feed"] = Route(
        body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>x</title>'
        f"<link>{other_host}</link><guid>1</guid><description>short teaser</description></item></channel></rss>".encode()
    )
    write_feed_list(tmp_path / "feeds.yaml", [feed_server.url("/feed")])
    service = make_service(make_settings(tmp_path, extract_articles=True))
    try:
        [result] = await service.ingest.poll(force=True)
        problems = service.store.feed_errors(result.feed_id)
        story = await service.stories.get(other_host)
    finally:
        await service.aclose()
    assert (result.new, result.extracted) == (1, 0)
    assert story is not None and story.text == "short teaser"
    assert feed_server.requests("/page") == []
    assert any("NEWSBOT_ALLOW_PRIVATE_URLS" in message for _, message in problems)


async def test_a_failing_extractor_costs_the_page_not_the_feed(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(html: bytes | str, *, url: str) -> str:
        raise FeedError(url, "extractor crashed")

    monkeypatch.setattr("bot.service.ingest.extract_article", explode)
    feed_server.routes["/page"] = Route(body=italian_article_page(), content_type="text/html; charset=utf-8")
    feed_server.routes["/feed"] = Route(
        body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>x</title>'
        f"<link>{feed_server.url('/page')}</link><guid>1</guid><description>teaser</description></item>"
        "</channel></rss>".encode()
    )
    write_feed_list(tmp_path / "feeds.yaml", [feed_server.url("/feed")])
    service = make_service(make_settings(tmp_path, extract_articles=True))
    try:
        [result] = await service.ingest.poll(force=True)
        problems = service.store.feed_errors(result.feed_id)
    finally:
        await service.aclose()
    assert (result.error, result.new, result.extracted) == (None, 1, 0)
    assert any("extractor crashed" in message for _, message in problems)


async def test_a_dead_worker_process_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    service = make_service(make_settings(tmp_path))
    try:
        service.ingest._ensure_pool()
        with pytest.raises(FeedError, match="worker process died"):
            await service.ingest._cpu(os._exit, 1)
        assert await service.ingest._cpu(len, b"still works") == 11
    finally:
        await service.aclose()


async def test_the_own_host_rule_holds_at_every_redirect(tmp_path: Path, feed_server: FeedServer) -> None:
    """An article link on the feed's own (private) host that redirects to another private host is refused there."""
    feed_server.routes["/page"] = Route(body=italian_article_page(), content_type="text/html; charset=utf-8")
    feed_server.routes["/hop"] = redirect(f"http://localhost:{feed_server.port}/page")
    feed_server.routes["/feed"] = Route(
        body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>x</title>'
        f"<link>{feed_server.url('/hop')}</link><guid>1</guid><description>short teaser</description></item>"
        "</channel></rss>".encode()
    )
    write_feed_list(tmp_path / "feeds.yaml", [feed_server.url("/feed")])
    service = make_service(make_settings(tmp_path, extract_articles=True))
    try:
        [result] = await service.ingest.poll(force=True)
        problems = service.store.feed_errors(result.feed_id)
    finally:
        await service.aclose()
    assert result.extracted == 0 and len(feed_server.requests("/hop")) == 1
    assert feed_server.requests("/page") == []  # the hop to another private host was refused before connecting
    assert any("redirect to http://localhost" in message for _, message in problems)


async def test_a_redirect_to_a_name_for_the_metadata_address_gets_no_request_through(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Private addresses allowed, a public-looking feed (test DNS) redirects to a name that resolves to
    169.254.169.254: refused at that hop; a stand-in for the metadata service, where that address would be dialled,
    sees nothing."""
    with FeedServer() as metadata:
        metadata.routes["/latest/meta-data/"] = Route(body=b"secret-credentials", content_type="text/plain")
        feed_server.routes["/feed"] = redirect("http://meta.example/latest/meta-data/")
        write_feed_list(tmp_path / "feeds.yaml", ["http://news.example/feed"])
        fetcher = HttpFetcher(
            timeout=5,
            allow_private=True,
            resolver=resolver_for({"news.example": [PUBLIC_IP], "meta.example": ["169.254.169.254"]}),
            connect_to={**public_ip_served_by(feed_server.port), ("169.254.169.254", 80): ("127.0.0.1", metadata.port)},
        )
        service = make_service(make_settings(tmp_path), fetcher=fetcher)
        try:
            [result] = await service.ingest.poll(force=True)
        finally:
            await service.aclose()
        assert metadata.requests() == [] and metadata.connections == 0
    assert result.error is not None and "cloud metadata" in result.error and "even with" in result.error
