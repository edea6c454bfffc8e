"""Turn the bytes of an RSS/Atom/RDF/JSON feed into a ParsedFeed of plain-text entries; a pure function, no I/O."""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
import time
import xml.sax
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
from feedparser.exceptions import ThingsNobodyCaresAboutButMe

from bot.errors import FeedError
from bot.feeds.sanitize import html_to_text, one_line, plain_text, safe_url
from bot.feeds.types import ParsedEntry, ParsedFeed

TEASER_CHARS = 600
_NOT_A_FEED = "not a feed: no RSS, Atom, RDF or JSON Feed document found"
_JSON_TYPES = frozenset({"application/feed+json", "application/json"})
# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF8, codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)
# A snippet ends in an ellipsis or a "read more" link, in the languages our feeds come in; only the last paragraphs are
# looked at, and the marker must close a paragraph.
_CUT_OFF = re.compile(
    r"(?:…|\.\.\.|\[\s*(?:…|\.\.\.)\s*\]|\b(?:read more|read the full (?:story|article)|continue reading|keep reading"
    r"|leggi tutto|leggi di più|leggi l'articolo|continua a leggere|weiterlesen|mehr lesen|lire la suite|lire plus"
    r"|en savoir plus|leer más|seguir leyendo|sigue leyendo|leia mais|continuar lendo|continue lendo|ler mais"
    r"|lees meer|verder lezen))[^\w\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
# Month names that feeds localise although RFC 822 wants English (Il Messaggero: "mer, 16 nov 2022 00:38:15 +0100");
# feedparser gives up on those, so they are mapped to English before the stdlib date parser sees them.
_MONTHS = {
    name: english
    for english, names in {
        "jan": "jan january gennaio gen januar jänner jän janvier janv enero ene janeiro",
        "feb": "feb february febbraio februar février févr fevrier febrero fevereiro fev",
        "mar": "mar march marzo märz mär mrz mars março marco",
        "apr": "apr april aprile avril avr abril abr",
        "may": "may maggio mag mai mayo maio",
        "jun": "jun june giugno giu juni juin junio junho",
        "jul": "jul july luglio lug juli juillet juil julio julho",
        "aug": "aug august agosto ago août aout",
        "sep": "sep sept september settembre set sett septembre septiembre setiembre setembro",
        "oct": "oct october ottobre ott oktober okt octobre octubre outubro out",
        "nov": "nov november novembre noviembre novembro",
        "dec": "dec december dicembre dic dezember dez décembre déc decembre diciembre dezembro",
    }.items()
    for name in names.split()
}
_ZONES = frozenset({"ut", "utc", "gmt", "z", "est", "edt", "cst", "cdt", "mst", "mdt", "pst", "pdt"})
_RSS_AUTHOR = re.compile(r"\s*[^\s@()]+@[^\s@()]+\s*\((.+)\)\s*$")
_WORD = re.compile(r"[^\W\d_]+\.?")


def parse_feed(content: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse one fetched feed document; raise FeedError when it is not a usable feed at all."""
    body = content.removeprefix(codecs.BOM_UTF8).lstrip()
    if not body:
        raise FeedError(url, "empty response: no feed document")
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    # An XML feed never starts with "{", so a leading brace is enough to try JSON even when the server says text/plain.
    if body[:1] == b"{" or (mime in _JSON_TYPES and body[:1] != b"<"):
        return _parse_json_feed(body, url)
    return _parse_xml_feed(content, url, content_type)


def _parse_xml_feed(content: bytes, url: str, content_type: str | None) -> ParsedFeed:
    # Without a declared type feedparser would assume ISO-8859-1 and flag the feed; application/xml makes it trust the
    # XML declaration and default to UTF-8, as for a local file. No Content-Location: given a base URL feedparser
    # re-resolves it at every element (a fifth of its time); entry links are resolved against `url` in _make_entry.
    headers = {"content-type": content_type or "application/xml"}
    try:
        # BytesIO, not bytes: feedparser treats a bytes argument as a file name first (it would read a local file
        # whose path a server sent us). Its sanitizer is skipped because html_to_text keeps text nodes only, which is
        # both stricter and faster; relative links inside content are dropped with the markup, so no resolving either.
        result = feedparser.parse(
            io.BytesIO(content), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as e:  # feedparser runs on hostile input; one bad feed must not take down the worker
        raise FeedError(url, f"feed parser crashed: {type(e).__name__}: {e}"[:300]) from e
    problem = _problem(result.get("bozo_exception"), content) if result.get("bozo") else None
    if not result.entries:
        if not result.get("version"):  # no RSS/Atom/RDF root was found, whatever else went wrong
            raise FeedError(url, "not a feed: looks like an HTML page" if _looks_like_html(content) else _NOT_A_FEED)
        # An encoding or media-type complaint is no reason to refuse a feed that simply has no items right now.
        if problem and not isinstance(result.get("bozo_exception"), ThingsNobodyCaresAboutButMe):
            raise FeedError(url, problem)
    feed = result.feed
    return ParsedFeed(
        title=_one_line_or_none(_detail_text(feed.get("title_detail"))),
        link=safe_url(feed.get("link"), url),
        language=_str_or_none(feed.get("language")),
        entries=[_xml_entry(entry, url) for entry in result.entries],
        warning=problem,
    )


def _xml_entry(entry: Mapping[str, Any], base: str) -> ParsedEntry:
    texts = [_detail_text(detail) for detail in entry.get("content") or ()]
    summary = entry.get("summary_detail")
    # feedparser often fills content and summary from the same element; convert that markup once.
    if summary and not any(summary.get("value") == detail.get("value") for detail in entry.get("content") or ()):
        texts.append(_detail_text(summary))
    author = entry.get("author")
    # RSS writes "email (Name)"; feedparser's e-mail pattern only knows 2-4 letter TLDs and cuts names on others.
    rss_author = _RSS_AUTHOR.match(author) if isinstance(author, str) else None
    author = rss_author.group(1) if rss_author else entry.get("author_detail", {}).get("name") or author
    return _make_entry(
        guid=_str_or_none(entry.get("id")),
        link=entry.get("link"),
        base=base,
        title=_detail_text(entry.get("title_detail")),
        text=max(texts, key=len, default=""),
        published=_feedparser_date(entry),
        author=author,
    )


def _detail_text(detail: Mapping[str, Any] | None) -> str:
    """Plain text of one feedparser text construct, reading markup only where its declared type says it is markup."""
    if not detail:
        return ""
    value = detail.get("value") or ""
    kind = (detail.get("type") or "text/plain").lower()
    if "html" in kind or kind.endswith("xml"):
        return html_to_text(value)
    if kind.startswith("text/"):
        return plain_text(value)
    return ""  # base64 images and other binary payloads are not text


def _feedparser_date(entry: Mapping[str, Any]) -> str | None:
    parsed: time.struct_time | None = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed is not None:
        try:
            return datetime(*parsed[:6], tzinfo=UTC).isoformat()
        except ValueError:  # feedparser accepts years datetime cannot hold
            return None
    raw = entry.get("published") or entry.get("updated")
    return _localized_date(raw) if isinstance(raw, str) else None


def _localized_date(value: str) -> str | None:
    """An RFC 822 date with non-English day/month names, as UTC ISO-8601."""

    def english(match: re.Match[str]) -> str:
        word = match.group().rstrip(".").lower()
        if word in _MONTHS:
            return _MONTHS[word]
        if word in _ZONES:
            return word.upper()
        return ""  # day names and filler words ("16 de noviembre de 2022")

    translated = _WORD.sub(english, value).replace(",", " ").replace(". ", " ")  # "16. März"
    try:
        moment = parsedate_to_datetime(" ".join(translated.split()))
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _problem(exc: BaseException | None, content: bytes) -> str:
    """A short sentence for an admin saying what is wrong with the document."""
    if isinstance(exc, xml.sax.SAXParseException):
        # feedparser puts an XML declaration line in front of documents that lack one; count lines as the admin sees them.
        added = 0 if _without_bom(content)[:12].replace(b"\x00", b"").startswith(b"<?xml") else 1
        line = max(1, (exc.getLineNumber() or 1) - added)
        return f"XML syntax error at line {line}: {exc.getMessage()}"[:300]
    if exc is None:
        return "malformed feed"
    return (str(exc) or type(exc).__name__)[:300]


def _without_bom(content: bytes) -> bytes:
    for bom in _BOMS:
        if content.startswith(bom):
            return content[len(bom) :]
    return content


def _looks_like_html(content: bytes) -> bool:
    head = content[:2048].lower()
    return b"<html" in head or b"<!doctype html" in head


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        try:
            document = json.loads(body)
        except UnicodeDecodeError:
            # A stray invalid byte should cost one character, not the whole feed.
            document = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as e:
        raise FeedError(url, f"invalid JSON: {e}"[:300]) from e
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or "jsonfeed.org/version/" not in version:
        raise FeedError(url, "not a feed: a JSON document without a JSON Feed version")
    items = document.get("items")
    feed_authors = _json_authors(document)
    return ParsedFeed(
        title=_one_line_or_none(plain_text(_str(document.get("title")))),
        link=safe_url(_str(document.get("home_page_url")), url),
        language=_str_or_none(document.get("language")),
        entries=[
            _json_entry(item, url, feed_authors)
            for item in (items if isinstance(items, list) else ())
            if isinstance(item, dict)
        ],
    )


def _json_entry(item: Mapping[str, Any], base: str, feed_authors: str | None) -> ParsedEntry:
    texts = [
        html_to_text(_str(item.get("content_html"))),
        plain_text(_str(item.get("content_text"))),
        plain_text(_str(item.get("summary"))),
    ]
    return _make_entry(
        guid=_json_id(item.get("id")),
        link=_str(item.get("url")) or _str(item.get("external_url")),
        base=base,
        title=plain_text(_str(item.get("title"))),
        text=max(texts, key=len),
        published=_iso_date(_str(item.get("date_published")) or _str(item.get("date_modified"))),
        author=_json_authors(item) or feed_authors,
    )


def _json_id(value: Any) -> str | None:
    # JSON Feed 1.0 allowed numeric ids; bool is an int to Python but never an id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _str_or_none(value)


def _json_authors(obj: Mapping[str, Any]) -> str | None:
    """Names from JSON Feed 1.1 `authors` or 1.0 `author`."""
    authors = obj.get("authors")
    people: Iterable[Any] = authors if isinstance(authors, list) else [obj.get("author")]
    names = [_str(person.get("name")).strip() for person in people if isinstance(person, dict)]
    return ", ".join(name for name in names if name) or None


def _iso_date(value: str) -> str | None:
    """An RFC 3339 date (JSON Feed), as UTC ISO-8601."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _make_entry(
    *,
    guid: str | None,
    link: Any,
    base: str,
    title: str,
    text: str,
    published: str | None,
    author: Any,
) -> ParsedEntry:
    title = one_line(title)
    url = safe_url(link, base) if isinstance(link, str) else None
    return ParsedEntry(
        # Without an id or link, title and text are all that identify the entry across polls.
        guid=guid or url or "sha256:" + hashlib.sha256(f"{title}\n{text}".encode("utf-8", "replace")).hexdigest(),
        url=url,
        title=title,
        text=text,
        published=published,
        author=_one_line_or_none(plain_text(author)) if isinstance(author, str) else None,
        is_teaser=is_teaser(text),
    )


def is_teaser(text: str) -> bool:
    """Whether feed text is only a snippet of the article: short, or ending in an ellipsis or a "read more"."""
    return len(text) < TEASER_CHARS or _CUT_OFF.search(text, max(0, len(text) - 400)) is not None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _str_or_none(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _one_line_or_none(text: str) -> str | None:
    return one_line(text) or None
