"""Pull the article text out of a fetched web page (trafilatura) when a feed carries only a teaser; no network here."""

from __future__ import annotations

import trafilatura

from bot.errors import FeedError
from bot.feeds.sanitize import plain_text
from bot.feeds.types import ParsedEntry

# Below this the "article" is a consent wall, a paywall notice or a caption; the feed's own teaser is no worse.
MIN_ARTICLE_CHARS = 100


def needs_extraction(entry: ParsedEntry) -> bool:
    """Whether the article page is worth fetching: the feed gave only a snippet, and a page URL we may fetch."""
    return entry.is_teaser and entry.url is not None


def extract_article(html: bytes | str, *, url: str) -> str | None:
    """The main text of an article page as plain text (paragraphs separated by blank lines), or None if there is none.

    Bytes are preferred: trafilatura then reads the page's declared or sniffed encoding itself.
    """
    try:
        # favor_precision scored best on the article-extraction benchmark (benchmarks/extraction.py): comments,
        # "related" lists and teaser boxes cost more than the occasional lost paragraph. Tables stay: news tables are
        # content. `url` only labels log lines and resolves links; trafilatura fetches nothing here.
        text = trafilatura.extract(
            html,
            url=url,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            output_format="txt",
        )
    except Exception as e:  # trafilatura only traps its own ValueErrors; a hostile page must not kill the worker
        raise FeedError(url, f"could not extract the article text: {type(e).__name__}") from e
    if not text:
        return None
    # trafilatura puts each block on one line; blank lines between them match the paragraph breaks of feed text.
    text = plain_text(text.replace("\n", "\n\n"))
    return text if len(text) >= MIN_ARTICLE_CHARS else None


def extract_page(html: bytes | str, *, url: str) -> tuple[str | None, str | None]:
    """(title, article text) of a page a reader sent: the headline from the page's metadata (og:title, <title>, <h1>)
    and the text as `extract_article` gives it; either is None when the page has none."""
    text = extract_article(html, url=url)
    try:
        metadata = trafilatura.extract_metadata(html, default_url=url)
    except Exception:  # metadata is a nicety: a page whose head trips the parser still has its text
        metadata = None
    title = plain_text(metadata.title) if metadata is not None and metadata.title else None
    return title or None, text
