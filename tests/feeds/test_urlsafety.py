"""The SSRF guard: address classes, numeric host spellings, and refusals that send zero requests to the local server."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Sequence

import pytest

from bot.errors import FeedError, UnsafeURLError
from bot.feeds.fetch import HttpFetcher
from bot.feeds.urlsafety import check_url, classify_address, is_public_address, parse_numeric_host
from tests.httpserver import PUBLIC_IP, FeedServer, Route, public_ip_served_by, redirect, resolver_for

RSS = b"<rss/>"


@pytest.mark.parametrize(
    ("ip", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", "cloud metadata"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("100.100.100.200", "cloud metadata"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("255.255.255.255", "broadcast"),
        ("0.1.2.3", "this-network"),
        ("192.0.0.8", "IETF protocol assignments"),
        ("192.0.0.170", "IETF protocol assignments"),
        ("192.0.2.1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("192.88.99.1", "6to4 relay anycast"),
        ("::7f00:1", "loopback (inside IPv6 ::7f00:1)"),
        ("::ffff:0:a9fe:a9fe", "reserved"),  # outside 2000::/3: no global address lives there
        ("100::1", "discard-only"),
        ("2001::1", "IETF protocol assignments"),
        ("64:ff9b:1::1", "NAT64 local use"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback (inside IPv6 ::ffff:7f00:1)"),
        ("::ffff:169.254.169.254", "cloud metadata (inside IPv6 ::ffff:a9fe:a9fe)"),
        ("64:ff9b::a00:1", "private (inside IPv6 64:ff9b::a00:1)"),
        ("2002:7f00:1::", "loopback (inside IPv6 2002:7f00:1::)"),
        ("2001:db8::1", "documentation"),
    ],
)
def test_non_public_addresses_are_named(ip: str, kind: str) -> None:
    assert classify_address(ip) == kind
    assert not is_public_address(ip)


@pytest.mark.parametrize(
    "ip", [PUBLIC_IP, "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34", "64:ff9b::808:808"]
)
def test_public_addresses_pass(ip: str) -> None:
    assert is_public_address(ip)
    assert is_public_address(ipaddress.ip_address(ip))


@pytest.mark.parametrize(
    ("host", "ip"),
    [
        ("0x7f000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("[::1]", "::1"),
    ],
)
def test_numeric_host_spellings_are_read_like_inet_aton(host: str, ip: str) -> None:
    assert parse_numeric_host(host) == ipaddress.ip_address(ip)


def test_names_are_not_numbers_and_bad_numbers_are_errors() -> None:
    assert parse_numeric_host("example.com") is None
    assert parse_numeric_host("1password.com") is None
    for bad in ("08", "1.2.3.4.5", "256.0.0.0x", "1.2.3.999", "example.0x"):
        with pytest.raises(ValueError):
            parse_numeric_host(bad)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://localhost/feed",
        "http://LOCALHOST./feed",
        "http://api.localhost/feed",
        "http://[::1]/feed",
        "http://0x7f000001/feed",
        "http://2130706433/feed",
        "http://017700000001/feed",
        "http://127.1/feed",
        "http://0.0.0.0/feed",
        "http://10.0.0.8:8080/feed",
        "http://192.0.0.8/feed",
    ],
)
async def test_private_hosts_are_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(UnsafeURLError) as caught:
        await check_url(url, allow_private=False, resolver=resolver_for({}))
    assert "NEWSBOT_ALLOW_PRIVATE_URLS=1" in caught.value.reason
    assert "Set NEWSBOT_ALLOW_PRIVATE_URLS=1 to allow" in str(caught.value)

    await check_url(url, allow_private=True, resolver=resolver_for({}))  # the setting lets them through


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest",
        "http://[::ffff:169.254.169.254]/latest",
        "http://100.100.100.200/latest",
        "http://0xa9fea9fe/latest",
        "http://metadata.internal.example/latest",  # a name that resolves to it
    ],
)
async def test_metadata_endpoints_are_refused_even_with_private_allowed(url: str) -> None:
    resolver = resolver_for({"metadata.internal.example": ["169.254.169.254"]})
    for allow_private in (False, True):
        with pytest.raises(UnsafeURLError, match="cloud metadata") as caught:
            await check_url(url, allow_private=allow_private, resolver=resolver)
        assert "never fetches those, even with NEWSBOT_ALLOW_PRIVATE_URLS=1" in caught.value.reason


async def test_a_url_the_client_cannot_parse_is_refused_even_with_private_allowed() -> None:
    # Parsers disagree on this one (is the host evil.com or 127.0.0.1?); the guard reads it with yarl, as aiohttp
    # connects, and yarl refuses it outright.
    with pytest.raises(UnsafeURLError, match="not a valid URL"):
        await check_url("https://evil.com\\@127.0.0.1/feed", allow_private=True)


async def test_one_private_address_among_public_ones_refuses_the_name() -> None:
    resolve = resolver_for({"feeds.example": [PUBLIC_IP, "10.0.0.5"], "news.example": [PUBLIC_IP, "2606:4700::1"]})

    await check_url("https://news.example/rss", allow_private=False, resolver=resolve)
    with pytest.raises(UnsafeURLError, match=r"feeds\.example resolves to 10\.0\.0\.5, which is a private address"):
        await check_url("https://feeds.example/rss", allow_private=False, resolver=resolve)


async def test_unresolvable_host_is_a_feed_error_not_an_unsafe_one() -> None:
    with pytest.raises(FeedError, match=r"could not resolve host nowhere\.example") as caught:
        await check_url("http://nowhere.example/", allow_private=False, resolver=resolver_for({}))
    assert not isinstance(caught.value, UnsafeURLError)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/feed.xml", "not ftp:"),
        ("javascript:alert(1)", "not javascript:"),
        ("gopher://example.com/", "not gopher:"),
        ("data:text/xml,<rss/>", "not data:"),
        ("//example.com/feed", "without a scheme"),
        ("http:///feed", "no host"),
    ],
)
async def test_only_web_schemes_even_with_private_allowed(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=reason):
        await check_url(url, allow_private=True)


async def test_file_scheme_only_when_allowed() -> None:
    with pytest.raises(UnsafeURLError, match="only from the command line"):
        await check_url("file:///etc/passwd", allow_private=True)
    await check_url("file:///tmp/feed.xml", allow_private=False, allow_file=True)
    with pytest.raises(UnsafeURLError, match="local file"):
        await check_url("file://fileserver/share/feed.xml", allow_private=False, allow_file=True)


# --- the fetcher calls the guard before connecting: refused URLs send nothing ---


@pytest.fixture
async def guarded() -> AsyncIterator[HttpFetcher]:
    async with HttpFetcher(timeout=2.0, allow_private=False) as fetcher:
        yield fetcher


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0x7f000001", "2130706433", "127.1"])
async def test_fetch_refuses_the_local_server_with_zero_requests(
    guarded: HttpFetcher, feed_server: FeedServer, host: str
) -> None:
    feed_server.routes["/feed"] = Route(body=RSS)

    with pytest.raises(UnsafeURLError, match="NEWSBOT_ALLOW_PRIVATE_URLS"):
        await guarded.fetch(f"http://{host}:{feed_server.port}/feed")

    assert feed_server.requests() == []


@pytest.mark.parametrize("url", ["http://[::1]/feed", "http://169.254.169.254/latest/meta-data/"])
async def test_fetch_refuses_other_private_targets(guarded: HttpFetcher, url: str) -> None:
    with pytest.raises(UnsafeURLError, match="NEWSBOT_ALLOW_PRIVATE_URLS"):
        await guarded.fetch(url)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0x7f000001"])
async def test_fetch_allows_the_local_server_when_private_is_allowed(feed_server: FeedServer, host: str) -> None:
    feed_server.routes["/feed"] = Route(body=RSS)

    async with HttpFetcher(allow_private=True) as fetcher:
        result = await fetcher.fetch(f"http://{host}:{feed_server.port}/feed")

    assert result.content == RSS
    assert len(feed_server.requests("/feed")) == 1


@pytest.fixture
async def public_looking(feed_server: FeedServer) -> AsyncIterator[HttpFetcher]:
    """A guarded fetcher that believes news.example is a public host; its connections reach the local server."""
    async with HttpFetcher(
        timeout=2.0,
        allow_private=False,
        resolver=resolver_for({"news.example": [PUBLIC_IP]}),
        connect_to=public_ip_served_by(feed_server.port),
    ) as fetcher:
        yield fetcher


async def test_redirect_within_a_public_host_is_followed(public_looking: HttpFetcher, feed_server: FeedServer) -> None:
    feed_server.routes["/start"] = redirect("/feed")
    feed_server.routes["/feed"] = Route(body=RSS)

    result = await public_looking.fetch("http://news.example/start")

    assert (result.content, result.final_url) == (RSS, "http://news.example/feed")


async def test_redirect_to_a_private_address_is_refused_before_connecting(
    public_looking: HttpFetcher, feed_server: FeedServer
) -> None:
    feed_server.routes["/start"] = redirect(feed_server.url("/feed"))  # -> http://127.0.0.1:PORT/feed
    feed_server.routes["/feed"] = Route(body=RSS)

    with pytest.raises(UnsafeURLError) as caught:
        await public_looking.fetch("http://news.example/start")

    assert caught.value.url == "http://news.example/start"
    assert f"redirect to {feed_server.url('/feed')} refused" in caught.value.reason
    assert "NEWSBOT_ALLOW_PRIVATE_URLS=1" in caught.value.reason
    assert [r.path for r in feed_server.requests()] == ["/start"]  # the redirect target got nothing


async def test_redirect_to_another_scheme_is_refused(public_looking: HttpFetcher, feed_server: FeedServer) -> None:
    feed_server.routes["/start"] = redirect("file:///etc/passwd")

    with pytest.raises(UnsafeURLError, match=r"redirect to file://\S+ refused: file:// URLs are accepted only"):
        await public_looking.fetch("http://news.example/start")


async def test_dns_rebinding_cannot_reach_a_private_address(feed_server: FeedServer) -> None:
    """The guard's lookup says public, the connection's lookup says loopback: the connection is refused."""
    feed_server.routes["/feed"] = Route(body=RSS)
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])

    async def rebinding(host: str) -> Sequence[str]:
        return next(answers)

    async with HttpFetcher(timeout=2.0, allow_private=False, resolver=rebinding) as fetcher:
        with pytest.raises(UnsafeURLError, match=r"127\.0\.0\.1, which is a loopback address") as caught:
            await fetcher.fetch(f"http://rebind.example:{feed_server.port}/feed")

    assert caught.value.url == f"http://rebind.example:{feed_server.port}/feed"
    assert feed_server.requests() == []


async def test_guarded_connections_dial_the_checked_address(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection goes to the address the guard approved, while the request keeps the host name."""
    feed_server.routes["/feed"] = Route(body=RSS)
    dialled = []

    async def approved(url: str, host: str, resolver: object = None, **policy: object) -> list[ipaddress.IPv4Address]:
        dialled.append(host)
        return [ipaddress.IPv4Address("127.0.0.1")]

    monkeypatch.setattr("bot.feeds.guarded_connect.public_addresses", approved)
    async with HttpFetcher(
        timeout=2.0, allow_private=False, resolver=resolver_for({"pinned.example": [PUBLIC_IP]})
    ) as f:
        result = await f.fetch(f"http://pinned.example:{feed_server.port}/feed")

    assert result.content == RSS and dialled == ["pinned.example"]
    [request] = feed_server.requests("/feed")
    assert request.headers["host"] == f"pinned.example:{feed_server.port}"


async def test_dns_rebinding_cannot_reach_metadata_even_with_private_allowed(feed_server: FeedServer) -> None:
    """Private addresses allowed: the guard's lookup says loopback (fine), the connection's says the metadata
    address, which the guarded connection still refuses; a stand-in for it on the local server sees nothing."""
    feed_server.routes["/feed"] = Route(body=RSS)
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])

    async def rebinding(host: str) -> Sequence[str]:
        return next(answers)

    metadata_here = {("169.254.169.254", feed_server.port): ("127.0.0.1", feed_server.port)}
    async with HttpFetcher(timeout=2.0, allow_private=True, resolver=rebinding, connect_to=metadata_here) as fetcher:
        with pytest.raises(UnsafeURLError, match="cloud metadata"):
            await fetcher.fetch(f"http://rebind.example:{feed_server.port}/feed")
    assert feed_server.requests() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://[fd00:ec2::254%251]/latest/meta-data/",  # a zone id must not hide the address
        "http://[::169.254.169.254]/latest",  # IPv4-compatible IPv6
        "http://169.254.170.23/v1/credentials",  # EKS Pod Identity
        "http://[fd00:ec2::23]/v1/credentials",
        "http://169.254.0.23/meta-data",  # Tencent
        "http://192.0.0.192/opc/v2/instance/",  # Oracle
    ],
)
async def test_metadata_spellings_and_ranges_are_never_fetched(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        await check_url(url, allow_private=True, resolver=resolver_for({}))


@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("http://0.0.0.0/feed", "is an unspecified address"),
        ("http://[fd12::1]/feed", "is a unique local address"),
        ("http://127.0.0.1/feed", "is a loopback address"),
    ],
)
async def test_refusals_read_as_english(url: str, phrase: str) -> None:
    with pytest.raises(UnsafeURLError) as caught:
        await check_url(url, allow_private=False, resolver=resolver_for({}))
    assert phrase in str(caught.value)
