"""OPML: import of nested and odd files, round trips through export and feeds.yaml, and refusal of unsafe XML."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from bot.errors import OpmlError
from bot.feedlist.edit import add_feeds
from bot.feedlist.load import load_feed_list
from bot.feedlist.opml import OpmlFeed, export_opml, parse_opml

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE opml>
<opml version="2.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="Labs">
      <outline type="rss" text="OpenAI News" xmlUrl="https://openai.com/news/rss.xml" language="en-US"/>
      <outline text="Deeper">
        <outline text="Hugging Face" title="Hugging Face Blog" xmlurl="https://huggingface.co/blog/feed.xml"/>
      </outline>
    </outline>
    <outline text="Not a feed" htmlUrl="https://example.com/"/>
    <outline text="  AI4Business &amp; more  " XMLURL=" https://www.ai4business.it/feed/ " language="it"/>
    <outline text="Paused" isComment="true">
      <outline text="arXiv" xmlUrl="https://rss.arxiv.org/rss/cs.CL" language="klingon"/>
    </outline>
    <outline text="https://no-title.example/feed" xmlUrl="https://no-title.example/feed"/>
  </body>
</opml>
"""


def generated_opml(count: int) -> bytes:
    """`count` feeds in nested categories, with titles that need escaping, some languages and some paused."""
    langs = [None, "en", "it", "de", "fr", "es"]
    outlines = []
    for i in range(count):
        title = None if i % 7 == 0 else f'Feed {i} <AI> & "news" l\'{i} — Ümlaut 日本'
        attrs = f'type="rss" xmlUrl={quoteattr(f"https://feeds{i % 10}.example/{i}?a=1&b=2")}'
        attrs += f" text={quoteattr(title)} title={quoteattr(title)}" if title else ' text=""'
        if langs[i % 6]:
            attrs += f' language="{langs[i % 6]}"'
        if i % 11 == 0:
            attrs += ' isComment="true"'
        outlines.append(f"<outline {attrs}/>")
    categories = "".join(
        f'<outline text="Category {c}"><outline text="Sub">{"".join(outlines[c::4])}</outline></outline>'
        for c in range(4)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head/><body>{categories}</body></opml>'.encode()


def test_parse_flattens_categories_and_reads_attributes_loosely() -> None:
    assert parse_opml(NESTED) == [
        OpmlFeed("https://openai.com/news/rss.xml", "OpenAI News", "en"),
        OpmlFeed("https://huggingface.co/blog/feed.xml", "Hugging Face Blog"),
        OpmlFeed("https://www.ai4business.it/feed/", "AI4Business & more", "it"),
        OpmlFeed("https://rss.arxiv.org/rss/cs.CL", "arXiv", None, enabled=False),
        OpmlFeed("https://no-title.example/feed"),
    ]


def test_export_parse_round_trip_of_100_feeds() -> None:
    feeds = parse_opml(generated_opml(100))
    assert len(feeds) == 100
    assert len({feed.url for feed in feeds}) == 100

    assert parse_opml(export_opml(feeds)) == feeds


def test_round_trip_through_feeds_yaml(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("# my feeds\nsettings:\n  languages: [en, it]\nfeeds: []\n")
    feeds = parse_opml(generated_opml(100))

    results = add_feeds(path, feeds)

    assert all(result.error is None for result in results)
    assert path.read_text().startswith("# my feeds\n")
    assert parse_opml(export_opml(load_feed_list(path).feeds)) == feeds


def test_export_is_opml_2_with_escaped_attributes() -> None:
    feeds = [
        OpmlFeed("https://a.example/feed?x=1&y=2", 'Tom & Jerry <"AI"> \x07bell'),
        OpmlFeed("https://b.example/feed", lang="de", enabled=False),
    ]

    data = export_opml(feeds, title="Mine & yours")

    root = ET.fromstring(data)  # plain ElementTree: the output is well-formed for any reader
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Mine & yours"
    first, second = root.iter("outline")
    assert first.attrib == {
        "type": "rss",
        "text": 'Tom & Jerry <"AI"> bell',
        "title": 'Tom & Jerry <"AI"> bell',
        "xmlUrl": "https://a.example/feed?x=1&y=2",
    }
    assert second.attrib == {
        "type": "rss",
        "text": "https://b.example/feed",
        "xmlUrl": "https://b.example/feed",
        "language": "de",
        "isComment": "true",
    }


def test_external_entity_is_refused_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY leak SYSTEM "file://{secret}">]>
<opml version="2.0"><body><outline text="&leak;" xmlUrl="https://a.example/&leak;"/></body></opml>""".encode()

    with pytest.raises(OpmlError, match="declares XML entities") as caught:
        parse_opml(data)

    assert "TOP-SECRET" not in str(caught.value)


def test_external_parameter_entity_is_refused() -> None:
    data = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]><opml><body/></opml>"""

    with pytest.raises(OpmlError, match="declares XML entities"):
        parse_opml(data)


def test_billion_laughs_is_refused_quickly() -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    data = f'<?xml version="1.0"?><!DOCTYPE opml [{entities}]><opml><body><outline text="&lol9;"/></body></opml>'

    started = time.perf_counter()
    with pytest.raises(OpmlError, match="declares XML entities"):
        parse_opml(data.encode())
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<opml><body><outline text='x'></body></opml>", r"not well-formed XML: mismatched tag: line 1"),
        (b"", "not well-formed XML"),
        (b"this is not xml", "not well-formed XML"),
        (b"<?xml version='1.0'?><rss version='2.0'><channel/></rss>", r"not an OPML file: the document is <rss>"),
        (b"<opml version='2.0'><head/></opml>", r"has no <body>"),
    ],
    ids=["mismatched-tag", "empty", "text", "rss", "no-body"],
)
def test_unreadable_or_foreign_documents_are_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message):
        parse_opml(data)


def test_deep_nesting_does_not_hit_the_recursion_limit() -> None:
    depth = 5000
    data = b"<opml><body>" + b"<outline text='c'>" * depth + b"<outline xmlUrl='https://deep.example/'/>"
    data += b"</outline>" * depth + b"</body></opml>"

    assert parse_opml(data) == [OpmlFeed("https://deep.example/")]
