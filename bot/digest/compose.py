"""What goes into one subscriber's digest: the stories they have not received that match their topics, ranked
newer and multi-source first, capped. Pure: data and `now` in, a selection out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.digest.topics import matches
from summarizer.chunking import split_sentences

DEFAULT_CAP = 15
# A first digest covers this much of the past; stories older than MAX_AGE are never sent (a long downtime gives one
# catch-up digest of the last few days, not of everything since).
FIRST_DIGEST_WINDOW = timedelta(hours=24)
MAX_AGE = timedelta(days=3)
# Each source beyond the first counts as this much fresher: a story three feeds carry outranks a newer lone one.
SOURCE_BONUS = timedelta(hours=6)
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

    def texts(self) -> list[str]:
        """What a topic is matched against: the title as published, the English title and summary."""
        return [t for t in (self.title, self.title_en, self.summary_en) if t]


@dataclass(frozen=True)
class Selection:
    chosen: list[Candidate]
    more: int  # matching stories left out by the cap


def select(
    candidates: Sequence[Candidate],
    *,
    delivered: Collection[int],
    topics: Sequence[str],
    now: datetime,
    cap: int = DEFAULT_CAP,
) -> Selection:
    """The stories for one digest: not yet delivered, matching a topic (if any), best first, at most `cap`."""
    wanted = [c for c in candidates if c.story_id not in delivered and matches(topics, c.texts())]
    wanted.sort(key=lambda c: (now - c.at - SOURCE_BONUS * (len(c.sources) - 1), -c.story_id))
    return Selection(wanted[:cap], max(0, len(wanted) - cap))


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


@dataclass(frozen=True)
class Digest:
    lang: str
    items: list[DigestItem] = field(default_factory=list)
    more: int = 0
    story_ids: list[int] = field(default_factory=list)  # of `items`, in order: what gets marked delivered
