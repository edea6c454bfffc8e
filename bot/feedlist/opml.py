"""OPML import and export of the feed list: parses untrusted OPML with XML entities refused; never fetches a URL."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from bot.errors import OpmlError
from bot.feedlist.schema import ISO_639_1, FeedLike

# Characters XML 1.0 cannot carry even escaped; a title holding one would make the whole export unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class OpmlFeed:
    """One feed outline. `enabled` is False for an outline marked isComment="true" (or inside one)."""

    url: str
    title: str | None = None
    lang: str | None = None
    enabled: bool = True


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document in document order, nested outlines (categories) flattened.

    A feed is any <outline> with an xmlUrl attribute (name matched ignoring case). Raises OpmlError for XML that is not
    well-formed, a document that is not OPML, and any entity declaration: OPML never needs one, and they are how
    external-entity (file reading) and billion-laughs (memory) attacks work. URLs are returned as found, unchecked.
    """
    try:
        # forbid_entities refuses the declaration itself, so nothing is expanded or opened; a bare DOCTYPE is harmless.
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise OpmlError(
            f"refused this OPML file: it declares XML entities or external references ({e}). "
            "OPML never needs them; export the file again from your feed reader."
        ) from e
    except ET.ParseError as e:
        raise OpmlError(f"this OPML file is not well-formed XML: {e}") from e
    if _local_name(root.tag) != "opml":
        raise OpmlError(f"not an OPML file: the document is <{_local_name(root.tag)}>, expected <opml>")
    body = next((child for child in root if _local_name(child.tag) == "body"), None)
    if body is None:
        raise OpmlError("not an OPML file: <opml> has no <body>")

    feeds = []
    # Depth-first with an explicit stack: a deeply nested file must not exhaust Python's recursion limit.
    stack = [(outline, True) for outline in reversed(body)]
    while stack:
        element, enabled = stack.pop()
        if _local_name(element.tag) != "outline":
            continue
        attrs = {name.lower(): value for name, value in element.attrib.items()}
        # OPML 2.0: a commented outline comments out everything below it too.
        enabled = enabled and attrs.get("iscomment", "").strip().lower() != "true"
        url = attrs.get("xmlurl", "").strip()
        if url:
            feeds.append(OpmlFeed(url, _title(attrs, url), _lang(attrs.get("language")), enabled))
        stack.extend((child, enabled) for child in reversed(element))
    return feeds


def export_opml(feeds: Iterable[FeedLike], *, title: str = "newsbot feeds") -> bytes:
    """An OPML 2.0 document (UTF-8) listing `feeds`; paused feeds are written as commented outlines."""
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = _xml_text(title)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        name = _xml_text(feed.title or "")
        # `text` is the attribute OPML requires; readers that show no title fall back to it, so it gets the URL.
        attrs = {"type": "rss", "text": name or _xml_text(feed.url), "xmlUrl": _xml_text(feed.url)}
        if name:
            attrs["title"] = name
        if feed.lang:
            attrs["language"] = feed.lang
        if not feed.enabled:
            attrs["isComment"] = "true"
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    # ElementTree escapes &, <, > and quotes in text and attributes.
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _title(attrs: dict[str, str], url: str) -> str | None:
    for key in ("title", "text"):
        title = " ".join(attrs.get(key, "").split())
        if title and title != url:  # exporters with no title put the URL in the required `text`
            return title
    return None


def _lang(value: str | None) -> str | None:
    # OPML's `language` is an RFC 5646 tag ("en-US"); the feed list keeps the ISO 639-1 part, or nothing.
    primary = re.split(r"[-_]", (value or "").strip(), maxsplit=1)[0].lower()
    return primary if primary in ISO_639_1 else None


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)
