"""The dedupe decider: same guid, same article under another URL, changed entries."""

from dataclasses import replace

import pytest

from bot.feeds.dedupe import canonical_url, decide, entry_hash
from bot.feeds.types import KnownSource, ParsedEntry

ENTRY = ParsedEntry(guid="g1", url="https://News.example.com/a?id=3&utm_source=rss#top", title="T", text="Body")


def test_canonical_url_drops_tracking_and_fragment_only() -> None:
    assert canonical_url(ENTRY.url) == "https://news.example.com/a?id=3"
    assert canonical_url("https://x.org:443/p?fbclid=1&utm_medium=a&q=ai") == "https://x.org/p?q=ai"
    assert canonical_url("http://x.org:8080") == "http://x.org:8080/"
    assert canonical_url("javascript:alert(1)") is None
    assert canonical_url(None) is None


def test_new_then_unchanged_then_updated() -> None:
    [first] = decide([ENTRY], {}, {})
    assert first.action == "new" and first.url == "https://news.example.com/a?id=3"
    known = {"g1": KnownSource(7, entry_hash(ENTRY))}
    assert [d.action for d in decide([ENTRY], known, {})] == ["unchanged"]
    changed = replace(ENTRY, title="T, corrected")
    [update] = decide([changed], known, {})
    assert (update.action, update.story_id) == ("updated", 7)


def test_same_article_via_other_feed_or_tracking_variant_is_a_source() -> None:
    variant = replace(ENTRY, guid="other-feed-guid", url="https://news.example.com/a?utm_campaign=x&id=3")
    [d] = decide([variant], {}, {"https://news.example.com/a?id=3": 42})
    assert (d.action, d.story_id) == ("source", 42)


def test_duplicates_inside_one_fetch() -> None:
    twin = replace(ENTRY, guid="g2", url="https://news.example.com/a?id=3#comments")
    decisions = decide([ENTRY, ENTRY, twin], {}, {})
    assert [d.action for d in decisions] == ["new", "source"]


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.example.com/news/story",
        "http://example.com/news/story",
        "https://example.com/news/story/",
        "HTTPS://EXAMPLE.COM:443/news/story",
        "https://example.com/news/story?utm_source=rss&utm_medium=feed",
        "https://example.com/news/story#comments",
        "https://example.com./news/story",
    ],
)
def test_url_variants_of_one_page_fold_into_one_key(variant: str) -> None:
    assert canonical_url(variant) == "https://example.com/news/story"


def test_query_order_and_idna_fold() -> None:
    assert canonical_url("https://ex.org/p?b=2&a=1&fbclid=x") == canonical_url("http://ex.org/p/?a=1&b=2")
    assert canonical_url("https://bücher.example/a") == canonical_url("https://www.xn--bcher-kva.example/a/")
    assert canonical_url("https://bücher.example/a") == "https://xn--bcher-kva.example/a"
    assert canonical_url("https://ex.org/p?a=1") != canonical_url("https://ex.org/p?a=2")  # a real parameter stays
    assert canonical_url("http://x.org:8080/a") != canonical_url("https://x.org:8080/a")  # its own server
