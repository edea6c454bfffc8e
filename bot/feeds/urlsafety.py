"""The SSRF guard: decides whether a URL may be fetched, before any connection; it never connects or fetches itself."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import string
from collections.abc import Awaitable, Callable, Sequence

from yarl import URL

from bot.errors import FeedError, UnsafeURLError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Maps a host name to the IP address strings it resolves to; injectable so tests can play DNS.
Resolver = Callable[[str], Awaitable[Sequence[str]]]

ALLOW_PRIVATE_ENV = "NEWSBOT_ALLOW_PRIVATE_URLS"
WEB_SCHEMES = frozenset({"http", "https"})

# Cloud instance-metadata endpoints. Most already fall in link-local/ULA/CGNAT ranges; they are named here so the
# refusal says what they are, and because Azure's WireServer (168.63.129.16) sits in public address space.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
_SHARED_V4 = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT; Python's is_private misses it
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def classify_address(ip: IPAddress | str) -> str | None:
    """Name the non-public kind of `ip` ("loopback", "private", ...), or None when it is a public address."""
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(addr, ipaddress.IPv6Address):
        # An IPv6 address that embeds an IPv4 one reaches that IPv4 host: judge the embedded address.
        embedded = addr.ipv4_mapped or addr.sixtofour
        if embedded is None and any(addr in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            kind = classify_address(embedded)
            return f"{kind} (inside IPv6 {addr})" if kind else None
    if addr in METADATA_ADDRESSES:
        return "cloud metadata"
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if isinstance(addr, ipaddress.IPv4Address) and addr in _SHARED_V4:
        return "shared (carrier-grade NAT)"
    if addr.is_multicast:
        return "multicast"
    if isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local:
        return "site-local"
    if addr.is_private:
        return "private"
    if addr.is_reserved:
        return "reserved"
    if not addr.is_global:
        return "non-public"
    return None


def is_public_address(ip: IPAddress | str) -> bool:
    """True when `ip` is an ordinary public unicast address a feed may live on."""
    return classify_address(ip) is None


def parse_numeric_host(host: str) -> IPAddress | None:
    """The address a numeric host spells, in any form a resolver accepts; None when `host` is a name.

    inet_aton() (and so getaddrinfo) reads `0x7f000001`, `2130706433`, `017700000001` and `127.1` as 127.0.0.1, so the
    guard must read them the same way (WHATWG URL's IPv4 parser). A host whose last label is numeric but malformed
    raises ValueError: no real name ends in a numeric label, and a resolver might still read it as an address.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing dot is the DNS root, not part of the number
    if not parts or not _is_numeric_label(parts[-1]):
        return None
    numbers = [_parse_ipv4_part(p, host) for p in parts]
    if len(numbers) > 4 or any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _is_numeric_label(label: str) -> bool:
    if label.isascii() and label.isdigit():
        return True
    return label[:2].lower() == "0x" and all(c in string.hexdigits for c in label[2:])


def _parse_ipv4_part(part: str, host: str) -> int:
    digits, base, allowed = part, 10, string.digits
    if part[:2].lower() == "0x":
        digits, base, allowed = part[2:], 16, string.hexdigits
    elif len(part) > 1 and part.startswith("0"):
        digits, base, allowed = part[1:], 8, string.octdigits
    if part == "" or any(c not in allowed for c in digits):
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    return int(digits, base) if digits else 0  # "0x" alone is zero for inet_aton and WHATWG alike


async def system_resolver(host: str) -> list[str]:
    """Resolve `host` the way the HTTP connection will (getaddrinfo), returning every address."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _is_localhost_name(host: str) -> bool:
    # RFC 6761: "localhost" and every name under it are loopback whatever a resolver claims.
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def _private_refusal(host: str, ip: object, kind: str) -> str:
    where = f"{host} is" if str(ip) == host.strip("[]") else f"{host} resolves to {ip}, which is"
    return (
        f"{where} a {kind} address; newsbot refuses those to protect your network (SSRF). "
        f"Set {ALLOW_PRIVATE_ENV}=1 to allow feeds on loopback/private addresses."
    )


async def check_url(
    url: str | URL,
    *,
    allow_private: bool,
    allow_file: bool = False,
    resolver: Resolver | None = None,
) -> None:
    """Raise UnsafeURLError unless `url` may be fetched; a host that does not resolve raises FeedError.

    Call it before connecting, and again for every redirect hop. Any one resolved address being non-public refuses
    the URL. The URL is read with yarl, as aiohttp reads it to connect. The fetcher's guarded connections resolve
    through `public_addresses` again and dial only the addresses it approved, so a DNS server answering differently
    the second time (DNS rebinding) gains nothing.
    """
    text = str(url)
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except (ValueError, TypeError) as e:
        raise UnsafeURLError(text, f"not a valid URL ({e})") from e
    scheme = parsed.scheme.lower()
    if scheme == "file":
        if not allow_file:
            raise UnsafeURLError(text, "file:// URLs are accepted only from the command line")
        if parsed.host not in (None, "", "localhost"):
            raise UnsafeURLError(text, "file:// URLs must name a local file (file:///path)")
        return
    if scheme not in WEB_SCHEMES:
        shown = f"{scheme}:" if scheme else "a URL without a scheme"
        raise UnsafeURLError(text, f"only http:// and https:// URLs can be fetched, not {shown}")
    # raw_host is the exact (IDNA-encoded) name aiohttp's connector resolves, so the guard judges the same string.
    host = parsed.raw_host
    if not host:
        raise UnsafeURLError(text, "the URL has no host")
    if allow_private:
        return
    await public_addresses(text, host, resolver)


async def public_addresses(url: str, host: str, resolver: Resolver | None = None) -> list[IPAddress]:
    """Every address `host` stands for, all of them public; else UnsafeURLError (or FeedError: does not resolve)."""
    if _is_localhost_name(host):
        raise UnsafeURLError(url, _private_refusal(host, host, "loopback"))
    try:
        literal = parse_numeric_host(host)
    except ValueError as e:
        raise UnsafeURLError(url, str(e)) from e
    addresses = [literal] if literal is not None else await _resolve(url, host, resolver or system_resolver)
    for ip in addresses:
        kind = classify_address(ip)
        if kind is not None:
            log.debug("refusing %s: %s is %s", url, ip, kind)
            raise UnsafeURLError(url, _private_refusal(host, ip, kind))
    return addresses


async def _resolve(url: str, host: str, resolver: Resolver) -> list[IPAddress]:
    try:
        found = await resolver(host)
    except OSError as e:
        raise FeedError(url, f"could not resolve host {host}") from e
    if not found:
        raise FeedError(url, f"could not resolve host {host}")
    addresses = []
    for item in found:
        try:
            addresses.append(ipaddress.ip_address(item))
        except ValueError as e:
            raise UnsafeURLError(url, f"{host} resolved to {item!r}, which is not an IP address") from e
    return addresses
