"""A digest as Telegram messages: a heading, one block per story (its linked title, summary, sources, and whether
it was translated), and "…and N more" when the cap left stories out. Pure; split by bot.render.spans."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.digest.compose import Digest, DigestItem
from bot.i18n import Texts
from bot.render.keyboards import Keyboard, open_buttons
from bot.render.spans import Block, Span, pack_indexed, safe_href

NAMED_SOURCES = 3  # sources a story's line names (its own, then two after "also:"); the others are counted


@dataclass(frozen=True)
class Message:
    """One Telegram message: its HTML and the inline keyboard under it."""

    text: str
    keyboard: Keyboard = ()


def story_block(item: DigestItem, t: Texts, number: int | None = None) -> Block:
    link = safe_href(item.link)
    spans = [Span(item.title, bold=True, href=link), Span("\n" + item.summary)]
    if number is not None:  # the number its 📖 button carries
        spans.insert(0, Span(f"{number}. ", bold=True))
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
    """The messages of one digest as HTML, without keyboards (the terminal's digest)."""
    return [message.text for message in digest_messages(digest, t)]


def digest_messages(digest: Digest, t: Texts, *, bot_username: str | None = None) -> list[Message]:
    """The messages of one digest: a heading, one numbered block per story, and "…and N more" when the cap left some
    out; under each message a 📖 button for each story it holds (URL buttons to the deep link with `bot_username`)."""
    count = len(digest.items)
    heading: Block = (
        Span(t.n("Your news digest: {count} story", "Your news digest: {count} stories", count), bold=True),
    )
    blocks = [heading, *(story_block(item, t, number) for number, item in enumerate(digest.items, start=1))]
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
    messages = []
    for text, indices in pack_indexed(blocks):
        # block i (1..count) is story number i
        numbered = [(i, digest.items[i - 1].story_id) for i in indices if 1 <= i <= count]
        story_ids = [(number, story_id) for number, story_id in numbered if story_id is not None]
        messages.append(Message(text, open_buttons(story_ids, bot_username=bot_username)))
    return messages
