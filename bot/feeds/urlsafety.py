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
# refusal says what they are, and because Azure's WireServer (168.63.129.16) sits in public address space. These are
# refused even with NEWSBOT_ALLOW_PRIVATE_URLS=1: an intranet feed is a reason to reach 10.x, never the metadata API.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16", "192.0.0.192")
)
# Whole ranges where clouds put credential endpoints (EKS Pod Identity 169.254.170.23 and fd00:ec2::23, Tencent
# 169.254.0.23, ...): never fetched either, whatever their kind is called.
METADATA_RANGES = tuple(ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::/32"))
METADATA = "cloud metadata"

# IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and later), as an explicit table: what is refused
# must not depend on how this Python's ipaddress module files an address (its is_private/is_global have changed
# between releases). Anything in no row is an ordinary public address.
_SPECIAL: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/32", "unspecified"),
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.31.196.0/24", "AS112"),
    ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("192.175.48.0/24", "AS112"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "NAT64 local use"),
    ("100::/64", "discard-only"),
    ("2001:db8::/32", "documentation"),
    ("2001::/23", "IETF protocol assignments"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "SRv6 segment identifiers"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
    ("::/96", "IPv4-compatible (deprecated)"),
)
_SPECIAL_NETWORKS = tuple((ipaddress.ip_network(net), kind) for net, kind in _SPECIAL)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")  # IANA has allocated no other IPv6 space for global use


def classify_address(ip: IPAddress | str) -> str | None:
    """Name the non-public kind of `ip` ("loopback", "private", ...), or None when it is a public address."""
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(addr, ipaddress.IPv6Address):
        # A zone id ("%eth0") takes no part in where a global or ULA address leads, but it makes the address
        # compare unequal to the same one without it: judge the bare address.
        addr = ipaddress.IPv6Address(int(addr))
        # An IPv6 address that embeds an IPv4 one reaches that IPv4 host: judge the embedded address.
        embedded = None
        if addr in _IPV4_MAPPED or addr in _NAT64 or (addr in _IPV4_COMPATIBLE and int(addr) > 1):
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        elif addr in _SIX_TO_FOUR:
            embedded = addr.sixtofour
        if embedded is not None:
            kind = classify_address(embedded)
            return f"{kind} (inside IPv6 {addr})" if kind else None
    if addr in METADATA_ADDRESSES:
        return METADATA
    for network, kind in _SPECIAL_NETWORKS:
        if addr.version == network.version and addr in network:
            return kind
    if isinstance(addr, ipaddress.IPv6Address) and addr not in _GLOBAL_UNICAST_V6:
        return "reserved"
    return None


def never_fetched(ip: IPAddress, kind: str | None) -> bool:
    """Refused whatever NEWSBOT_ALLOW_PRIVATE_URLS says: metadata endpoints and the ranges clouds put them in."""
    if kind is None:
        return False
    if kind.startswith(METADATA):
        return True
    bare = ipaddress.IPv6Address(int(ip)) if isinstance(ip, ipaddress.IPv6Address) else ip
    embedded = bare.ipv4_mapped if isinstance(bare, ipaddress.IPv6Address) else None
    return any(a.version == n.version and a in n for a in (bare, embedded) if a is not None for n in METADATA_RANGES)


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


def _a(kind: str) -> str:
    """The kind with its article: "an unspecified", "a unique local", "a loopback"."""
    return f"an {kind}" if kind[:1] in "aeio" or (kind.startswith("un") and not kind.startswith("uni")) else f"a {kind}"


def _private_refusal(host: str, ip: IPAddress | str, kind: str) -> str:
    where = f"{host} is" if str(ip) == host.strip("[]") else f"{host} resolves to {ip}, which is"
    if not isinstance(ip, str) and never_fetched(ip, kind):
        return f"{where} {_a(kind)} address; newsbot never fetches those, even with {ALLOW_PRIVATE_ENV}=1 (SSRF)"
    return (
        f"{where} {_a(kind)} address; newsbot refuses those to protect your network (SSRF). "
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
    if "%" in host:
        raise UnsafeURLError(text, "IPv6 addresses with a zone id (%) are not fetched")
    await public_addresses(text, host, resolver, allow_private=allow_private)


async def public_addresses(
    url: str, host: str, resolver: Resolver | None = None, *, allow_private: bool = False
) -> list[IPAddress]:
    """Every address `host` stands for, all of them public (with `allow_private`: none of them a metadata
    endpoint); else UnsafeURLError, or FeedError when it does not resolve."""
    if _is_localhost_name(host):
        if allow_private:
            return [ipaddress.ip_address("127.0.0.1")]
        raise UnsafeURLError(url, _private_refusal(host, host, "loopback"))
    try:
        literal = parse_numeric_host(host)
    except ValueError as e:
        raise UnsafeURLError(url, str(e)) from e
    addresses = [literal] if literal is not None else await _resolve(url, host, resolver or system_resolver)
    for ip in addresses:
        kind = classify_address(ip)
        if kind is not None and (not allow_private or never_fetched(ip, kind)):
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
