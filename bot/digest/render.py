"""Digests and other long replies as Telegram HTML messages: every piece of feed text escaped, only http(s) links
in `href`, split at block (story) boundaries into messages of at most 4,096 characters of text after HTML parsing.

Pure: data in, strings out. Text is kept as spans of plain text with their formatting until the last step, so
lengths are counted on exactly what Telegram counts (UTF-16 code units of the visible text), and a cut can only fall
between spans or inside plain text, never inside a tag, an entity or a URL.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from bot.ask.answer import Answer
from bot.digest.compose import Digest, DigestItem
from bot.i18n import Texts

LIMIT = 4096  # Telegram's limit for one message's text after entity parsing
MAX_URL = 2048
ELLIPSIS = "…"
_BLOCK_GAP = "\n\n"
_UNSAFE_IN_URL = frozenset("\"'<>\\`{}|^")
NAMED_SOURCES = 3  # sources a story's line names (its own, then two after "also:"); the others are counted


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    italic: bool = False
    href: str | None = None  # already checked by safe_href

    def html(self) -> str:
        body = html.escape(self.text, quote=False)
        if self.href:
            body = f'<a href="{html.escape(self.href, quote=True)}">{body}</a>'
        if self.italic:
            body = f"<i>{body}</i>"
        if self.bold:
            body = f"<b>{body}</b>"
        return body


Block = tuple[Span, ...]


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def visible(block: Sequence[Span]) -> int:
    return sum(units(span.text) for span in block)


def to_html(block: Sequence[Span]) -> str:
    return "".join(span.html() for span in block)


def safe_href(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) link with a host and nothing that could break out of an attribute."""
    if not url or len(url) > MAX_URL:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch in _UNSAFE_IN_URL for ch in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return url


def cut(text: str, budget: int) -> str:
    """`text` shortened to at most `budget` UTF-16 units, ending in "…", at a word boundary when one is near."""
    if units(text) <= budget:
        return text
    room = budget - units(ELLIPSIS)
    kept, used = [], 0
    for char in text:
        size = units(char)
        if used + size > room:
            break
        kept.append(char)
        used += size
    head = "".join(kept)
    space = head.rfind(" ")
    if space > len(head) * 0.8:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def fit(block: Block, limit: int = LIMIT) -> Block:
    """A block too long for one message with its longest spans shortened until it fits; links and bold stay."""
    spans = list(block)
    while (excess := visible(spans) - limit) > 0:
        index = max(range(len(spans)), key=lambda i: units(spans[i].text))
        longest = units(spans[index].text)
        if longest <= units(ELLIPSIS):
            break  # nothing left to shorten (a block of thousands of one-character spans is not made here)
        spans[index] = replace(spans[index], text=cut(spans[index].text, max(1, longest - excess)))
    return tuple(spans)


def pack(blocks: Sequence[Block], limit: int = LIMIT) -> list[str]:
    """Blocks joined by blank lines into as few messages as fit, never splitting a block."""
    messages: list[list[Block]] = []
    size = 0
    for block in (fit(b, limit) for b in blocks if b):
        length = visible(block)
        if messages and size + units(_BLOCK_GAP) + length <= limit:
            messages[-1].append(block)
            size += units(_BLOCK_GAP) + length
        else:
            messages.append([block])
            size = length
    return [_BLOCK_GAP.join(to_html(block) for block in message) for message in messages]


def story_block(item: DigestItem, t: Texts) -> Block:
    link = safe_href(item.link)
    spans = [Span(item.title, bold=True, href=link), Span("\n" + item.summary)]
    meta: list[Span] = [Span(item.sources[0], italic=True)] if item.sources else []
    if len(item.sources) > 1:
        # "also: {names}" with each other source linked to its own story when it is a cluster's member; past
        # NAMED_SOURCES in all, the rest are only counted ("and 5 more"), so a widely carried story stays short
        links = item.source_links or (None,) * len(item.sources)
        head, _, tail = t("also: {names}").partition("{names}")
        meta.append(Span(" · " + head, italic=True))
        named = zip(item.sources[1:NAMED_SOURCES], links[1:NAMED_SOURCES], strict=True)
        for index, (name, href) in enumerate(named):
            meta.append(Span((", " if index else "") + name, italic=True, href=safe_href(href)))
        if (unnamed := len(item.sources) - NAMED_SOURCES) > 0:
            meta.append(Span(" " + t.n("and {count} more", "and {count} more", unnamed), italic=True))
        if tail:
            meta.append(Span(tail, italic=True))
    markers = []
    if item.languages > 1:
        markers.append(t.n("{count} language", "{count} languages", item.languages))
    if item.original_lang:
        markers.append(
            t("not translated")
            if item.original_lang == "und"
            else t("not translated, original in {lang}", lang=item.original_lang.upper())
        )
    for marker in markers:
        meta.append(Span((" · " if meta else "") + marker, italic=True))
    if meta:
        meta[0] = replace(meta[0], text="\n" + meta[0].text)
    return tuple(spans + meta)


def render_digest(digest: Digest, t: Texts) -> list[str]:
    """The messages of one digest: a heading, one block per story, and "…and N more" when the cap left some out."""
    count = len(digest.items)
    heading: Block = (
        Span(t.n("Your news digest: {count} story", "Your news digest: {count} stories", count), bold=True),
    )
    blocks = [heading, *(story_block(item, t) for item in digest.items)]
    if digest.more:
        blocks.append(
            (
                Span(
                    t.n(
                        "…and {count} more story. /topics narrows what you get.",
                        "…and {count} more stories. /topics narrows what you get.",
                        digest.more,
                    ),
                    italic=True,
                ),
            )
        )
    return pack(blocks)


def plain(text: str) -> Block:
    """A block of plain text, for replies that are not digests."""
    return (Span(text),)


def render_sources(sources: Sequence[tuple[str, str, str | None]], t: Texts) -> list[Block]:
    """/sources: (name, link, language) per feed, as a heading and a linked list, 40 lines to a block."""
    if not sources:
        return [plain(t("No feeds are configured yet."))]
    count = len(sources)
    heading = Span(t.n("Stories come from {count} feed:", "Stories come from {count} feeds:", count), bold=True)
    blocks: list[Block] = [(heading,)]
    for start in range(0, count, 40):
        spans: list[Span] = []
        for index, (name, url, lang) in enumerate(sources[start : start + 40]):
            spans += [Span(("\n" if index else "") + "• "), Span(name, href=safe_href(url))]
            if lang:
                spans.append(Span(f" ({lang})"))
        blocks.append(tuple(spans))
    return blocks


def render_answer(answer: Answer, t: Texts) -> list[Block]:
    """/ask: the quoted (or written) sentences with their [n], then the numbered sources, linked; when nothing answers,
    the stories that come close, by title and link, unnumbered."""
    if not answer.found:
        if not answer.closest:
            return [plain(t("I found nothing about that in the stored stories."))]
        near: list[Span] = [Span(t("I found nothing that answers this. Closest stories:"), bold=True)]
        for story in answer.closest:  # titles and links only: no number, nothing here is cited as an answer
            near += [Span("\n• "), Span(story.title, href=safe_href(story.link))]
        return [tuple(near)]
    body = " ".join(f"{text} [{number}]" for text, number in answer.sentences)
    blocks: list[Block] = [(Span(body),)]
    if answer.generated:
        blocks.append((Span(t("Written by the answer model from these sources only."), italic=True),))
    elif not answer.translated:
        blocks.append((Span(t("Some sentences are quoted in their original language."), italic=True),))
    sources: list[Span] = [Span(t("Sources:"), bold=True)]
    for citation in answer.citations:
        sources += [Span(f"\n[{citation.number}] "), Span(citation.title, href=safe_href(citation.link))]
    blocks.append(tuple(sources))
    return blocks
