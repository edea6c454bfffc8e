"""HttpFetcher against the real local server: conditional GET, limits on time, size and redirects, file:// rules."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.config import USER_AGENT
from bot.errors import FeedError, HTTPStatusError, UnsafeURLError
from bot.feeds.fetch import HttpFetcher
from bot.feeds.http_headers import parse_max_age, parse_retry_after
from bot.feeds.types import Validators
from tests.httpserver import FeedServer, Route, gzip_bomb, huge_body, redirect, stall
from tests.memory import rss_growth_mb

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ETAG = '"rev-7"'
LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"
MB = 1024 * 1024


@pytest.fixture
async def fetcher() -> AsyncIterator[HttpFetcher]:
    # allow_private: the test server is on 127.0.0.1; the guard itself is tested in test_urlsafety.py.
    async with HttpFetcher(timeout=2.0, allow_private=True) as f:
        yield f


async def test_200_returns_body_validators_and_lowercased_headers(
    fetcher: HttpFetcher, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed"] = Route(body=RSS, etag=ETAG, last_modified=LAST_MODIFIED)

    result = await fetcher.fetch(feed_server.url("/feed"))

    assert (result.status, result.content, result.not_modified) == (200, RSS, False)
    assert result.validators == Validators(etag=ETAG, last_modified=LAST_MODIFIED)
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert all(name == name.lower() for name in result.headers)
    assert result.final_url == result.url == feed_server.url("/feed")
    [request] = feed_server.requests("/feed")
    assert request.headers["user-agent"] == USER_AGENT
    assert "application/rss+xml" in request.headers["accept"] and "text/html" in request.headers["accept"]
    assert "if-none-match" not in request.headers and "if-modified-since" not in request.headers


async def test_second_fetch_sends_the_served_validators_and_gets_304(
    fetcher: HttpFetcher, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed"] = Route(body=RSS, etag=ETAG, last_modified=LAST_MODIFIED)
    first = await fetcher.fetch(feed_server.url("/feed"))

    second = await fetcher.fetch(feed_server.url("/feed"), first.validators)

    assert (second.status, second.content, second.not_modified) == (304, None, True)
    assert second.validators == first.validators
    sent = feed_server.requests("/feed")[1].headers
    assert (sent["if-none-match"], sent["if-modified-since"]) == (ETAG, LAST_MODIFIED)


async def test_non_ascii_etag_is_echoed_byte_for_byte(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    # The test server writes header values as Latin-1, so this puts the UTF-8 bytes of "café" on the wire.
    feed_server.routes["/feed"] = Route(body=RSS, etag='"caf\u00c3\u00a9"')
    first = await fetcher.fetch(feed_server.url("/feed"))

    second = await fetcher.fetch(feed_server.url("/feed"), first.validators)

    assert second.status == 304


async def test_etag_bytes_that_are_not_utf8_are_not_sent(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    # The lone byte 0xE9 (Latin-1 "é"): aiohttp writes request headers as UTF-8 and cannot send it back as it came,
    # so the GET goes out unconditional rather than with a validator the server would never match.
    feed_server.routes["/feed"] = Route(body=RSS, etag='"caf\u00e9"')
    first = await fetcher.fetch(feed_server.url("/feed"))

    second = await fetcher.fetch(feed_server.url("/feed"), first.validators)

    assert (second.status, second.content, second.validators) == (200, RSS, first.validators)
    assert "if-none-match" not in feed_server.requests("/feed")[1].headers


async def test_last_modified_alone_gives_304(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(body=RSS, last_modified=LAST_MODIFIED)
    first = await fetcher.fetch(feed_server.url("/feed"))
    assert first.validators == Validators(etag=None, last_modified=LAST_MODIFIED)

    second = await fetcher.fetch(feed_server.url("/feed"), first.validators)

    assert second.status == 304
    assert "if-none-match" not in feed_server.requests("/feed")[1].headers


async def test_changed_etag_gives_new_content(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(body=b"<rss>new</rss>", etag='"rev-8"')

    result = await fetcher.fetch(feed_server.url("/feed"), Validators(etag=ETAG))

    assert (result.status, result.content, result.validators.etag) == (200, b"<rss>new</rss>", '"rev-8"')


async def test_cache_control_max_age_and_retry_after_are_parsed(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(body=RSS, headers={"Cache-Control": "public, max-age=600", "Retry-After": "30"})

    result = await fetcher.fetch(feed_server.url("/feed"))

    assert (result.max_age, result.retry_after) == (600, 30.0)


@pytest.mark.parametrize(
    ("status", "reason"), [(500, "HTTP 500 Internal Server Error"), (404, "HTTP 404 Not Found"), (410, "HTTP 410 Gone")]
)
async def test_error_status_raises_with_status(
    fetcher: HttpFetcher, feed_server: FeedServer, status: int, reason: str
) -> None:
    feed_server.routes["/feed"] = Route(status=status, body=b"oops")

    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch(feed_server.url("/feed"))

    assert (caught.value.status, caught.value.reason, caught.value.retry_after) == (status, reason, None)
    assert caught.value.url == feed_server.url("/feed")


async def test_unknown_path_is_404(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch(feed_server.url("/nowhere"))
    assert caught.value.status == 404


@pytest.mark.parametrize("status", [429, 503])
async def test_throttling_status_carries_retry_after(
    fetcher: HttpFetcher, feed_server: FeedServer, status: int
) -> None:
    feed_server.routes["/feed"] = Route(status=status, headers={"Retry-After": "120"})

    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch(feed_server.url("/feed"))

    assert (caught.value.status, caught.value.retry_after) == (status, 120.0)
    assert "retry after 120 s" in caught.value.reason


async def test_retry_after_http_date_is_relative_to_the_clock(feed_server: FeedServer, now: datetime) -> None:
    feed_server.routes["/feed"] = Route(status=503, headers={"Retry-After": "Wed, 25 Nov 2026 12:05:00 GMT"})

    async with HttpFetcher(allow_private=True, clock=lambda: now) as fetcher:
        with pytest.raises(HTTPStatusError) as caught:
            await fetcher.fetch(feed_server.url("/feed"))

    assert caught.value.retry_after == 300.0


def test_header_parsers(now: datetime) -> None:
    assert parse_max_age("no-cache, max-age=60") == 60
    assert parse_max_age('max-age="90"') == 90
    assert parse_max_age("s-maxage=5") is None
    assert parse_max_age("max-age=soon") is None
    assert parse_max_age(None) is None
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now) == 0.0  # already past
    assert parse_retry_after("tomorrow-ish", now) is None
    assert parse_retry_after(None, now) is None


async def test_stalled_server_ends_within_the_deadline(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = stall(30)

    async with HttpFetcher(timeout=1.0, allow_private=True) as fetcher:
        started = time.monotonic()
        with pytest.raises(FeedError, match=r"timed out after 1\.0 s"):
            await fetcher.fetch(feed_server.url("/feed"))
        elapsed = time.monotonic() - started

    assert elapsed < 1.0 + 2


async def test_dripping_server_is_cut_by_the_total_deadline(feed_server: FeedServer) -> None:
    # One byte every 0.2 s never trips a per-read timeout; only a deadline on the whole fetch stops it.
    feed_server.routes["/feed"] = Route(body=RSS, drip=0.2)

    async with HttpFetcher(timeout=1.0, allow_private=True) as fetcher:
        started = time.monotonic()
        with pytest.raises(FeedError, match="timed out"):
            await fetcher.fetch(feed_server.url("/feed"))

    assert time.monotonic() - started < 1.0 + 2


async def test_redirects_are_followed_to_the_final_url(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    feed_server.routes["/old"] = redirect("/moved", status=301)
    feed_server.routes["/moved"] = redirect(feed_server.url("/feed"), status=307)
    feed_server.routes["/feed"] = Route(body=RSS)

    result = await fetcher.fetch(feed_server.url("/old"))

    assert (result.content, result.url, result.final_url) == (RSS, feed_server.url("/old"), feed_server.url("/feed"))


async def test_redirect_loop_is_a_clear_error(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    feed_server.routes["/a"] = redirect("/b")
    feed_server.routes["/b"] = redirect("/a")

    with pytest.raises(FeedError, match=r"too many redirects \(more than 5\)"):
        await fetcher.fetch(feed_server.url("/a"))

    assert len(feed_server.requests()) == 6  # the first request and 5 redirects, then it stops


async def test_exactly_max_redirects_is_allowed(feed_server: FeedServer) -> None:
    for i in range(2):
        feed_server.routes[f"/r{i}"] = redirect(f"/r{i + 1}")
    feed_server.routes["/r2"] = Route(body=RSS)

    async with HttpFetcher(max_redirects=2, allow_private=True) as fetcher:
        assert (await fetcher.fetch(feed_server.url("/r0"))).content == RSS
    async with HttpFetcher(max_redirects=1, allow_private=True) as fetcher:
        with pytest.raises(FeedError, match=r"more than 1\)"):
            await fetcher.fetch(feed_server.url("/r0"))


async def test_compressed_bodies_are_decoded(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    text = RSS * 100
    member = gzip.compress(text)
    feed_server.routes["/gzip"] = Route(body=text, gzip=True)
    feed_server.routes["/multi"] = Route(body=member + member, headers={"Content-Encoding": "gzip"})
    feed_server.routes["/zlib"] = Route(body=zlib.compress(text), headers={"Content-Encoding": "deflate"})
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    feed_server.routes["/raw"] = Route(body=raw.compress(text) + raw.flush(), headers={"Content-Encoding": "deflate"})

    for path, expected in [("/gzip", text), ("/multi", text + text), ("/zlib", text), ("/raw", text)]:
        assert (await fetcher.fetch(feed_server.url(path))).content == expected, path
    assert feed_server.requests("/gzip")[0].headers["accept-encoding"] == "gzip, deflate"


async def test_gzip_bomb_is_refused_without_blowing_memory(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    feed_server.routes["/bomb"] = gzip_bomb(1 << 30)  # 1 GB of zeros, about 1 MB on the wire

    with rss_growth_mb() as growth, pytest.raises(FeedError, match="response larger than 10 MB"):
        await fetcher.fetch(feed_server.url("/bomb"))

    assert growth[0] < 100


async def test_stacked_encodings_are_refused(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    # gzip inside gzip inflates a thousandfold twice; a client's own decoders would stack unbounded: refused outright.
    feed_server.routes["/feed"] = Route(
        body=gzip.compress(gzip.compress(RSS)), headers={"Content-Encoding": "gzip, gzip"}
    )

    with pytest.raises(FeedError, match="unsupported stacked Content-Encoding"):
        await fetcher.fetch(feed_server.url("/feed"))


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_huge_body_is_refused_without_blowing_memory(
    fetcher: HttpFetcher, feed_server: FeedServer, chunked: bool
) -> None:
    # Chunked, the server announces no length to refuse up front, so the cap must be counted while streaming.
    feed_server.routes["/huge"] = huge_body(50 * MB, chunked=chunked)

    with rss_growth_mb() as growth, pytest.raises(FeedError, match="response larger than 10 MB"):
        await fetcher.fetch(feed_server.url("/huge"))

    assert growth[0] < 100


async def test_max_bytes_is_configurable_and_exact(feed_server: FeedServer) -> None:
    feed_server.routes["/fits"] = Route(body=b"x" * 1000)
    feed_server.routes["/over"] = Route(body=b"x" * 1001, gzip=True)

    async with HttpFetcher(max_bytes=1000, allow_private=True) as fetcher:
        assert (await fetcher.fetch(feed_server.url("/fits"))).content == b"x" * 1000
        with pytest.raises(FeedError, match="response larger than 1000 bytes"):
            await fetcher.fetch(feed_server.url("/over"))


async def test_connection_refused_is_reported(fetcher: HttpFetcher) -> None:
    with FeedServer() as gone:
        url = gone.url("/feed")
    with pytest.raises(FeedError, match="connection refused"):
        await fetcher.fetch(url)


async def test_waiting_for_a_busy_host_does_not_count_against_the_deadline(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(body=RSS, delay=0.3)

    async with HttpFetcher(timeout=0.6, per_host_concurrency=1, allow_private=True) as fetcher:
        started = time.monotonic()
        results = await asyncio.gather(*(fetcher.fetch(feed_server.url("/feed")) for _ in range(3)))
        elapsed = time.monotonic() - started

    assert [r.content for r in results] == [RSS] * 3
    assert elapsed >= 0.85  # one at a time: three 0.3 s answers in a row, though each fetch had only 0.6 s


async def test_file_urls_only_when_allowed(fetcher: HttpFetcher, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(RSS)
    url = feed.as_uri()

    with pytest.raises(UnsafeURLError, match="only from the command line"):
        await fetcher.fetch(url)
    result = await fetcher.fetch(url, allow_file=True)
    assert (result.status, result.content, result.final_url) == (200, RSS, url)
    again = await fetcher.fetch(url, result.validators, allow_file=True)
    assert (again.status, again.content) == (304, None)


async def test_file_urls_obey_the_size_cap_and_report_missing_files(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 2001)

    async with HttpFetcher(max_bytes=2000) as fetcher:
        with pytest.raises(FeedError, match="larger than"):
            await fetcher.fetch(big.as_uri(), allow_file=True)
        with pytest.raises(FeedError, match="file not found"):
            await fetcher.fetch((tmp_path / "missing.xml").as_uri(), allow_file=True)
        with pytest.raises(FeedError, match="not a regular file"):
            await fetcher.fetch(tmp_path.as_uri(), allow_file=True)


async def test_conditional_gets_reuse_one_connection(fetcher: HttpFetcher, feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(body=RSS, etag=ETAG)
    for _ in range(10):
        assert (await fetcher.fetch(feed_server.url("/feed"), Validators(etag=ETAG))).not_modified
    for _ in range(5):
        assert (await fetcher.fetch(feed_server.url("/feed"))).content == RSS
    assert feed_server.connections == 1
