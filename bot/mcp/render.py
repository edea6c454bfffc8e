"""The text block each MCP tool returns beside its structured content: what a person (or a model reading prose)
sees. Pure: the tools' JSON shapes in, plain text out; no Markdown, whose characters titles may hold."""

from __future__ import annotations

from collections.abc import Sequence

from bot.ask.answer import Answer
from bot.i18n import texts
from bot.render.trends import trend_blocks
from bot.service.views import FeedView, StoryHit, StoryView
from bot.trends.count import TrendReport

NOTHING_FOUND = "I found nothing about that in the stored stories."


def answer_text(answer: Answer) -> str:
    """As `newsbot ask` prints it: the sentences with their citation numbers, then the cited stories."""
    if not answer.found:
        if not answer.closest:
            return NOTHING_FOUND
        lines = ["I found nothing that answers this. Closest stories:"]
        for near in answer.closest:  # unnumbered: none of them is cited as an answer
            lines.append(f"• {near.title}" + (f"\n  {near.link}" if near.link else ""))
        return "\n".join(lines)
    lines = [" ".join(f"{text} [{number}]" for text, number in answer.sentences)]
    if not answer.translated:
        lines.append("(some sentences are quoted in their original language)")
    lines.append("")
    for citation in answer.citations:
        lines.append(f"[{citation.number}] {citation.title}" + (f"\n{citation.link}" if citation.link else ""))
    return "\n".join(lines)


def search_text(query: str, language: str, stories: Sequence[StoryHit]) -> str:
    if not stories:
        return f"No stored story matches {query!r}."
    entries = [f"{len(stories)} stories for {query!r}, best first; summaries asked for in {language}:"]
    for hit in stories:
        entries.append(_hit(hit, language))
    return "\n\n".join(entries)


def story_text(story: StoryView, language: str) -> str:
    return f"{_hit(story, language)}\n\n{story['text']}"


def _hit(hit: StoryHit, language: str) -> str:
    lines = [f"#{hit['id']} {hit['date'][:16]} {hit['title']}"]
    if hit["link"]:
        lines.append(hit["link"])
    if hit["summary_title"] != hit["title"]:
        lines.append(hit["summary_title"])
    summary = hit["summary"]
    if hit["summary_lang"] != language:
        summary = f"({hit['summary_lang']}) {summary}"
    lines.append(summary)
    sources = [s["feed_title"] or s["feed_url"] for s in hit["sources"]]
    if sources:
        lines.append("sources: " + ", ".join(sources))
    return "\n".join(lines)


def trends_text(report: TrendReport) -> str:
    """What /trends says in a chat, in English."""
    return "\n\n".join("".join(span.text for span in block) for block in trend_blocks(report, texts("en")))


def feeds_text(feeds: Sequence[FeedView]) -> str:
    if not feeds:
        return "No feeds in feeds.yaml."
    lines = []
    for feed in feeds:
        line = f"{feed['id']} [{feed['status']}] {feed['title'] or feed['url']}\n  {feed['url']}"
        if feed["last_error"]:
            line += f"\n  last error ({feed['error_count']} in a row): {feed['last_error']}"
        lines.append(line)
    return "\n".join(lines)
