"""Response headers as the fetcher reads them (caching, Retry-After, byte-exact validators) and validators as it
sends them back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp


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


def header_dict(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
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


def raw_header(response: aiohttp.ClientResponse, name: bytes) -> str | None:
    """A header exactly as sent, decoded as Latin-1 so that sendable gives back the very same bytes.

    Validators must be echoed byte for byte; aiohttp's own str is UTF-8 decoded with surrogate escapes.
    """
    values = [value for key, value in response.raw_headers if key.lower() == name]
    return b", ".join(values).decode("latin-1") if values else None


def sendable(value: str) -> str | None:
    """The str aiohttp writes as the bytes `value` stands for, or None when it cannot send them.

    aiohttp encodes request headers as UTF-8, so only bytes that are valid UTF-8 go back exactly; a validator with
    other non-ASCII bytes is left out (the GET is then unconditional: a 200 where a 304 was possible, never a wrong
    match). Stored validators are Latin-1 decoded bytes (raw_header); anything else is sent as it is.
    """
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return None
