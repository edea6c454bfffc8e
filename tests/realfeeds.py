"""The real third-party feeds of ../shared/corpora/feeds/real, served by the local test HTTP server."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.corpora import CORPORA
from tests.httpserver import FeedServer, Route

REAL = CORPORA / "feeds" / "real"
LAST_MODIFIED = "Tue, 24 Nov 2026 10:00:00 GMT"


@dataclass(frozen=True)
class RealFeed:
    path: Path
    lang: str
    format: str
    notes: str

    @property
    def content_type(self) -> str:
        # No charset parameter: these files declare their own encodings (some wrongly, on purpose).
        return "application/feed+json" if self.format == "jsonfeed" else "application/xml"


def real_feeds() -> list[RealFeed]:
    with (REAL / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [RealFeed(REAL / row["file"], row["lang"], row["format"], row["notes"]) for row in rows]


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def serve(
    server: FeedServer,
    feeds: list[RealFeed],
    *,
    prefix: str = "",
    rewrite: Callable[[bytes], bytes] | None = None,
) -> dict[str, RealFeed]:
    """Put each feed on its own path with an ETag and a Last-Modified; returns url -> feed."""
    served = {}
    for index, feed in enumerate(feeds):
        body = feed.path.read_bytes()
        if rewrite is not None:
            body = rewrite(body)
        path = f"/{prefix}{index}/{feed.path.name}"
        server.routes[path] = Route(
            body=body, content_type=feed.content_type, etag=etag_of(body), last_modified=LAST_MODIFIED
        )
        served[server.url(path)] = feed
    return served
