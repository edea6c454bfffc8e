"""A local threaded HTTP server for feed tests, hostile on demand; it binds 127.0.0.1 only and never proxies out."""

from __future__ import annotations

import gzip as gzip_module
import sys
import threading
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

_CHUNK = 256 * 1024
_ZEROS = bytes(1 << 20)


@dataclass
class Route:
    """What the server answers on one path. The plain case is a 200 with `body`; the other fields make it hostile."""

    body: bytes | str = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    etag: str | None = None  # enables If-None-Match -> 304
    last_modified: str | None = None  # an HTTP date; enables If-Modified-Since -> 304
    headers: dict[str, str] = field(default_factory=dict)  # extra headers; they win over the defaults above
    delay: float = 0.0  # stall this many seconds before answering (cut short when the server stops)
    location: str | None = None  # answer a redirect here (status 302 unless `status` is already a 3xx)
    gzip: bool = False  # send `body` gzip-compressed with Content-Encoding: gzip
    gzip_bomb: int = 0  # stream this many zero bytes gzip-compressed (chunked), generated on the fly
    stream_size: int = 0  # stream this many filler bytes in chunks, never all in memory
    chunked: bool = False  # stream_size without a Content-Length (chunked), so a client cannot refuse it up front
    raw: bytes | None = None  # write exactly these bytes as the whole response, then close the connection
    drip: float = 0.0  # send `body` one byte every `drip` seconds (a server that is never quite silent)
    rate: int = 0  # send `body` at about this many bytes a second (a slow download)
    stall_after: int | None = None  # send this many bytes of `body`, then nothing until the server stops

    @property
    def body_bytes(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


def redirect(location: str, status: int = 302) -> Route:
    return Route(status=status, location=location)


def stall(seconds: float = 30.0) -> Route:
    return Route(delay=seconds)


def gzip_bomb(size: int = 1 << 30) -> Route:
    return Route(gzip_bomb=size, content_type="application/xml")


def huge_body(size: int = 50 << 20, *, chunked: bool = False) -> Route:
    return Route(stream_size=size, chunked=chunked)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # as sent, query string included
    headers: dict[str, str]  # lower-cased names


class FeedServer:
    """Serves `routes` on http://127.0.0.1:<free port>; records every request in `log` (guarded by a lock).

    Typical use: `server.routes["/feed"] = Route(body=rss, etag='"v1"')`, fetch `server.url("/feed")`, then assert
    on `server.requests("/feed")`. Unknown paths answer 404.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[LoggedRequest] = []
        self.connections = 0  # TCP connections accepted: shows whether clients reuse them
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.feed_server = self
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, path: str | None = None) -> list[LoggedRequest]:
        """A snapshot of the log, optionally only the requests for `path` (query string ignored)."""
        with self._lock:
            return [r for r in self.log if path is None or r.path.split("?", 1)[0] == path.split("?", 1)[0]]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def record(self, request: LoggedRequest) -> None:
        with self._lock:
            self.log.append(request)

    def route_for(self, path: str) -> Route | None:
        return self.routes.get(path) or self.routes.get(path.split("?", 1)[0])

    def start(self) -> FeedServer:
        # A short poll interval only makes stop() quick; new connections wake the loop immediately anyway.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="feed-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes stalled handlers and ends streaming ones
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The benchmark opens hundreds of connections at once; the default backlog of 5 would make them retry SYNs.
    request_queue_size = 1024
    feed_server: FeedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-body (size cap, timeout) is the expected ending, not a failure worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length or chunked encoding
    server_version = "newsbot-test-server"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out in separate writes; Nagle would delay the second
    timeout = 60  # idle keep-alive connections end eventually
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: one stderr line per request would drown test output

    def setup(self) -> None:
        super().setup()
        with self.server.feed_server._lock:
            self.server.feed_server.connections += 1

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, *, head: bool) -> None:
        feed_server = self.server.feed_server
        headers = {k.lower(): v for k, v in self.headers.items()}
        feed_server.record(LoggedRequest(self.command, self.path, headers))
        route = feed_server.route_for(self.path)
        if route is None:
            self._send(404, {"Content-Type": "text/plain"}, b"no route for this path\n", head)
            return
        if route.delay and feed_server.stopping.wait(route.delay):
            self.close_connection = True
            return
        if route.raw is not None:
            self.wfile.write(route.raw)
            self.close_connection = True
            return
        if route.location is not None:
            status = route.status if 300 <= route.status < 400 else 302
            self._send(status, {"Location": route.location, **route.headers}, b"", head)
            return

        base = {"Content-Type": route.content_type}
        if route.etag:
            base["ETag"] = route.etag
        if route.last_modified:
            base["Last-Modified"] = route.last_modified
        out = {**base, **route.headers}
        if route.status == 200 and _not_modified(route, headers):
            validators = {k: v for k, v in out.items() if k in ("ETag", "Last-Modified", "Cache-Control")}
            self._send(304, validators, b"", head)
        elif route.gzip_bomb:
            self._send_gzip_bomb(route.gzip_bomb, out, head)
        elif route.stream_size:
            self._send_filler(route.stream_size, route.status, out, head, chunked=route.chunked)
        else:
            body = route.body_bytes
            if route.gzip:
                body = gzip_module.compress(body)
                out["Content-Encoding"] = "gzip"
            if route.drip:
                self._send_drip(route.status, out, body, route.drip, head)
            elif route.rate or route.stall_after is not None:
                self._send_paced(route.status, out, body, head, route.rate, route.stall_after)
            else:
                self._send(route.status, out, body, head)

    def _start(self, status: int, headers: dict[str, str]) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        self.send_response(status, phrase)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, status: int, headers: dict[str, str], body: bytes, head: bool) -> None:
        if status >= 200 and status not in (204, 304):  # those two never carry a body
            headers = {**headers, "Content-Length": str(len(body))}
        self._start(status, headers)
        if body and not head and status != 304:
            self.wfile.write(body)

    def _send_filler(self, size: int, status: int, headers: dict[str, str], head: bool, *, chunked: bool) -> None:
        length = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(size)}
        self._start(status, {**headers, **length})
        if head:
            return
        block = b"x" * _CHUNK
        sent = 0
        while sent < size and not self.server.feed_server.stopping.is_set():
            piece = block[: min(_CHUNK, size - sent)]
            self._chunk(piece) if chunked else self.wfile.write(piece)
            sent += len(piece)
        if sent < size:
            self.close_connection = True
        elif chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _send_drip(self, status: int, headers: dict[str, str], body: bytes, interval: float, head: bool) -> None:
        self._start(status, {**headers, "Content-Length": str(len(body))})
        for i in range(0 if head else len(body)):
            if self.server.feed_server.stopping.wait(interval):
                self.close_connection = True
                return
            self.wfile.write(body[i : i + 1])

    def _send_paced(
        self, status: int, headers: dict[str, str], body: bytes, head: bool, rate: int, stall_after: int | None
    ) -> None:
        """`body` in tenths of a second's worth (`rate` bytes a second; all at once without one), stopping for good
        after `stall_after` bytes."""
        self._start(status, {**headers, "Content-Length": str(len(body))})
        if head:
            return
        stopping = self.server.feed_server.stopping
        end = len(body) if stall_after is None else min(stall_after, len(body))
        step = max(1, rate // 10) if rate else max(end, 1)
        for start in range(0, end, step):
            self.wfile.write(body[start : min(start + step, end)])
            self.wfile.flush()
            if rate and stopping.wait(0.1):
                break
        if end < len(body):
            stopping.wait()
            self.close_connection = True

    def _send_gzip_bomb(self, size: int, headers: dict[str, str], head: bool) -> None:
        headers = {**headers, "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"}
        self._start(200, headers)
        if head:
            return
        # wbits=31: a real gzip stream (header + trailer), compressed as it is sent, so 1 GB never sits in memory.
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        left = size
        while left and not self.server.feed_server.stopping.is_set():
            block = _ZEROS if left >= len(_ZEROS) else bytes(left)
            left -= len(block)
            # A sync flush now and then pushes bytes out, so the client sees the body grow while we keep compressing.
            self._chunk(compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH))
        if left:
            self.close_connection = True
            return
        self._chunk(compressor.flush())
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


def _not_modified(route: Route, request_headers: dict[str, str]) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; otherwise If-Modified-Since is compared as a date."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        if route.etag is None:
            return False
        tags = [t.strip() for t in if_none_match.split(",")]
        return "*" in tags or _weak(route.etag) in {_weak(t) for t in tags}
    since = request_headers.get("if-modified-since")
    if since is None or route.last_modified is None:
        return False
    try:
        return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return since == route.last_modified


def _weak(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


PUBLIC_IP = "93.184.216.34"


def resolver_for(table: dict[str, Sequence[str]]) -> Callable[[str], Awaitable[Sequence[str]]]:
    """A resolver for the SSRF guard that knows only `table` (host -> addresses)."""

    async def resolve(host: str) -> Sequence[str]:
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return resolve


def public_ip_served_by(port: int) -> dict[tuple[str, int], tuple[str, int]]:
    """`HttpFetcher(connect_to=...)` that plays the internet: connections to PUBLIC_IP:80 reach 127.0.0.1:`port`.

    The guard still judges every name and address as usual; only the approved public address is dialled elsewhere,
    and the Host header keeps the public name, as it would after a real DNS lookup.
    """
    return {(PUBLIC_IP, 80): ("127.0.0.1", port)}
