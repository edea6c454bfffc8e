"""/sources as Telegram HTML blocks: the feeds stories come from, linked, with their languages. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import Texts
from bot.render.spans import Block, Span, plain, safe_href


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
