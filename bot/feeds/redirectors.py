"""Links that only redirect (feed proxies, link shorteners): the story is the page they lead to, so such a link is
followed once and the entry stored under the final URL, where its direct twin from another feed finds it."""

from __future__ import annotations

from urllib.parse import urlsplit

# Hosts whose links are a redirect to the article and nothing else.
REDIRECTOR_HOSTS = frozenset(
    {
        "feedproxy.google.com",
        "feeds.feedburner.com",
        "feedburner.google.com",
        "rss.feedsportal.com",
        "t.co",
        "bit.ly",
        "buff.ly",
        "dlvr.it",
        "ow.ly",
        "lnkd.in",
        "trib.al",
        "ift.tt",
        "redirect.viglink.com",
    }
)


def is_redirector(url: str | None) -> bool:
    if not url:
        return False
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    return host in REDIRECTOR_HOSTS
