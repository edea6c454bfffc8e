"""What went wrong with a request, in a short sentence an admin recognises (the status's standard phrase, the OS or TLS
error under aiohttp's wrappers)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from http import HTTPStatus

import aiohttp

REDIRECTS = frozenset({301, 302, 303, 307, 308})


def status_text(response: aiohttp.ClientResponse, retry_after: float | None) -> str:
    # The standard phrase, not the server's: it is what an admin recognises, and a server's may be long or odd.
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = (response.reason or "")[:60]
    text = f"HTTP {response.status} {phrase}".rstrip()
    if response.status in REDIRECTS:
        text += " without a Location header"
    if retry_after is not None:
        text += f" (retry after {retry_after:.0f} s)"
    return text


def size_text(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


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


def describe_http_error(error: aiohttp.ClientError) -> str:
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
