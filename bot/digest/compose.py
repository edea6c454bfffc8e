"""A digest's material: the candidate stories (one per event, bot.digest.rank chooses among them), the items a reader
sees, short summaries. Pure: data in, data out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from summarizer.chunking import split_sentences

DEFAULT_CAP = 15
# A first digest covers this much of the past; stories older than MAX_AGE are never sent (a long downtime gives one
# catch-up digest of the last few days, not of everything since).
FIRST_DIGEST_WINDOW = timedelta(hours=24)
MAX_AGE = timedelta(days=3)
SUMMARY_SENTENCES = 3


@dataclass(frozen=True)
class Candidate:
    """A stored story that may go into a digest, as much of it as choosing needs."""

    story_id: int
    title: str
    at: datetime  # published (when plausible) or stored
    sources: tuple[str, ...]  # feed names, the first feed first
    link: str | None
    lang: str | None = None
    title_en: str | None = None
    summary_en: str | None = None
    # When it stands for a cluster (one event, several stories): every member's id (its own first), each extra
    # source's link (None for its own feeds), the members' languages and their texts for topic matching.
    members: tuple[int, ...] = ()
    source_links: tuple[str | None, ...] = ()
    langs: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    feeds: tuple[int, ...] = ()  # ids of the feeds carrying it (a cluster's: every member's), the first feed first
    watched: int = 0  # how many watchlist names it mentions

    def texts(self) -> list[str]:
        """What a topic is matched against: the title as published, the English title and summary (a cluster's:
        every member's)."""
        return [t for t in (self.title, self.title_en, self.summary_en, *self.related) if t]

    def story_ids(self) -> tuple[int, ...]:
        return self.members or (self.story_id,)


@dataclass(frozen=True)
class Selection:
    chosen: list[Candidate]
    more: int  # matching stories left out by the cap


def merge(candidates: Sequence[Candidate], groups: Sequence[Sequence[int]], lang: str) -> list[Candidate]:
    """One candidate per cluster, for a reader of `lang`: the member in that language if there is one (then the one
    most feeds carry, then the newest), with every member's sources after its own, earliest published first. `groups` may name stories not
    among `candidates` (outside this reader's window): they are left out."""
    by_id = {c.story_id: c for c in candidates}
    merged = []
    for group in groups:
        members = [by_id[i] for i in group if i in by_id]
        if len(members) < 2:
            merged += members
            continue
        lead = max(members, key=lambda c: (c.lang == lang, len(c.sources), c.at, -c.story_id))
        # The other tellings in the order they were published (who told it first), whatever order they were stored in.
        others = sorted((c for c in members if c is not lead), key=lambda c: (c.at, c.story_id))
        sources = list(lead.sources)
        links: list[str | None] = [None] * len(lead.sources)
        feeds = list(lead.feeds)
        for other in others:
            feeds += [f for f in other.feeds if f not in feeds]
            for name in other.sources:
                if name not in sources:
                    sources.append(name)
                    links.append(other.link)
        merged.append(
            replace(
                lead,
                at=max(c.at for c in members),
                sources=tuple(sources),
                source_links=tuple(links),
                members=(lead.story_id, *(c.story_id for c in others)),
                langs=tuple(sorted({c.lang for c in members if c.lang and c.lang != "und"})),
                related=tuple(t for c in others for t in c.texts()),
                feeds=tuple(feeds),
                watched=max(c.watched for c in members),
            )
        )
    return merged


def short_summary(text: str, lang: str, sentences: int = SUMMARY_SENTENCES) -> str:
    """The first `sentences` sentences of a summary, for a digest's 2-3 lines."""
    parts = split_sentences(text, lang)
    glue = "" if lang in ("ja", "zh") else " "
    return glue.join(parts[:sentences]) if parts else text.strip()


@dataclass(frozen=True)
class DigestItem:
    """One story as a reader of the digest's language sees it."""

    title: str
    summary: str
    link: str | None
    sources: tuple[str, ...]
    original_lang: str | None = None  # set when title and summary are NOT in the reader's language
    source_links: tuple[str | None, ...] = ()  # per source: its own story's link, for a cluster's other members
    languages: int = 1  # how many languages the event was reported in
    story_id: int | None = None  # the story its 📖 button opens


@dataclass(frozen=True)
class Digest:
    lang: str
    items: list[DigestItem] = field(default_factory=list)
    more: int = 0
    story_ids: list[int] = field(default_factory=list)  # every story the items stand for: marked delivered
