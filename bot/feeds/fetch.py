"""Fetch one feed or article URL over HTTP(S) with conditional GET and hard limits; never parses what it fetched."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import formatdate
from types import TracebackType
from typing import Self

import aiohttp
from yarl import URL

from bot.config import USER_AGENT, Settings
from bot.errors import FeedError, HTTPStatusError, UnsafeURLError
from bot.feeds.bounded_body import BodyTooLargeError, BoundedDecoder
from bot.feeds.guarded_connect import GuardedResolver, HostSlots, host_of, paused, same_host
from bot.feeds.http_errors import REDIRECTS, describe_http_error, size_text, status_text
from bot.feeds.http_headers import header_dict, parse_max_age, parse_retry_after, raw_header, sendable
from bot.feeds.types import FetchResult, Validators
from bot.feeds.urlsafety import Resolver, check_url

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
# The same fetcher reads feeds and article pages, so it asks for feed types first and HTML after.
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.8, "
    "application/xhtml+xml;q=0.8, */*;q=0.5"
)
# Only what BoundedDecoder can decode with an output cap; aiohttp would also offer br/zstd when installed.
ACCEPT_ENCODING = "gzip, deflate"


class HttpFetcher:
    """The real `Fetcher`: a total deadline, a decompressed-size cap, guarded redirects, per-host concurrency.

    One instance is shared by the whole process (its connection pools are reused); close it with `aclose()` or
    `async with`. It may be built outside an event loop, and is bound to the loop that first fetches with it.
    `resolver` answers the SSRF guard's lookups; `connect_to` maps an address the guard approved, with its port, to
    where guarded connections really go (tests use it to let a public address be served by the local server).
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        per_host_concurrency: int = 2,
        user_agent: str = USER_AGENT,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        connect_to: Mapping[tuple[str, int], tuple[str, int]] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if timeout <= 0 or max_bytes <= 0 or max_redirects < 0 or per_host_concurrency < 1:
            raise ValueError("timeout and max_bytes must be positive, max_redirects >= 0, per_host_concurrency >= 1")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_private = allow_private
        self._user_agent = user_agent
        self._resolver = resolver
        self._connect_to = connect_to or {}
        self._clock = clock or (lambda: datetime.now(UTC))
        self._slots = HostSlots(per_host_concurrency)
        # Keyed by "private addresses allowed": one pool dials only checked public addresses; the other exists only
        # when the settings allow private feeds, and still never dials a metadata endpoint. A fetch may still ask for
        # the public one, e.g. for an article link's hops off the feed's own host. Sessions belong to a running loop,
        # so they are made on first use.
        self._sessions: dict[bool, aiohttp.ClientSession] = {}

    def _session(self, private: bool) -> aiohttp.ClientSession:
        session = self._sessions.get(private)
        if session is None:
            guard = GuardedResolver(self._resolver, self._connect_to, allow_private=private)
            session = self._sessions[private] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=guard),
                headers={"User-Agent": self._user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
                # The total deadline in fetch() bounds every phase, a trickling server included; per-read timers
                # would only cost CPU on every chunk.
                timeout=aiohttp.ClientTimeout(total=None),
                auto_decompress=False,  # BoundedDecoder caps what a body inflates to
                # No trust_env, as before: a proxy from the environment would resolve feed hosts itself, out of the
                # guard's reach (and, on a private address, would itself be refused by the guarded resolver).
            )
        return session

    async def aclose(self) -> None:
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def fetch(
        self,
        url: str,
        validators: Validators | None = None,
        *,
        allow_file: bool = False,
        private_host: str | None = None,
    ) -> FetchResult:
        """GET `url`, conditionally when `validators` are given; 304 gives content=None. Failures raise FeedError.

        `file://` URLs are read only when `allow_file` is true (the CLI); they obey the same size cap.
        `private_host` narrows the fetcher's own setting: private addresses are allowed only on hops to that host
        (article links found in a feed: an intranet feed's own pages, at every redirect, and nowhere else).
        """
        validators = validators or Validators()
        try:
            async with asyncio.timeout(self.timeout) as deadline:
                private = self._private_for(host_of(url), private_host)
                # The guard judges the URL exactly as given, before anything connects (or merges it with a base).
                await check_url(url, allow_private=private, allow_file=allow_file, resolver=self._resolver)
                if urllib.parse.urlsplit(url).scheme.lower() == "file":
                    return await self._read_file(url, validators)
                return await self._fetch_http(url, validators, deadline, private_host)
        except FeedError as e:
            if e.url == url:
                raise
            # Refused (or unresolvable) at connect time, the error names host:port; the admin knows the feed URL.
            error_type = UnsafeURLError if isinstance(e, UnsafeURLError) else FeedError
            raise error_type(url, e.reason) from e
        except TimeoutError as e:
            raise FeedError(url, f"timed out after {self.timeout:.1f} s") from e
        except aiohttp.InvalidURL as e:
            raise UnsafeURLError(url, f"not a valid URL ({e})") from e
        except aiohttp.ClientError as e:
            raise FeedError(url, describe_http_error(e)) from e
        except BodyTooLargeError as e:
            raise FeedError(url, f"response larger than {size_text(self.max_bytes)}") from e

    def _private_for(self, host: str | None, private_host: str | None) -> bool:
        """Whether a request to `host` may reach private addresses: with the setting on, any host, or with
        `private_host` given only that one ("" for none: the links of a file:// feed)."""
        if not self.allow_private:
            return False
        return private_host is None or (bool(host) and same_host(host or "", private_host))

    async def _fetch_http(
        self, url: str, validators: Validators, deadline: asyncio.Timeout, private_host: str | None
    ) -> FetchResult:
        headers = {}
        for name, value in (("If-None-Match", validators.etag), ("If-Modified-Since", validators.last_modified)):
            if value and (echoed := sendable(value)) is not None:
                headers[name] = echoed
        target = URL(url)  # check_url() parsed it the same way, so it is valid
        for hop in range(self.max_redirects + 1):
            private = self._private_for(target.raw_host, private_host)  # judged again at every hop
            if hop:
                await self._check_redirect(url, target, private)
            session = self._session(private)
            host = target.raw_host or ""
            with paused(deadline):  # waiting for a busy host's turn is not the server being slow
                await self._slots.acquire(host)
            try:
                # Leaving the block releases the connection: kept alive when the body was read to the end (a 304
                # has none), closed when a body was refused or left unread.
                async with session.get(target, headers=headers, allow_redirects=False) as response:
                    location = self._redirect_target(url, response)
                    if location is None:
                        result = await self._result(url, response, validators)
                        log.debug("%s: HTTP %s, %s bytes", url, result.status, len(result.content or b""))
                        return result
                    log.debug("%s: %s redirects to %s", url, response.status, location)
                    target = location
            finally:
                self._slots.release(host)
        raise FeedError(url, f"too many redirects (more than {self.max_redirects})")

    @staticmethod
    def _redirect_target(url: str, response: aiohttp.ClientResponse) -> URL | None:
        location = response.headers.get("Location")
        if response.status not in REDIRECTS or location is None:
            return None
        try:
            return response.url.join(URL(location))
        except ValueError as e:
            raise FeedError(url, f"redirect to {location!r} refused: not a valid URL ({e})") from e

    async def _check_redirect(self, url: str, target: URL, private: bool) -> None:
        try:
            await check_url(target, allow_private=private, resolver=self._resolver)
        except FeedError as e:
            # Name the feed URL (what the admin knows) and the hop that was refused.
            error_type = UnsafeURLError if isinstance(e, UnsafeURLError) else FeedError
            raise error_type(url, f"redirect to {target} refused: {e.reason}") from e

    async def _result(self, url: str, response: aiohttp.ClientResponse, sent: Validators) -> FetchResult:
        headers = header_dict(response.raw_headers)
        retry_after = parse_retry_after(headers.get("retry-after"), self._clock())
        status = response.status
        if status != 304 and not 200 <= status < 300:
            raise HTTPStatusError(url, status, status_text(response, retry_after), retry_after)
        return FetchResult(
            url=url,
            final_url=str(response.url),
            status=status,
            content=None if status == 304 else await self._read_body(url, response, headers),
            headers=headers,
            # A 304 may omit the validators; the ones we sent are still the current ones then.
            validators=Validators(
                etag=raw_header(response, b"etag") or (sent.etag if status == 304 else None),
                last_modified=raw_header(response, b"last-modified") or (sent.last_modified if status == 304 else None),
            ),
            max_age=parse_max_age(headers.get("cache-control")),
            retry_after=retry_after,
        )

    async def _read_body(self, url: str, response: aiohttp.ClientResponse, headers: Mapping[str, str]) -> bytes:
        encoding = headers.get("content-encoding", "")
        try:
            decoder = BoundedDecoder(encoding, self.max_bytes)
        except ValueError as e:
            raise FeedError(url, str(e)) from e
        declared = headers.get("content-length", "")
        if not encoding and declared.isdigit() and int(declared) > self.max_bytes:
            raise BodyTooLargeError  # no need to download what we would throw away
        parts = []
        try:
            async for raw in response.content.iter_any():
                parts.append(decoder.decode(raw))
            parts.append(decoder.flush())
        except zlib.error as e:
            raise FeedError(url, f"could not decompress the {encoding} body ({e})") from e
        return b"".join(parts)

    async def _read_file(self, url: str, validators: Validators) -> FetchResult:
        split = urllib.parse.urlsplit(url)
        path = urllib.request.url2pathname(split.path)
        limit = self.max_bytes

        def read() -> tuple[bytes | None, str]:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                raise IsADirectoryError(path)  # directories, FIFOs, devices: nothing a feed can be read from
            last_modified = formatdate(info.st_mtime, usegmt=True)
            if validators.last_modified == last_modified:
                return None, last_modified
            with open(path, "rb") as f:
                return f.read(limit + 1), last_modified

        try:
            content, last_modified = await asyncio.to_thread(read)
        except FileNotFoundError as e:
            raise FeedError(url, "file not found") from e
        except IsADirectoryError as e:
            raise FeedError(url, "not a regular file") from e
        except OSError as e:
            raise FeedError(url, f"could not read the file ({e.strerror or e})") from e
        if content is not None and len(content) > limit:
            raise BodyTooLargeError
        return FetchResult(
            url=url,
            final_url=url,
            status=304 if content is None else 200,
            content=content,
            headers={"last-modified": last_modified},
            validators=Validators(last_modified=last_modified),
        )


def make_fetcher(
    settings: Settings,
    *,
    resolver: Resolver | None = None,
) -> HttpFetcher:
    """The fetcher the settings describe; `resolver` is for tests."""
    return HttpFetcher(
        timeout=settings.fetch_timeout,
        max_bytes=settings.max_feed_bytes,
        max_redirects=settings.max_redirects,
        per_host_concurrency=settings.per_host_concurrency,
        allow_private=settings.allow_private_urls,
        resolver=resolver,
    )
