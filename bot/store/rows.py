"""The records the store hands out: plain frozen dataclasses, no SQL and no behaviour beyond derived properties."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.feeds.types import Validators


@dataclass(frozen=True)
class FeedRow:
    id: int
    url: str
    title: str | None
    lang: str | None
    interval: int | None
    enabled: bool
    auto_disabled: bool
    etag: str | None
    last_modified: str | None
    error_count: int
    last_error: str | None
    last_error_at: str | None
    last_ok_at: str | None
    last_fetch_at: str | None
    next_fetch_at: str | None
    feed_title: str | None
    content_error: bool = False  # the validators belong to content that failed to parse
    down_notified: bool = False  # admins were told it was disabled; they hear once more when it recovers

    @property
    def validators(self) -> Validators:
        return Validators(etag=self.etag, last_modified=self.last_modified)

    @property
    def name(self) -> str:
        return self.title or self.feed_title or self.url

    @property
    def status(self) -> str:
        if not self.enabled:
            return "paused"
        if self.auto_disabled:
            return "disabled"
        if self.error_count:
            return "error"
        if self.last_fetch_at is None:
            return "new"
        return "ok"


FEED_COLUMNS = (
    "id, url, title, lang, interval, enabled, auto_disabled, etag, last_modified, error_count, last_error, "
    "last_error_at, last_ok_at, last_fetch_at, next_fetch_at, feed_title, content_error, down_notified"
)


def feed_row(row: Sequence[Any]) -> FeedRow:
    values = list(row)
    for flag in (5, 6, 16, 17):
        values[flag] = bool(values[flag])
    return FeedRow(*values)


@dataclass(frozen=True)
class StorySource:
    feed_id: int
    feed_url: str
    feed_title: str | None
    guid: str
    url: str | None
    first_seen_at: str


@dataclass(frozen=True)
class StoryRow:
    id: int
    url: str | None
    link: str | None
    title: str
    text: str
    extracted: bool
    published: str | None
    author: str | None
    content_hash: str
    created_at: str
    updated_at: str
    lang: str | None = None
    lang_confidence: float | None = None
    title_en: str | None = None
    text_en: str | None = None
    summary_en: str | None = None
    translated: bool | None = None
    models: dict[str, str] = field(default_factory=dict)
    enriched_at: str | None = None
    enrich_error: str | None = None
    sources: list[StorySource] = field(default_factory=list)

    @property
    def enriched(self) -> bool:
        return self.enriched_at is not None and self.summary_en is not None


STORY_BASE = "id, url, link, title, text, extracted, published, author, content_hash, created_at, updated_at"
STORY_COLUMNS = (
    f"{STORY_BASE}, lang, lang_confidence, title_en, text_en, summary_en, translated, models, enriched_at, enrich_error"
)


def story_row(row: Sequence[Any]) -> StoryRow:
    values = list(row)
    values[5] = bool(values[5])
    if values[16] is not None:
        values[16] = bool(values[16])
    values[17] = json.loads(values[17]) if values[17] else {}
    return StoryRow(*values)


@dataclass(frozen=True)
class SaveCounts:
    new: int = 0
    merged: int = 0  # an article already stored via another feed or URL variant: one more source, no new story
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class PendingStory:
    """A story whose current text is not enriched yet, with its failure history (for the retry backoff)."""

    id: int
    title: str
    text: str
    lang_hint: str | None  # of its first feed
    content_hash: str
    attempts: int  # failed attempts with the engine of `fingerprint`
    fingerprint: str | None  # the engine (models) the last failure happened with
    created_at: str | None = None  # when it was stored: fresh stories go before the backlog


@dataclass(frozen=True)
class EnrichFailure:
    """A story the engine could not enrich this pass, when to try again, and its language if that much was found."""

    story_id: int
    reason: str
    attempts: int  # failed attempts with the same models, this one included
    next_attempt_at: datetime
    lang: str | None = None
    lang_confidence: float | None = None


@dataclass(frozen=True)
class Problem:
    """Something an admin should know that is not a feed's failure: a model missing for a language, say."""

    key: str
    message: str
    first_at: str
    last_at: str
    count: int


@dataclass(frozen=True)
class Subscription:
    id: int
    chat_id: int
    thread_id: int  # forum topic; 0 = the chat itself
    kind: str  # private, group, supergroup, channel
    title: str | None
    lang: str
    times: tuple[str, ...]
    tz: str
    topics: tuple[str, ...]
    active: bool
    inactive_reason: str | None
    window_start: str
    next_digest_at: str | None
    created_at: str
    updated_at: str


SUBSCRIPTION_COLUMNS = (
    "id, chat_id, thread_id, kind, title, lang, times, tz, topics, active, inactive_reason, window_start, "
    "next_digest_at, created_at, updated_at"
)


def subscription_row(row: Sequence[Any]) -> Subscription:
    values = list(row)
    values[6] = tuple(json.loads(values[6]))
    values[8] = tuple(json.loads(values[8]))
    values[9] = bool(values[9])
    return Subscription(*values)


@dataclass(frozen=True)
class CandidateRow:
    """A story that may go into a digest, with what choosing and showing it needs."""

    story: StoryRow
    sources: tuple[str, ...]  # feed names, first feed first
    lang_hint: str | None = None  # the first feed's language (feeds.yaml, else its own), until the story's is detected
    feeds: tuple[int, ...] = ()  # feed ids, first feed first


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    subscription_id: int | None
    chat_id: int
    thread_id: int
    priority: int
    text: str
    attempts: int
    created_at: str
    reply_markup: str | None = None  # the inline keyboard as bot.render.keyboards stores it


@dataclass(frozen=True)
class NewDigest:
    """A digest ready to store: its messages go to the outbox and its stories count as delivered, in one step."""

    subscription_id: int
    chat_id: int
    thread_id: int
    key: str
    story_ids: list[int]
    parts: list[str]
    priority: int
    next_digest_at: str | None = None  # also move the subscriber's schedule on (scheduled digests)...
    expected_next: str | None = None  # ...unless it changed since it was read (a /schedule meanwhile)
    markups: Sequence[str | None] = ()  # per part: its inline keyboard (bot.render.keyboards' JSON), if any


@dataclass(frozen=True)
class EngineModels:
    """The models the engine would record on a story enriched now: the summarizer, and per source language the model
    that translates it into English ("identity" for English)."""

    summarize: str
    translate: dict[str, str]
