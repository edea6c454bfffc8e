"""Turn untrusted feed/page markup into inert plain text and untrusted links into http(s) URLs; never returns markup."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree

# Elements whose text is never prose a reader should see (code, styling, embeds, document metadata, form widgets).
_DROP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "template",
        "head",
        "title",
        "meta",
        "link",
        "base",
        "svg",
        "math",
        "canvas",
        "audio",
        "video",
        "select",
        "option",
        "textarea",
        "button",
        "input",
        "xml",
    }
)
# Elements that start a new paragraph in the plain text.
_BLOCK = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "aside",
        "header",
        "footer",
        "nav",
        "blockquote",
        "pre",
        "figure",
        "figcaption",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "tr",
        "hr",
        "address",
        "details",
        "summary",
        "fieldset",
        "form",
        "center",
        "body",
    }
)
# Stand-ins while assembling text: the input never contains them because _CONTROL_CHARS are removed first.
_PARAGRAPH = "\x01"
_LINE = "\x02"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")
_BREAKS = re.compile(r" ?[\x01\x02][\x01\x02 ]*")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
# Markup that shows up as literal text once entities are decoded (`&lt;script&gt;` in a feed becomes `<script>`):
# whole tags and comments are removed, and any other `<` that could open a tag (HTML wants a letter, `/`, `!` or `?`
# right after it) becomes a look-alike `‹`. Stored text can then never turn back into an element, an event-handler
# attribute or a javascript: link, even where someone forgets to escape it. The cost: prose quoting a tag
# ("the <video> element") loses that word.
_TAG_LIKE = re.compile(r"<!--.*?-->|</?[A-Za-z!?][^<>]*>", re.DOTALL)
_TAG_OPENER = re.compile(r"<(?=[A-Za-z!?/])")
_URL_JUNK = re.compile(r"[\x00-\x1f\x7f]")
_ABSOLUTE_HTTP = re.compile(r"https?://", re.IGNORECASE)
_PARSER = etree.HTMLParser(
    encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, default_doctype=False, recover=True
)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment or page: dropped scripts/styles/embeds, paragraphs kept as blank lines."""
    html = _CONTROL_CHARS.sub("", html)
    if "<" not in html and "&" not in html:
        return _finish(_BLANK_LINE.sub(_PARAGRAPH, html))
    try:
        # libxml2 builds no tree for blank input; a leading element keeps every input parseable.
        root = etree.fromstring(("<div>" + html).encode("utf-8", "replace"), _PARSER)
    except etree.XMLSyntaxError:
        return ""
    if root is None:
        return ""
    pieces: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag
        if not isinstance(tag, str):  # a comment or processing instruction the parser kept
            if event == "end" and element.tail:
                pieces.append(element.tail)
            continue
        if event == "start":
            if tag in _DROP:
                walker.skip_subtree()
                continue
            if tag in _BLOCK:
                pieces.append(_PARAGRAPH)
            elif tag == "br":
                pieces.append(_LINE)
            elif tag in ("td", "th"):
                pieces.append(" ")
            if element.text:
                pieces.append(element.text)
        else:
            if tag in _BLOCK:
                pieces.append(_PARAGRAPH)
            if element.tail:
                pieces.append(element.tail)
    return _finish("".join(pieces))


def plain_text(text: str) -> str:
    """Tidy text that is already plain (a text/plain title, a JSON Feed content_text): whitespace and markup remnants."""
    text = _CONTROL_CHARS.sub("", text)
    return _finish(_BLANK_LINE.sub(_PARAGRAPH, text).replace("\n", _LINE))


def one_line(text: str) -> str:
    """Collapse text to a single line, as titles and author names are shown."""
    return " ".join(text.split())


def safe_url(url: str | None, base: str | None = None) -> str | None:
    """The absolute http(s) form of `url` (resolved against `base`), or None for any other scheme or a malformed URL."""
    if not url:
        return None
    # Browsers ignore tabs/newlines inside URLs, which is how `java\tscript:` slips past naive checks.
    url = _URL_JUNK.sub("", url).strip().replace(" ", "%20")
    try:
        if base and not _ABSOLUTE_HTTP.match(url):  # urljoin is the slow part; most feed links are absolute already
            url = urljoin(base, url)
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # reading .port is what rejects a port out of range
    except ValueError:  # e.g. an unbalanced IPv6 bracket or a bad port
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return url if url.startswith(parts.scheme) else urlunsplit(parts)


def _finish(raw: str) -> str:
    """Defuse markup remnants, collapse whitespace, then turn the paragraph/line stand-ins into blank lines/newlines."""
    if "<" in raw:
        raw = _TAG_OPENER.sub("‹", _TAG_LIKE.sub("", raw))
    return _BREAKS.sub(_break, _WHITESPACE.sub(" ", raw)).strip()


def _break(match: re.Match[str]) -> str:
    run = match.group()
    # Two <br> in a row is how many feeds separate paragraphs.
    return "\n\n" if _PARAGRAPH in run or run.count(_LINE) > 1 else "\n"
