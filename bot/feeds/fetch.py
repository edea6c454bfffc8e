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
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

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
# Only what _BoundedDecoder can decode with an output cap; aiohttp would also offer br/zstd when installed.
ACCEPT_ENCODING = "gzip, deflate"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class _TooLargeError(Exception):
    pass


class _BoundedDecoder:
    """Decode a gzip/deflate body while refusing to produce more than `limit` bytes.

    HTTP clients' own decoders inflate each 64 KB network read in one go (about 64 MB for a zero-filled gzip chunk)
    and stack encodings (`gzip, gzip`) without bound. Asking zlib for at most the bytes still allowed keeps a
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


def _host_of(url: str) -> str | None:
    """The host aiohttp will connect to (IDNA-encoded), or None when there is none to read (check_url says why)."""
    try:
        return URL(url).raw_host
    except (ValueError, TypeError):
        return None


def _same_host(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


class _GuardedResolver(AbstractResolver):
    """Resolves for the guarded connector: a host's addresses are looked up once, checked, and only those dialled.

    check_url() already refused the URL before any request; this closes DNS rebinding (a second lookup at connect
    time answering 127.0.0.1). TLS still verifies and sends SNI for the host name: aiohttp passes it separately.
    aiohttp never asks a resolver about IP literals; check_url() judged those, and they cannot change.
    """

    def __init__(
        self,
        resolver: Resolver | None,
        connect_to: Mapping[tuple[str, int], tuple[str, int]],
        *,
        allow_private: bool = False,
    ) -> None:
        self._resolver = resolver
        self._connect_to = connect_to
        self._allow_private = allow_private  # then only metadata endpoints are refused

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = []
        for ip in await public_addresses(f"{host}:{port}", host, self._resolver, allow_private=self._allow_private):
            address, dial_port = self._connect_to.get((str(ip), port), (str(ip), port))
            results.append(
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=dial_port,
                    family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        return results

    async def close(self) -> None:
        pass


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
        self._slots = _HostSlots(per_host_concurrency)
        # Keyed by "private addresses allowed": one pool dials only checked public addresses; the other exists only
        # when the settings allow private feeds, and still never dials a metadata endpoint. A fetch may still ask for
        # the public one, e.g. for an article link's hops off the feed's own host. Sessions belong to a running loop,
        # so they are made on first use.
        self._sessions: dict[bool, aiohttp.ClientSession] = {}

    def _session(self, private: bool) -> aiohttp.ClientSession:
        session = self._sessions.get(private)
        if session is None:
            guard = _GuardedResolver(self._resolver, self._connect_to, allow_private=private)
            session = self._sessions[private] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=guard),
                headers={"User-Agent": self._user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
                # The total deadline in fetch() bounds every phase, a trickling server included; per-read timers
                # would only cost CPU on every chunk.
                timeout=aiohttp.ClientTimeout(total=None),
                auto_decompress=False,  # _BoundedDecoder caps what a body inflates to
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
                private = self._private_for(_host_of(url), private_host)
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
            raise FeedError(url, _describe_http_error(e)) from e
        except _TooLargeError as e:
            raise FeedError(url, f"response larger than {_size(self.max_bytes)}") from e

    def _private_for(self, host: str | None, private_host: str | None) -> bool:
        """Whether a request to `host` may reach private addresses: with the setting on, any host, or with
        `private_host` given only that one ("" for none: the links of a file:// feed)."""
        if not self.allow_private:
            return False
        return private_host is None or (bool(host) and _same_host(host or "", private_host))

    async def _fetch_http(
        self, url: str, validators: Validators, deadline: asyncio.Timeout, private_host: str | None
    ) -> FetchResult:
        headers = {}
        for name, value in (("If-None-Match", validators.etag), ("If-Modified-Since", validators.last_modified)):
            if value and (sendable := _sendable(value)) is not None:
                headers[name] = sendable
        target = URL(url)  # check_url() parsed it the same way, so it is valid
        for hop in range(self.max_redirects + 1):
            private = self._private_for(target.raw_host, private_host)  # judged again at every hop
            if hop:
                await self._check_redirect(url, target, private)
            session = self._session(private)
            host = target.raw_host or ""
            with _paused(deadline):  # waiting for a busy host's turn is not the server being slow
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
        if response.status not in _REDIRECTS or location is None:
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
        headers = _headers(response.raw_headers)
        retry_after = parse_retry_after(headers.get("retry-after"), self._clock())
        status = response.status
        if status != 304 and not 200 <= status < 300:
            raise HTTPStatusError(url, status, _status_text(response, retry_after), retry_after)
        return FetchResult(
            url=url,
            final_url=str(response.url),
            status=status,
            content=None if status == 304 else await self._read_body(url, response, headers),
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

    async def _read_body(self, url: str, response: aiohttp.ClientResponse, headers: Mapping[str, str]) -> bytes:
        encoding = headers.get("content-encoding", "")
        try:
            decoder = _BoundedDecoder(encoding, self.max_bytes)
        except ValueError as e:
            raise FeedError(url, str(e)) from e
        declared = headers.get("content-length", "")
        if not encoding and declared.isdigit() and int(declared) > self.max_bytes:
            raise _TooLargeError  # no need to download what we would throw away
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


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-cased names, repeated headers joined by ", "; values read as UTF-8, else Latin-1 (never surrogates)."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        try:
            text = value.decode()
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _raw_header(response: aiohttp.ClientResponse, name: bytes) -> str | None:
    """A header exactly as sent, decoded as Latin-1 so that _sendable gives back the very same bytes.

    Validators must be echoed byte for byte; aiohttp's own str is UTF-8 decoded with surrogate escapes.
    """
    values = [value for key, value in response.raw_headers if key.lower() == name]
    return b", ".join(values).decode("latin-1") if values else None


def _sendable(value: str) -> str | None:
    """The str aiohttp writes as the bytes `value` stands for, or None when it cannot send them.

    aiohttp encodes request headers as UTF-8, so only bytes that are valid UTF-8 go back exactly; a validator with
    other non-ASCII bytes is left out (the GET is then unconditional: a 200 where a 304 was possible, never a wrong
    match). Stored validators are Latin-1 decoded bytes (_raw_header); anything else is sent as it is.
    """
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return None


def _status_text(response: aiohttp.ClientResponse, retry_after: float | None) -> str:
    # The standard phrase, not the server's: it is what an admin recognises, and a server's may be long or odd.
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = (response.reason or "")[:60]
    text = f"HTTP {response.status} {phrase}".rstrip()
    if response.status in _REDIRECTS:
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


def _describe_http_error(error: aiohttp.ClientError) -> str:
    """A short sentence for an admin, from the OS/TLS error buried under aiohttp's wrappers."""
    for cause in _causes(error):
        if isinstance(cause, aiohttp.ClientError):
            continue  # some wrappers also subclass the ssl/OS error they wrap, without its attributes
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
    if isinstance(error, aiohttp.ClientResponseError):  # aiohttp's name for a response it could not parse
        return f"the server broke the HTTP protocol ({' '.join(error.message.split())})"
    if isinstance(error, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return f"the server broke the HTTP protocol ({error})"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"could not connect ({error.strerror or error})"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
