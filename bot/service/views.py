"""The JSON shapes the front-ends give of what the service returns (`newsbot ... --json`, the MCP tools' structured
output): one TypedDict and one builder each, so that every front-end gives the same fields. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from typing_extensions import TypedDict  # pydantic reads a nested stdlib TypedDict only from Python 3.12

from bot.service.localize import Localized
from bot.store.rows import FeedRow, StoryRow, StorySource
from bot.trends.count import Trend, TrendReport


class ProblemView(TypedDict):
    at: str
    message: str


class FeedView(TypedDict):
    """A feed as `newsbot feeds list --json` gives it: its fetch state, status and recent problems."""

    id: int
    url: str
    title: str | None  # the admin's, else the feed's own
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
    content_error: bool
    down_notified: bool
    status: str  # ok, error, paused (by an admin), disabled (too many failures), new
    recent_problems: list[ProblemView]  # problems that are not failures: broken UTF-8, unfetchable article pages


def feed_view(feed: FeedRow, problems: Sequence[tuple[str, str]]) -> FeedView:
    return {
        "id": feed.id,
        "url": feed.url,
        "title": feed.title or feed.feed_title,
        "lang": feed.lang,
        "interval": feed.interval,
        "enabled": feed.enabled,
        "auto_disabled": feed.auto_disabled,
        "etag": feed.etag,
        "last_modified": feed.last_modified,
        "error_count": feed.error_count,
        "last_error": feed.last_error,
        "last_error_at": feed.last_error_at,
        "last_ok_at": feed.last_ok_at,
        "last_fetch_at": feed.last_fetch_at,
        "next_fetch_at": feed.next_fetch_at,
        "feed_title": feed.feed_title,
        "content_error": feed.content_error,
        "down_notified": feed.down_notified,
        "status": feed.status,
        "recent_problems": [{"at": at, "message": message} for at, message in problems],
    }


class TrendRow(TypedDict):
    name: str
    kind: Literal["watchlist", "keyphrase"]
    total: int  # stories in the window
    previous: int  # stories in the window before
    change: int
    daily: list[int]  # stories per day, oldest first


class TrendTable(TypedDict):
    """The trend report as `newsbot trends --json` gives it."""

    days: list[str]  # the window's days (ISO dates), oldest first
    stories: int
    previous_stories: int
    watchlist: list[TrendRow]
    keyphrases: list[TrendRow]
    rising: list[TrendRow]


def trend_table(report: TrendReport) -> TrendTable:
    def rows(trends: list[Trend]) -> list[TrendRow]:
        return [
            {
                "name": t.name,
                "kind": "watchlist" if t.watched else "keyphrase",
                "total": t.total,
                "previous": t.previous,
                "change": t.change,
                "daily": list(t.daily),
            }
            for t in trends
        ]

    return {
        "days": [d.isoformat() for d in report.days],
        "stories": report.stories,
        "previous_stories": report.previous_stories,
        "watchlist": rows(report.watched),
        "keyphrases": rows(report.phrases),
        "rising": rows(report.movers),
    }


class SourceView(TypedDict):
    feed_id: int
    feed_title: str | None
    feed_url: str
    url: str | None  # the article's link in that feed
    first_seen_at: str


class StoryHit(TypedDict):
    """A story as a search lists it: what it is, where it came from, and its summary in the reader's language."""

    id: int
    title: str  # as published
    lang: str | None  # the story's own language
    date: str  # published, else when it was stored (UTC, ISO 8601)
    link: str | None
    summary_title: str
    summary: str
    summary_lang: str  # the language summary_title and summary are in
    summary_note: str | None  # why they are not in the language asked for
    sources: list[SourceView]  # every feed that carried it


class StoryView(StoryHit):
    """A whole story: a search's fields and its stored plain text."""

    text: str


def story_hit(story: StoryRow, summary: Localized) -> StoryHit:
    return {
        "id": story.id,
        "title": story.title,
        "lang": story.lang,
        "date": story.published or story.created_at,
        "link": story.link,
        "summary_title": summary.title,
        "summary": summary.summary,
        "summary_lang": summary.lang,
        "summary_note": None if summary.translated else summary.note,
        "sources": [_source(s) for s in story.sources],
    }


def story_view(story: StoryRow, summary: Localized) -> StoryView:
    return {**story_hit(story, summary), "text": story.text}


def _source(source: StorySource) -> SourceView:
    return {
        "feed_id": source.feed_id,
        "feed_title": source.feed_title,
        "feed_url": source.feed_url,
        "url": source.url,
        "first_seen_at": source.first_seen_at,
    }
