"""Digest rendering: escaping, safe links, splitting at story boundaries into messages Telegram accepts."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from bot.digest.compose import Digest, DigestItem
from bot.errors import FeedError
from bot.feeds.dedupe import decide
from bot.i18n import texts
from bot.render.digest import render_digest
from bot.store import Store
from tests.feeds.test_parse import FEEDPARSER_TESTS, _parse_corpus_file
from tests.telegram_html import check, parse

EN = texts("en")


def item(n: int, summary: str = "Something happened. It matters. More later.", **kw: object) -> DigestItem:
    values: dict[str, object] = {
        "title": f"Story number {n}",
        "summary": summary,
        "link": f"https://news.example/{n}",
        "sources": ("Feed A",),
    }
    values.update(kw)
    return DigestItem(**values)  # type: ignore[arg-type]


def test_hostile_feed_text_is_escaped_and_bad_links_never_become_hrefs() -> None:
    title = "<script>alert(1)</script> & <b>"
    digest = Digest(
        "en",
        [
            item(1, title=title, summary='x" onmouseover="alert(1)', link="javascript:alert(1)"),
            item(2, link='https://ok.example/a" onclick="alert(1)'),
            item(3, link="https://ok.example/q?a=1&b=<2>"),
            item(4, link="data:text/html,<script>alert(1)</script>"),
            item(5, link="https://fine.example/path?x=1&y=2"),
        ],
    )
    [message] = render_digest(digest, EN)
    text, links = parse(message)
    assert title in text and "<script>" not in message and "&lt;script&gt;" in message
    assert links == ["https://fine.example/path?x=1&y=2"]
    assert 'href="https://fine.example/path?x=1&amp;y=2"' in message


def test_thirty_stories_split_at_story_boundaries_each_exactly_once() -> None:
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "人工智能", "émigré", "🤖", "<b>", "&", '"quote"']
    items = [item(n, summary=" ".join(rng.choice(words) for _ in range(rng.randint(20, 120))) + ".") for n in range(30)]
    items[4] = item(4, summary="long " * 1200)  # one story far longer than a message
    messages = render_digest(Digest("en", items), EN)
    shown = check(messages)
    assert len(messages) > 1
    for n in range(30):
        assert sum(text.count(f"Story number {n}\n") for text in shown) == 1, n
    assert shown[0].startswith("Your news digest: 30 stories")
    [long_one] = [text for text in shown if "Story number 4\n" in text]
    assert "…" in long_one
    assert any('href="https://news.example/4"' in m for m in messages)  # shortened, but still linked


def test_cap_footer_and_untranslated_marker() -> None:
    digest = Digest("de", [item(1, original_lang="it", sources=("La Stampa", "Il Post", "ANSA"))], more=7)
    [message] = render_digest(digest, EN)
    text, _ = parse(message)
    assert "La Stampa · also: Il Post, ANSA · not translated, original in IT" in text
    assert text.endswith("…and 7 more stories. /topics narrows what you get.")


@pytest.mark.parametrize(
    ("carried_by", "english", "italian"),
    [
        (8, "Feed 1 · also: Feed 2, Feed 3 and 5 more", "Feed 1 · anche: Feed 2, Feed 3 e altre 5"),
        (4, "Feed 1 · also: Feed 2, Feed 3 and 1 more", "Feed 1 · anche: Feed 2, Feed 3 e 1 altra"),
        (3, "Feed 1 · also: Feed 2, Feed 3", "Feed 1 · anche: Feed 2, Feed 3"),
        (2, "Feed 1 · also: Feed 2", "Feed 1 · anche: Feed 2"),
        (1, "Feed 1", "Feed 1"),
    ],
)
def test_a_story_carried_by_many_feeds_names_three_and_counts_the_rest(
    carried_by: int, english: str, italian: str
) -> None:
    sources = tuple(f"Feed {n}" for n in range(1, carried_by + 1))
    links = (None, *(f"https://feed{n}.example/story" for n in range(2, carried_by + 1)))
    story = item(1, sources=sources, source_links=links)
    for t, line in ((EN, english), (texts("it"), italian)):
        [message] = render_digest(Digest(t.lang, [story]), t)
        text, hrefs = parse(message)
        assert text.splitlines()[-1] == line
        assert hrefs == ["https://news.example/1", *links[1:3]]  # the named sources keep their links; "more" has none


def test_renderer_over_the_sanitizer_corpus_emits_only_safe_markup(store: Store) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    paths = sorted((FEEDPARSER_TESTS / "wellformed" / "sanitize").glob("*"))
    store.sync_feeds([(f"https://corpus.example/{p.name}", None, None, None, True) for p in paths], now)
    ids = {f.url: f.id for f in store.list_feeds()}
    for path in paths:
        try:
            parsed = _parse_corpus_file(path)
        except FeedError:
            continue
        feed_id = ids[f"https://corpus.example/{path.name}"]
        store.save_entries(feed_id, decide(parsed.entries, {}, {}), now)
    stories = store.list_stories()
    assert len(stories) > 500
    items = [DigestItem(s.title, s.text[:300], s.link, ("corpus",)) for s in stories]
    messages = render_digest(Digest("en", items), EN)
    check(messages)  # refuses any tag but Telegram's, any attribute but href, any non-http(s) link
    markup = "".join(messages)
    assert {m.group(1) for m in re.finditer(r"<\s*/?\s*([a-zA-Z-]+)", markup)} <= {"a", "b", "i"}
    assert all(attr == "href" for attr in re.findall(r"<a\s+([^=\s]+)=", markup))
