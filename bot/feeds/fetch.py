"""Fetch one feed or article URL over HTTP(S) with conditional GET and hard limits; never parses what it fetched."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import stat
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Self

import httpcore
import httpx
from httpcore._backends.base import SOCKET_OPTION

from bot.config import USER_AGENT, Settings
from bot.errors import FeedError, HTTPStatusError, UnsafeURLError
from bot.feeds.types import FetchResult, Validators
from bot.feeds.urlsafety import Resolver, check_url, public_addresses

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
# Only what _BoundedDecoder can decode with an output cap; httpx would also offer br/zstd when installed.
ACCEPT_ENCODING = "gzip, deflate"


class _TooLargeError(Exception):
    pass


class _BoundedDecoder:
    """Decode a gzip/deflate body while refusing to produce more than `limit` bytes.

    httpx's own decoders inflate each 64 KB network read in one go: about 64 MB for a zero-filled gzip chunk, and
    unbounded for stacked encodings (`gzip, gzip`). Asking zlib for at most the bytes still allowed keeps a
    decompression bomb at `limit` bytes of memory.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1:
            raise ValueError(f"unsupported stacked Content-Encoding {content_encoding!r}")
        self._coding = codings[0] if codings else "identity"
        if self._coding not in ("identity", "gzip", "x-gzip", "deflate"):
            raise ValueError(f"unsupported Content-Encoding {self._coding!r}")
        self._limit = limit
        # Compressed data is never much larger than what it decodes to; capping it too bounds an endless junk tail.
        self._raw_limit = limit + limit // 100 + 64 * 1024
        self._produced = 0
        self._received = 0
        self._zlib: zlib._Decompress | None = None
        self._pending = b""  # the first byte of a member header split across reads
        self._finished = False

    def _take(self, data: bytes) -> bytes:
        self._produced += len(data)
        if self._produced > self._limit:
            raise _TooLargeError
        return data

    def _inflater_for(self, start: bytes) -> zlib._Decompress:
        if self._coding != "deflate":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
        # "deflate" means zlib-wrapped, but some servers send raw deflate; a valid zlib header tells them apart.
        zlib_wrapped = start[0] & 0x0F == 8 and (start[0] << 8 | start[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)

    def decode(self, raw: bytes) -> bytes:
        self._received += len(raw)
        if self._coding == "identity":
            return self._take(raw)
        if self._received > self._raw_limit:
            raise _TooLargeError
        if self._finished:
            return b""
        out = []
        data, self._pending = self._pending + raw, b""
        while data:
            if self._zlib is None or self._zlib.eof:
                if len(data) < 2:
                    self._pending = data
                    break
                if self._zlib is not None and (self._coding == "deflate" or data[:2] != b"\x1f\x8b"):
                    # After the end only another gzip member may follow; anything else is junk, as browsers treat it.
                    self._finished = True
                    break
                self._zlib = self._inflater_for(data)
            out.append(self._take(self._zlib.decompress(data, self._limit - self._produced + 1)))
            data = self._zlib.unused_data if self._zlib.eof else self._zlib.unconsumed_tail
        return b"".join(out)

    def flush(self) -> bytes:
        if self._zlib is None:
            if self._pending:
                raise zlib.error("the body is too short to be compressed data")
            return b""
        return self._take(self._zlib.flush())


class _HostSlots:
    """At most `limit` requests in flight per host; a host's semaphore is dropped when nobody uses it."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}

    async def acquire(self, host: str) -> None:
        semaphore = self._semaphores.setdefault(host, asyncio.Semaphore(self._limit))
        self._users[host] = self._users.get(host, 0) + 1
        try:
            await semaphore.acquire()
        except BaseException:
            self._forget(host)
            raise

    def release(self, host: str) -> None:
        self._semaphores[host].release()
        self._forget(host)

    def _forget(self, host: str) -> None:
        self._users[host] -= 1
        if not self._users[host]:
            del self._users[host], self._semaphores[host]


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Dials only public addresses: the host is resolved here, once, checked, and the checked address connected.

    check_url() already refused the URL before any request; this closes DNS rebinding (a second lookup at connect
    time answering 127.0.0.1). TLS still verifies and sends SNI for the host name: httpcore passes it separately.
    """

    def __init__(self, resolver: Resolver | None) -> None:
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await public_addresses(f"{host}:{port}", host, self._resolver)
        return await self._inner.connect_tcp(str(addresses[0]), port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeURLError(path, "unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class HttpFetcher:
    """The real `Fetcher`: a total deadline, a decompressed-size cap, guarded redirects, per-host concurrency.

    One instance is shared by the whole process (its connection pool is reused); close it with `aclose()` or
    `async with`. It is bound to the event loop that first uses it.
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
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if timeout <= 0 or max_bytes <= 0 or max_redirects < 0 or per_host_concurrency < 1:
            raise ValueError("timeout and max_bytes must be positive, max_redirects >= 0, per_host_concurrency >= 1")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_private = allow_private
        self._resolver = resolver
        self._clock = clock or (lambda: datetime.now(UTC))
        self._slots = _HostSlots(per_host_concurrency)

        def client(guarded: bool) -> httpx.AsyncClient:
            if transport is None:
                pool = httpx.AsyncHTTPTransport()
                if guarded:
                    # httpx offers no public hook for the network backend; its pool is httpcore's, which does.
                    pool._pool._network_backend = _GuardedBackend(resolver)
            return httpx.AsyncClient(
                headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
                # Per-phase timeouts are only a backstop: the total deadline in fetch() bounds a trickling server.
                timeout=httpx.Timeout(timeout),
                follow_redirects=False,  # every hop goes through the SSRF guard first, see _fetch_http
                transport=transport if transport is not None else pool,
            )

        # Keyed by "private addresses allowed": one pool dials only checked public addresses; the other exists only
        # when the settings allow private feeds (a fetch may still ask for the guarded one, e.g. for article links).
        self._clients = {False: client(guarded=True)}
        if allow_private:
            self._clients[True] = client(guarded=False)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

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
        allow_private: bool | None = None,
    ) -> FetchResult:
        """GET `url`, conditionally when `validators` are given; 304 gives content=None. Failures raise FeedError.

        `file://` URLs are read only when `allow_file` is true (the CLI); they obey the same size cap.
        `allow_private` can only narrow the fetcher's own setting (article links from untrusted feeds).
        """
        validators = validators or Validators()
        private = self.allow_private and allow_private is not False
        try:
            async with asyncio.timeout(self.timeout) as deadline:
                # The guard judges the URL exactly as given, before anything connects (or merges it with a base).
                await check_url(url, allow_private=private, allow_file=allow_file, resolver=self._resolver)
                if urllib.parse.urlsplit(url).scheme.lower() == "file":
                    return await self._read_file(url, validators)
                return await self._fetch_http(url, validators, deadline, private)
        except UnsafeURLError as e:
            # Refused at connect time, the error names host:port; the admin knows the feed URL.
            raise e if e.url == url else UnsafeURLError(url, e.reason) from e
        except TimeoutError as e:
            raise FeedError(url, f"timed out after {self.timeout:.1f} s") from e
        except httpx.TimeoutException as e:
            raise FeedError(url, f"timed out after {self.timeout:.1f} s") from e
        except httpx.HTTPError as e:
            raise FeedError(url, _describe_http_error(e)) from e
        except _TooLargeError as e:
            raise FeedError(url, f"response larger than {_size(self.max_bytes)}") from e

    async def _fetch_http(
        self, url: str, validators: Validators, deadline: asyncio.Timeout, private: bool
    ) -> FetchResult:
        headers: dict[bytes, bytes] = {}
        if validators.etag:
            headers[b"If-None-Match"] = _header_bytes(validators.etag)
        if validators.last_modified:
            headers[b"If-Modified-Since"] = _header_bytes(validators.last_modified)
        try:
            client = self._clients[private]
            request = client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:
            raise UnsafeURLError(url, f"not a valid URL ({e})") from e
        for hop in range(self.max_redirects + 1):
            if hop:
                await self._check_redirect(url, request.url, private)
            host = request.url.host
            with _paused(deadline):  # waiting for a busy host's turn is not the server being slow
                await self._slots.acquire(host)
            try:
                response = await client.send(request, stream=True)
                try:
                    if response.next_request is None:
                        result = await self._result(url, response, validators)
                        log.debug("%s: HTTP %s, %s bytes", url, result.status, len(result.content or b""))
                        return result
                    log.debug("%s: %s redirects to %s", url, response.status_code, response.next_request.url)
                    request = response.next_request
                finally:
                    await response.aclose()
            finally:
                self._slots.release(host)
        raise FeedError(url, f"too many redirects (more than {self.max_redirects})")

    async def _check_redirect(self, url: str, target: httpx.URL, private: bool) -> None:
        try:
            await check_url(target, allow_private=private, resolver=self._resolver)
        except FeedError as e:
            # Name the feed URL (what the admin knows) and the hop that was refused.
            error_type = UnsafeURLError if isinstance(e, UnsafeURLError) else FeedError
            raise error_type(url, f"redirect to {target} refused: {e.reason}") from e

    async def _result(self, url: str, response: httpx.Response, sent: Validators) -> FetchResult:
        headers = dict(response.headers.items())  # httpx gives lower-cased names, repeated ones joined by ", "
        retry_after = parse_retry_after(headers.get("retry-after"), self._clock())
        status = response.status_code
        if status != 304 and not 200 <= status < 300:
            raise HTTPStatusError(url, status, _status_text(response, retry_after), retry_after)
        if status == 304:
            # Drain the (empty) body: httpcore drops a connection whose response was never read, and a poll of
            # hundreds of unchanged feeds would then pay a new TCP handshake for every one of them.
            await response.aread()
            content = None
        else:
            content = await self._read_body(url, response)
        return FetchResult(
            url=url,
            final_url=str(response.url),
            status=status,
            content=content,
            headers=headers,
            # A 304 may omit the validators; the ones we sent are still the current ones then.
            validators=Validators(
                etag=_raw_header(response, b"etag") or (sent.etag if status == 304 else None),
                last_modified=_raw_header(response, b"last-modified")
                or (sent.last_modified if status == 304 else None),
            ),
            max_age=parse_max_age(headers.get("cache-control")),
            retry_after=retry_after,
        )

    async def _read_body(self, url: str, response: httpx.Response) -> bytes:
        encoding = response.headers.get("content-encoding", "")
        try:
            decoder = _BoundedDecoder(encoding, self.max_bytes)
        except ValueError as e:
            raise FeedError(url, str(e)) from e
        declared = response.headers.get("content-length", "")
        if not encoding and declared.isdigit() and int(declared) > self.max_bytes:
            raise _TooLargeError  # no need to download what we would throw away
        parts = []
        try:
            async for raw in response.aiter_raw():
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
            raise _TooLargeError
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
    transport: httpx.AsyncBaseTransport | None = None,
) -> HttpFetcher:
    """The fetcher the settings describe; `resolver` and `transport` are for tests."""
    return HttpFetcher(
        timeout=settings.fetch_timeout,
        max_bytes=settings.max_feed_bytes,
        max_redirects=settings.max_redirects,
        per_host_concurrency=settings.per_host_concurrency,
        allow_private=settings.allow_private_urls,
        resolver=resolver,
        transport=transport,
    )


def parse_max_age(cache_control: str | None) -> int | None:
    """Seconds from `Cache-Control: max-age=N`, or None when absent or malformed."""
    for directive in (cache_control or "").split(","):
        name, _, value = directive.partition("=")
        if name.strip().lower() == "max-age":
            value = value.strip().strip('"')
            return int(value) if value.isascii() and value.isdigit() else None
    return None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date, relative to `now`)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP dates are GMT by definition
    return max(0.0, (when - now).total_seconds())


def _raw_header(response: httpx.Response, name: bytes) -> str | None:
    """A header exactly as sent, decoded as Latin-1 so that _header_bytes gives back the very same bytes.

    Validators must be echoed byte for byte; httpx's own str may be UTF-8 or Latin-1 decoded, and which one is lost.
    """
    values = [value for key, value in response.headers.raw if key.lower() == name]
    return b", ".join(values).decode("latin-1") if values else None


def _header_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode()  # not from _raw_header; UTF-8 is the best guess


def _status_text(response: httpx.Response, retry_after: float | None) -> str:
    # The standard phrase, not the server's: it is what an admin recognises, and a server's may be long or odd.
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = response.reason_phrase[:60]
    text = f"HTTP {response.status_code} {phrase}".rstrip()
    if response.status_code in (301, 302, 303, 307, 308):
        text += " without a Location header"
    if retry_after is not None:
        text += f" (retry after {retry_after:.0f} s)"
    return text


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


class _paused:
    """Stop an asyncio.timeout's clock for the duration of the block, then give back the time that was left."""

    def __init__(self, deadline: asyncio.Timeout) -> None:
        self._deadline = deadline
        self._left: float | None = None

    def __enter__(self) -> None:
        when = self._deadline.when()
        if when is not None:
            self._left = when - asyncio.get_running_loop().time()
            self._deadline.reschedule(None)

    def __exit__(self, *exc: object) -> None:
        if self._left is not None:
            self._deadline.reschedule(asyncio.get_running_loop().time() + self._left)


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [error]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
        for nxt in (e.__cause__, e.__context__):
            if nxt is not None:
                stack.append(nxt)


def _describe_http_error(error: httpx.HTTPError) -> str:
    """A short sentence for an admin, from the OS/TLS error buried under httpx's and httpcore's wrappers."""
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error ({cause.reason or cause})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(cause, socket.gaierror):
            return "could not resolve host"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"the server broke the HTTP protocol ({error})"
    if isinstance(error, httpx.ConnectError):
        return f"could not connect ({error})"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
