"""Telegram's HTML parse mode, as the Bot API documents it: which tags and attributes exist, which entities, and the
length it counts. Used by the fake Bot API server to refuse what Telegram would refuse, and by renderer tests."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

# https://core.telegram.org/bots/api#html-style
ALLOWED = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "span": {"class"},
    "tg-spoiler": set(),
    "a": {"href"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
}
TELEGRAM_LIMIT = 4096  # characters (UTF-16 units) of a message's text after HTML parsing, as Telegram counts them
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);?")


class TelegramHTMLError(ValueError):
    """What Telegram answers as "Bad Request: can't parse entities: ..."."""


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            raise TelegramHTMLError(f"unsupported start tag {tag!r}")
        for name, value in attrs:
            if name not in ALLOWED[tag]:
                raise TelegramHTMLError(f"unsupported attribute {name!r} of tag {tag!r}")
            if tag == "a" and name == "href":
                self.links.append(value or "")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHTMLError(f"unexpected end tag {tag!r}")
        self.stack.pop()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHTMLError(f"unsupported self-closing tag {tag!r}")

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            raise TelegramHTMLError("unescaped < or >")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _NAMED_ENTITIES:
            raise TelegramHTMLError(f"unsupported entity &{name};")
        self.text.append(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        self.text.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))

    def handle_comment(self, data: str) -> None:
        raise TelegramHTMLError("comments are not supported")

    def handle_decl(self, decl: str) -> None:
        raise TelegramHTMLError("declarations are not supported")

    def unknown_decl(self, data: str) -> None:
        raise TelegramHTMLError("declarations are not supported")


def parse(text: str) -> tuple[str, list[str]]:
    """(visible text, hrefs) of a message in HTML parse mode; TelegramHTMLError where Telegram would refuse it."""
    if "&" in text:
        for match in re.finditer(r"&", text):
            if not _ENTITY.match(text, match.start()):
                raise TelegramHTMLError("unescaped &")
    parser = _Parser()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise TelegramHTMLError(f"unclosed tag {parser.stack[-1]!r}")
    return "".join(parser.text), parser.links


def length(text: str) -> int:
    """Telegram counts UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def is_http_link(href: str) -> bool:
    parts = urlsplit(href)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def check(messages: list[str]) -> list[str]:
    """Each message parses as Telegram HTML and fits; returns their visible texts."""
    shown = []
    for message in messages:
        text, links = parse(message)
        assert 0 < length(text) <= TELEGRAM_LIMIT
        assert all(link.startswith(("http://", "https://")) for link in links)
        shown.append(text)
    return shown
