"""Plain data passed between the feed stages and on to the store (dedupe's decisions); no I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class Validators:
    """What a server gave us to make the next GET conditional."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """One completed HTTP exchange (after redirects). `content` is None on 304 Not Modified."""

    url: str
    final_url: str
    status: int
    content: bytes | None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    validators: Validators = Validators()
    max_age: int | None = None  # seconds, from Cache-Control: max-age
    retry_after: float | None = None  # seconds, from Retry-After

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class ParsedEntry:
    """One feed item, already reduced to safe plain text."""

    guid: str
    url: str | None  # http(s) only; anything else is dropped
    title: str
    text: str  # plain text, no markup
    published: str | None = None  # UTC ISO-8601
    author: str | None = None
    is_teaser: bool = False  # the feed carries only a snippet: extract the article page


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    link: str | None
    language: str | None
    entries: list[ParsedEntry]
    warning: str | None = None  # a recoverable parse problem (feedparser's bozo) worth showing an admin


@dataclass(frozen=True)
class KnownSource:
    """What the store knows of an entry it has seen before: its story and the entry's fingerprint then."""

    story_id: int
    entry_hash: str


Action = Literal["new", "source", "updated", "unchanged"]


@dataclass(frozen=True)
class Decision:
    """What to do with one entry. `story_id` is set when the story already exists; `url` is its canonical URL."""

    action: Action
    entry: ParsedEntry
    url: str | None
    entry_hash: str
    story_id: int | None = None


class Fetcher(Protocol):
    """Gets a URL under the fetch rules (guards, caps, conditional GET); raises FeedError on any failure."""

    async def fetch(
        self,
        url: str,
        validators: Validators | None = None,
        *,
        allow_file: bool = False,
        private_host: str | None = None,
    ) -> FetchResult: ...

    async def aclose(self) -> None: ...
