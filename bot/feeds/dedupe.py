"""Pure decisions on what a fetched feed's entries mean for the store: new, another source, updated, unchanged. No I/O."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import idna

from bot.feeds.types import Action, Decision, KnownSource, ParsedEntry

# Query parameters that only say where a click came from; two URLs differing in them are the same article.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ocid",
        "cmpid",
        "ito",
        "at_medium",
        "at_campaign",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "rss",
        "ref",
        "ref_src",
        "smid",
        "guccounter",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str | None) -> str | None:
    """The key that identifies an article: the variants one page is linked under fold into one. https for http, the
    host in lower case and punycode (IDNA) without `www.`, no default port, no trailing slash, no fragment, no
    tracking parameters, the others sorted (an explicit other port keeps its scheme). (The link as given is kept beside it, for readers.)"""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = _ascii_host(parts.hostname)
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 literal
    if port not in (None, _DEFAULT_PORTS[scheme]):  # a port of its own: that scheme's server, not folded
        netloc = f"{netloc}:{port}"
    else:
        scheme = "https"
    path = parts.path.rstrip("/") or "/"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    )
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def _ascii_host(hostname: str) -> str:
    """`Bücher.example.` and `www.xn--bcher-kva.example` -> `xn--bcher-kva.example`."""
    host = hostname.lower().rstrip(".")
    # A name IDNA refuses (an IP literal, an odd label) is compared as written, in lower case.
    with contextlib.suppress(idna.IDNAError):
        host = idna.encode(host, uts46=True).decode("ascii")
    return host.removeprefix("www.")


def entry_hash(entry: ParsedEntry) -> str:
    """Fingerprint of an entry as the feed gave it; a different value means the publisher changed it."""
    h = hashlib.blake2b(digest_size=16)
    for part in (entry.title, entry.text, entry.url or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def decide(
    entries: Iterable[ParsedEntry],
    known_guids: Mapping[str, KnownSource],
    known_urls: Mapping[str, int],
) -> list[Decision]:
    """Classify a feed's entries against what the store knows of this feed (by guid) and of all stories (by URL).

    The same guid twice in one feed counts once; two guids with one canonical URL make one story with one source each.
    """
    decisions: list[Decision] = []
    seen_guids: set[str] = set()
    new_urls: set[str] = set()
    for entry in entries:
        if entry.guid in seen_guids:
            continue
        seen_guids.add(entry.guid)
        url = canonical_url(entry.url)
        fingerprint = entry_hash(entry)
        known = known_guids.get(entry.guid)
        if known is not None:
            action: Action = "unchanged" if known.entry_hash == fingerprint else "updated"
            decisions.append(Decision(action, entry, url, fingerprint, known.story_id))
        elif url is not None and url in known_urls:
            decisions.append(Decision("source", entry, url, fingerprint, known_urls[url]))
        elif url is not None and url in new_urls:
            decisions.append(Decision("source", entry, url, fingerprint))
        else:
            if url is not None:
                new_urls.add(url)
            decisions.append(Decision("new", entry, url, fingerprint))
    return decisions
