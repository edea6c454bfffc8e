"""parse_feed against feedparser's whole test corpus, hostile markup, real saved feeds, JSON Feed and our own edge cases."""

from __future__ import annotations

import html
import json
import pickle
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import FeedError
from bot.feeds.parse import is_teaser, parse_feed
from bot.feeds.types import ParsedEntry, ParsedFeed
from tests.corpora import CORPORA

FEEDPARSER_TESTS = CORPORA / "feeds" / "feedparser-tests"
REAL = CORPORA / "feeds" / "real"
FEED_URL = "https://news.example/feed.xml"
_HEADER = re.compile(rb"^\s*Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)
# What must never reach stored text, after decoding entities twice (double-escaped tricks): a script element, an
# event-handler attribute, a script URL, and in fact any tag at all, since stored fields are plain text.
_HOSTILE = re.compile(
    r"<\s*/?\s*script|\bon[a-z]+\s*=|j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t\s*:|v\s*b\s*s\s*c\s*r\s*i\s*p\s*t\s*:"
    r"|<[a-z!/?]",
    re.IGNORECASE,
)


def _corpus_folders() -> list[str]:
    """One test per folder (wellformed/ split by its subfolders): per-file parametrization costs more than parsing."""
    folders = [p for p in sorted(FEEDPARSER_TESTS.iterdir()) if p.is_dir() and p.name != "wellformed"]
    folders += sorted(p for p in (FEEDPARSER_TESTS / "wellformed").iterdir() if p.is_dir())
    return [str(p.relative_to(FEEDPARSER_TESTS)) for p in folders]


def _parse_corpus_file(path: Path) -> ParsedFeed:
    """Parse one corpus file the way the fetcher would hand it over: its `Header:` comments are the HTTP headers."""
    data = path.read_bytes()
    headers: dict[str, str] = {}
    if "http" in str(path.relative_to(FEEDPARSER_TESTS)):
        headers = {name.decode().lower(): value.decode("latin-1") for name, value in _HEADER.findall(data)}
    return parse_feed(data, url=headers.get("content-location", FEED_URL), content_type=headers.get("content-type"))


def test_corpus_has_every_file() -> None:
    assert sum(1 for p in FEEDPARSER_TESTS.rglob("*") if p.is_file()) == 2107


@pytest.mark.parametrize("folder", _corpus_folders())
def test_every_corpus_file_parses_or_fails_cleanly(folder: str) -> None:
    crashed = []
    for path in sorted((FEEDPARSER_TESTS / folder).rglob("*")):
        if not path.is_file():
            continue
        try:
            feed = _parse_corpus_file(path)
        except FeedError as e:
            assert e.reason, path
            continue
        except Exception as e:  # the point of this test: name every file that escapes as anything else
            crashed.append(f"{path.relative_to(FEEDPARSER_TESTS)}: {type(e).__name__}: {e}")
            continue
        for entry in feed.entries:
            _assert_entry_shape(entry)
    assert not crashed, "\n".join(crashed)


def test_sanitize_corpus_leaves_no_markup_scripts_or_handlers() -> None:
    leaks = []
    paths = sorted((FEEDPARSER_TESTS / "wellformed" / "sanitize").glob("*"))
    assert len(paths) == 745
    for path in paths:
        try:
            feed = _parse_corpus_file(path)
        except FeedError:
            continue
        fields = [feed.title or "", feed.link or ""]
        for entry in feed.entries:
            fields += [entry.title, entry.text, entry.url or "", entry.author or "", entry.guid]
        for field in fields:
            if _HOSTILE.search(html.unescape(html.unescape(field))):
                leaks.append(f"{path.name}: {field[:120]!r}")
    assert not leaks, "\n".join(leaks)


def _assert_entry_shape(entry: ParsedEntry) -> None:
    assert entry.guid
    assert entry.url is None or entry.url.startswith(("http://", "https://"))
    assert "\n" not in entry.title
    assert entry.text == entry.text.strip()
    if entry.published is not None:
        assert datetime.fromisoformat(entry.published).utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def _manifest() -> list[tuple[str, str]]:
    rows = (REAL / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [(row.split("\t")[0], row.split("\t")[-1]) for row in rows if row.strip()]


@pytest.mark.parametrize(("name", "smoke"), _manifest(), ids=[name for name, _ in _manifest()])
def test_real_feed_entry_counts(name: str, smoke: str) -> None:
    """MANIFEST's last column is what feedparser 6.0.14 makes of the file: version;entries;bozo;exception."""
    content = (REAL / name).read_bytes()
    if name.endswith(".json"):
        assert len(parse_feed(content, url=FEED_URL).entries) > 0
        return
    _version, entries, bozo, _exception = smoke.split(";")
    if int(entries) == 0 and bozo == "1":
        with pytest.raises(FeedError):
            parse_feed(content, url=FEED_URL)
        return
    feed = parse_feed(content, url=FEED_URL)
    assert len(feed.entries) == int(entries)
    assert (feed.warning is not None) == (bozo == "1")
    for entry in feed.entries:
        _assert_entry_shape(entry)
        assert entry.title or entry.text


def test_json_feed_fields_are_mapped() -> None:
    path = REAL / "kagi-fastfeedparser" / "benchmark_data" / "d4b7ab74da763119.json"
    document = json.loads(path.read_bytes())
    feed = parse_feed(
        path.read_bytes(), url="https://humanwhocodes.com/feeds/all.json", content_type="application/feed+json"
    )
    assert feed.title == document["title"]
    assert feed.link == document["home_page_url"]
    assert len(feed.entries) == len(document["items"]) == 10
    first, item = feed.entries[0], document["items"][0]
    assert first.guid == item["id"]
    assert first.url == item["url"]
    assert first.title == item["title"]
    assert first.author == "Nicholas C. Zakas"
    assert first.published == datetime.fromisoformat(item["date_published"]).astimezone(UTC).isoformat()
    assert first.text.startswith("[Supabase](https://supabase.com) uses JWT signing keys")
    assert "\n\n## Generate a signing key\n\n" in first.text
    assert not first.is_teaser


def test_json_feed_from_the_feedparser_corpus_drops_its_script() -> None:
    feed = parse_feed((FEEDPARSER_TESTS / "json" / "example.json").read_bytes(), url="https://example.org/feed.json")
    assert feed.title == "My Example Feed"
    assert [(e.guid, e.url, e.text) for e in feed.entries] == [
        ("2", "https://example.org/second-item", "This is a second item."),
        ("1", "https://example.org/initial-post", "Hello, world!"),
    ]
    assert [e.author for e in feed.entries] == ["me", "you"]  # the feed-level author fills in


def test_italian_feeds_keep_their_text() -> None:
    giornale = parse_feed(
        (REAL / "feed-rs" / "rss_2.0_ilgiornale.xml").read_bytes(), url="https://www.ilgiornale.it/feed"
    )
    assert giornale.language == "it"
    entry = giornale.entries[0]
    assert entry.title == "Arrestato in Pakistan Shabbar Abbas. In Italia è accusato per l'omicidio di Saman"
    # The description is escaped HTML holding escaped entities (&amp;#39;): both layers come off, the <figure> goes.
    assert entry.text == (
        "È stato arrestato in Pakistan per frode Shabbar, padre di Saman Abbas. "
        "In Italia l'uomo è accusato di essere il mandante di un presunto delitto d'onore"
    )
    assert entry.author == "Angela Leucci"
    assert entry.published == "2022-11-15T20:15:04+00:00"
    assert entry.is_teaser


def test_il_messaggero_italian_pubdate_and_cdata_whitespace() -> None:
    feed = parse_feed(
        (REAL / "feed-rs" / "rss_2.0_ilmessaggero.xml").read_bytes(), url="https://www.ilmessaggero.it/rss"
    )
    entry = feed.entries[0]
    assert entry.published == "2022-11-15T23:38:15+00:00"  # "mer, 16 nov 2022 00:38:15 +0100"
    assert entry.title == "Missili Polonia, cosa è successo? Tensione Nato-Russia, Mosca: non siamo stati noi"
    assert entry.text.startswith("Non sono ancora le 16 di ieri pomeriggio")
    assert "Przewodów, nel distretto di Hrubieszów" in entry.text
    assert entry.is_teaser  # it ends "al limite..."


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("feed-rs/rss_1.0_iso8859.xml", "Digitalministerium: Neue Glasfaserförderung mit Schnellkasse"),
        ("feed-rs/rss_2.0_encoding_1.xml", "Revolução nas telas com pontos quânticos impressos em 3D"),
        ("rss-parser/encoding.rss", "Mãe de utente é a nova presidente da Raríssimas"),
    ],
)
def test_legacy_encodings_are_decoded(name: str, title: str) -> None:
    assert parse_feed((REAL / name).read_bytes(), url=FEED_URL).entries[0].title == title


def test_recoverable_problems_become_a_warning() -> None:
    unclosed_cdata = parse_feed(
        (REAL / "kagi-fastfeedparser" / "integration" / "osm-pl.xml").read_bytes(), url=FEED_URL
    )
    assert len(unclosed_cdata.entries) == 8
    assert unclosed_cdata.warning is not None and unclosed_cdata.warning.startswith("XML syntax error at line ")
    mislabelled = (REAL / "kagi-fastfeedparser" / "benchmark_data" / "9e0834333e854116.xml").read_bytes()
    assert parse_feed(mislabelled, url=FEED_URL).warning == "document declared as utf-16, but parsed as utf-8"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty response"),
        (b"  \n\t ", "empty response"),
        (b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>", "HTML page"),
        (b"<html><body><a href='/rss'>Our feed</a><br></body></html>", "HTML page"),
        (bytes(range(128, 256)) * 8, "not a feed"),
        (b"\xff\xfe\x00<\x00r\x00s\x00s\x00\xd8\x00\xdc", "not a feed"),
        (b"<?xml version='1.0'?><config><setting>not a feed</setting></config>", "not a feed"),
        (b"<rss version='2.0'><channel><title>cut", "XML syntax error at line 1: no element found"),
        (
            b"<?xml version='1.0'?>\n<rss version='2.0'>\n<channel><title>cut",
            "XML syntax error at line 3: no element found",
        ),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "invalid JSON"),
        (b'{"name": "just some JSON"}', "without a JSON Feed version"),
        # feedparser would open a bytes argument as a file name: a body naming a local file must not be read.
        (str(Path(__file__)).encode(), "not a feed"),
    ],
)
def test_unusable_documents_raise_feed_error(content: bytes, reason: str) -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed(content, url=FEED_URL)
    assert reason in caught.value.reason
    assert caught.value.url == FEED_URL


def test_invalid_utf8_inside_a_feed_costs_characters_not_the_feed() -> None:
    content = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Caf\xe9 \xff news</title>'
        b"<item><title>Bad \xc3\x28 bytes</title><link>https://news.example/1</link></item></channel></rss>"
    )
    feed = parse_feed(content, url=FEED_URL)
    assert len(feed.entries) == 1
    assert feed.entries[0].url == "https://news.example/1"


def test_empty_feed_is_valid_even_when_served_with_a_vague_type() -> None:
    content = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    assert parse_feed(content, url=FEED_URL) == ParsedFeed(title="Quiet", link=None, language=None, entries=[])
    served_as_text = parse_feed(content, url=FEED_URL, content_type="text/plain; charset=utf-8")
    assert (
        served_as_text.entries == [] and served_as_text.warning == "text/plain; charset=utf-8 is not an XML media type"
    )


def _rss(item: str, channel: str = "") -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}<item>{item}</item></channel></rss>'.encode()


def _entry(item: str, **kwargs: str) -> ParsedEntry:
    return parse_feed(_rss(item), url=FEED_URL, **kwargs).entries[0]


def test_guid_falls_back_to_link_then_to_a_stable_hash() -> None:
    assert _entry("<guid>tag:x,2025:1</guid><link>https://a.example/1</link>").guid == "tag:x,2025:1"
    assert _entry("<link>https://a.example/1</link><title>T</title>").guid == "https://a.example/1"
    first = _entry("<title>Only a title</title><description>and text</description>").guid
    assert first.startswith("sha256:")
    assert first == _entry("<title>Only a title</title><description>and text</description>").guid
    assert first != _entry("<title>Another title</title><description>and text</description>").guid
    assert _entry("").guid  # never empty, even for an item holding nothing


@pytest.mark.parametrize(
    ("link", "url"),
    [
        ("https://a.example/story?id=1&amp;ref=rss", "https://a.example/story?id=1&ref=rss"),
        ("/2025/08/story.html", "https://news.example/2025/08/story.html"),
        ("javascript:alert(document.cookie)", None),
        ("JaVaScRiPt&#x3a;alert(1)", None),
        ("data:text/html;base64,PHNjcmlwdD4=", None),
        ("ftp://files.example/story.txt", None),
        ("mailto:desk@news.example", None),
    ],
)
def test_entry_url_is_absolute_http_or_nothing(link: str, url: str | None) -> None:
    assert _entry(f"<title>t</title><link>{link}</link>").url == url


def test_text_is_the_longest_of_content_and_summary_as_plain_paragraphs() -> None:
    item = (
        "<title>  Spaced \n  out &amp; <b>bold</b> title </title>"
        "<description>Short teaser</description>"
        '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA['
        "<p>First <em>paragraph</em> &amp; more.</p><script>track()</script><p>Second<br>line</p>"
        "<style>p{}</style><iframe src='https://evil.example'>frame text</iframe>"
        "]]></content:encoded>"
    )
    content = _rss(item).replace(b"<rss ", b'<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" ')
    entry = parse_feed(content, url=FEED_URL).entries[0]
    assert entry.title == "Spaced out & bold title"
    assert entry.text == "First paragraph & more.\n\nSecond\nline"


def test_escaped_markup_in_a_plain_text_title_cannot_become_a_tag() -> None:
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="text">Use &lt;script&gt;alert(1)&lt;/script&gt;'
        b" and a &lt;b &lt; c</title></entry></feed>"
    )
    title = parse_feed(atom, url=FEED_URL).entries[0].title
    assert title == "Use alert(1) and a ‹b < c"


@pytest.mark.parametrize(
    ("item", "published"),
    [
        ("<pubDate>Tue, 15 Nov 2022 20:15:04 +0100</pubDate>", "2022-11-15T19:15:04+00:00"),
        (
            '<updated xmlns="http://www.w3.org/2005/Atom">2025-08-03T10:04:00+02:00</updated>',
            "2025-08-03T08:04:00+00:00",
        ),
        ("<pubDate>Mittwoch, 16. März 2022 10:00:00 +0100</pubDate>", "2022-03-16T09:00:00+00:00"),
        ("<pubDate>lun, 4 ago 2025 09:30:00 GMT</pubDate>", "2025-08-04T09:30:00+00:00"),
        ("<pubDate>sometime last week</pubDate>", None),
        ("", None),
    ],
)
def test_published_is_utc_iso8601(item: str, published: str | None) -> None:
    assert _entry(f"<title>t</title>{item}").published == published


def test_author_is_the_name() -> None:
    assert _entry("<author>desk@news.example (Maria Rossi)</author>").author == "Maria Rossi"
    assert _entry("<author>desk@giornale.it (Maria Rossi)</author>").author == "Maria Rossi"
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><author><name>Ada</name><email>a@b.it</email></author></entry></feed>'
    assert parse_feed(atom, url=FEED_URL).entries[0].author == "Ada"
    assert _entry("<title>t</title>").author is None


LONG = "Una frase abbastanza lunga per un articolo di giornale italiano. " * 12


@pytest.mark.parametrize(
    ("text", "teaser"),
    [
        ("Short summary.", True),
        (LONG, False),
        (LONG + "E poi…", True),
        (LONG + "and then...", True),
        (LONG + "The story goes on […]", True),
        (LONG + "Continue reading", True),
        (LONG + "\n\nRead more »", True),
        (LONG + "Leggi tutto", True),
        (LONG + "Weiterlesen →", True),
        (LONG + "Lire la suite", True),
        (LONG + "Leer más", True),
        ("Read more about it. " + LONG, False),  # the marker must close the text, not open it
    ],
)
def test_is_teaser(text: str, teaser: bool) -> None:
    assert is_teaser(text.strip()) is teaser


def test_json_feed_details() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "AI <i>news</i>",
        "home_page_url": "https://ai.example/",
        "language": "it",
        "authors": [{"name": "Redazione"}],
        "items": [
            {
                "id": 42,
                "external_url": "https://elsewhere.example/a",
                "title": "Un titolo",
                "content_html": "<p>Uno</p><script>alert(1)</script><p>Due &amp; tre</p>",
                "summary": "Uno",
                "date_modified": "2025-08-03T10:04:00+02:00",
                "authors": [{"name": "Ada"}, {"name": "Bea"}, "not an object"],
            },
            {"url": "javascript:alert(1)", "content_text": "Solo testo\n\nsu due paragrafi", "date_published": "bad"},
            "not an item",
        ],
    }
    feed = parse_feed(
        json.dumps(document).encode(), url="https://ai.example/feed.json", content_type="application/json"
    )
    assert (feed.title, feed.link, feed.language) == ("AI news", "https://ai.example/", "it")
    first, second = feed.entries
    assert (first.guid, first.url, first.title) == ("42", "https://elsewhere.example/a", "Un titolo")
    assert first.text == "Uno\n\nDue & tre"
    assert first.published == "2025-08-03T08:04:00+00:00"
    assert first.author == "Ada, Bea"
    assert second.url is None and second.guid.startswith("sha256:")
    assert second.text == "Solo testo\n\nsu due paragrafi"
    assert second.published is None and second.author == "Redazione"


def test_result_crosses_process_boundaries() -> None:
    """parse_feed runs in a ProcessPoolExecutor: the function and what it returns must pickle."""
    feed = parse_feed((REAL / "rss-parser" / "heise.atom").read_bytes(), url=FEED_URL)
    assert pickle.loads(pickle.dumps(feed)) == feed
    assert pickle.loads(pickle.dumps(parse_feed)) is parse_feed


def test_feed_error_crosses_process_boundaries() -> None:
    """An exception that cannot be unpickled in the parent breaks the whole ProcessPoolExecutor, not just one feed."""
    with pytest.raises(FeedError) as caught:
        parse_feed(b"<html><body>Not a feed</body></html>", url=FEED_URL)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (type(copy), copy.url, copy.reason, str(copy)) == (
        FeedError,
        FEED_URL,
        caught.value.reason,
        str(caught.value),
    )
