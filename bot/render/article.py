"""An article view (📖) as Telegram messages: a head (title linked, sources, date, whether it is translated or only a
teaser) and the text's paragraphs, split between paragraphs into messages of at most 4,096 characters after parsing;
a paragraph longer than a message is cut between sentences (or words), never inside a tag or entity. Pure."""

from __future__ import annotations

import re
from datetime import datetime

from bot.i18n import Texts
from bot.render.spans import LIMIT, Block, Span, pack, safe_href, units

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+")
_PIECE = LIMIT - 96  # room for the gap between blocks, and for a neighbour


def article_messages(
    *,
    title: str,
    text: str,
    link: str | None,
    sources: tuple[str, ...],
    published: datetime | None,
    t: Texts,
    original_lang: str | None = None,
    note: str | None = None,
    teaser: bool = False,
) -> list[str]:
    """The messages of one article view; `original_lang` set when title and text are NOT in the reader's language
    (`note` says why)."""
    head: list[Span] = [Span(title, bold=True, href=safe_href(link))]
    meta = [" · ".join(sources)] if sources else []
    if published is not None:
        meta.append(published.strftime("%Y-%m-%d"))
    if meta:
        head.append(Span("\n" + " · ".join(meta), italic=True))
    if original_lang:
        marker = (
            t("not translated")
            if original_lang == "und"
            else t("not translated, original in {lang}", lang=original_lang.upper())
        )
        head.append(Span("\n" + (f"{marker}: {note}" if note else marker), italic=True))
    if teaser:
        head.append(Span("\n" + t("The feed gives only this teaser; the whole article is at the link."), italic=True))
    blocks: list[Block] = [tuple(head)]
    for paragraph in text.splitlines():
        if paragraph.strip():
            blocks.extend((Span(piece),) for piece in pieces(paragraph.strip()))
    if safe_href(link):
        blocks.append((Span(t("Read it at the source"), href=safe_href(link)),))
    return pack(blocks)


def pieces(paragraph: str, limit: int = _PIECE) -> list[str]:
    """A paragraph in pieces of at most `limit` UTF-16 units: between sentences, else between words, else anywhere."""
    if units(paragraph) <= limit:
        return [paragraph]
    out: list[str] = []
    current = ""
    for sentence in _words_if_needed(_SENTENCE_END.split(paragraph), limit):
        joined = f"{current} {sentence}" if current else sentence
        if units(joined) <= limit:
            current = joined
        else:
            if current:
                out.append(current)
            current = sentence
    if current:
        out.append(current)
    return out


def _words_if_needed(sentences: list[str], limit: int) -> list[str]:
    """Sentences, each one longer than `limit` broken at spaces (or, with none, at `limit` characters)."""
    out: list[str] = []
    for sentence in sentences:
        if units(sentence) <= limit:
            out.append(sentence)
            continue
        for word in sentence.split(" "):
            while units(word) > limit:
                cut = limit
                while units(word[:cut]) > limit:  # astral characters count twice
                    cut -= 1
                out.append(word[:cut])
                word = word[cut:]
            out.append(word)
    # words are re-joined by `pieces`, which fills each piece up to the limit
    return out
