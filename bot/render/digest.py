"""A digest as Telegram messages: a heading, one block per story (its linked title, summary, sources, and whether
it was translated), and "…and N more" when the cap left stories out. Pure; split by bot.render.spans."""

from __future__ import annotations

from dataclasses import replace

from bot.digest.compose import Digest, DigestItem
from bot.i18n import Texts
from bot.render.spans import Block, Span, pack, safe_href

NAMED_SOURCES = 3  # sources a story's line names (its own, then two after "also:"); the others are counted


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
