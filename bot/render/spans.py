"""Telegram HTML from spans of text: every piece of text escaped, only http(s) links in `href`, and the one place a
long reply is split: at block boundaries into messages of at most 4,096 characters of text after HTML parsing.

Pure: data in, strings out. Text is kept as spans of plain text with their formatting until the last step, so
lengths are counted on exactly what Telegram counts (UTF-16 code units of the visible text), and a cut can only fall
between spans or inside plain text, never inside a tag, an entity or a URL.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

LIMIT = 4096  # Telegram's limit for one message's text after entity parsing
CAPTION_LIMIT = 1024  # characters Telegram takes under a photo
MAX_URL = 2048
ELLIPSIS = "…"
_BLOCK_GAP = "\n\n"
_UNSAFE_IN_URL = frozenset("\"'<>\\`{}|^")


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


def plain(text: str) -> Block:
    """A block of plain text, for replies that are not digests."""
    return (Span(text),)


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
    return [text for text, _ in pack_indexed(blocks, limit)]


def pack_indexed(blocks: Sequence[Block], limit: int = LIMIT) -> list[tuple[str, list[int]]]:
    """`pack`, with the indices (in `blocks`) of the blocks each message holds: what a message's keyboard is for."""
    messages: list[list[tuple[int, Block]]] = []
    size = 0
    for index, block in enumerate(blocks):
        if not block:
            continue
        block = fit(block, limit)
        length = visible(block)
        if messages and size + units(_BLOCK_GAP) + length <= limit:
            messages[-1].append((index, block))
            size += units(_BLOCK_GAP) + length
        else:
            messages.append([(index, block)])
            size = length
    return [
        (_BLOCK_GAP.join(to_html(block) for _, block in message), [index for index, _ in message])
        for message in messages
    ]


def caption_html(text: str) -> str:
    """A photo's caption: `text` escaped, cut to CAPTION_LIMIT characters."""
    return html.escape(text, quote=False)[:CAPTION_LIMIT]
