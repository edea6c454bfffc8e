"""`newsbot stories ...`: what is stored, as tables or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import typer
from rich.text import Text

from bot.cli.apps import stories_app
from bot.cli.common import friendly, out, parse_since, print_entry, with_service
from bot.errors import NewsbotError
from bot.service import Service, StoryRow


def _story_json(story: StoryRow) -> dict[str, Any]:
    return {
        "id": story.id,
        "url": story.link,
        "canonical_url": story.url,
        "title": story.title,
        "lang": story.lang,
        "lang_confidence": story.lang_confidence,
        "text": story.text,
        "title_en": story.title_en,
        "summary_en": story.summary_en,
        "text_en": story.text_en,
        "translated": story.translated,
        "models": story.models,
        "enriched_at": story.enriched_at,
        "enrich_error": story.enrich_error,
        "extracted": story.extracted,
        "published": story.published,
        "author": story.author,
        "content_hash": story.content_hash,
        "created_at": story.created_at,
        "updated_at": story.updated_at,
        "sources": [asdict(s) for s in story.sources],
    }


@stories_app.command("list")
@friendly
def stories_list(
    since: str | None = typer.Option(None, help="Only stories from the last 30m / 24h / 7d ..."),
    limit: int = typer.Option(50, min=1, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Stored stories, newest first."""
    window = parse_since(since) if since else None

    async def body(service: Service) -> list[StoryRow]:
        return await service.stories.recent(since=service.now() - window if window else None, limit=limit)

    stories = with_service(body)
    if as_json:
        out.print_json(json.dumps([{k: v for k, v in _story_json(s).items() if k != "text"} for s in stories]))
        return
    if not stories:
        out.print(f"no stories in the last {since}" if since else "no stories stored yet: run `newsbot poll --once`")
        return
    # One story per entry: its id, time and title, then its link on a line of its own (a table column would cut it).
    for s in stories:
        print_entry(Text(f"#{s.id}  {(s.published or s.created_at)[:16]}  {s.title}"), s.link)


@stories_app.command("show")
@friendly
def stories_show(
    id_or_url: str,
    as_json: bool = typer.Option(False, "--json"),
    lang: str | None = typer.Option(None, "--lang", help="Also give title and summary in this language (ISO 639-1)."),
) -> None:
    """One story: its text, its English summary (and one in --lang), and every feed it came from."""

    async def body(service: Service) -> tuple[StoryRow, tuple[str, str] | None]:
        story = await service.stories.get(id_or_url)
        if story is None:
            raise NewsbotError(f"no story with id or URL {id_or_url!r}; `newsbot stories list` shows them")
        return story, (await service.localize.summary_in(story, lang) if lang else None)

    story, localized = with_service(body)
    if as_json:
        data = _story_json(story)
        if lang and localized:
            data["summary_lang"] = lang
            data[f"title_{lang}"], data[f"summary_{lang}"] = localized
        out.print_json(json.dumps(data))
        return
    out.print(Text(story.title, style="bold"))
    out.print(f"{story.link or ''}  {story.published or story.created_at}  lang: {story.lang or '?'}")
    summary = localized or ((story.title_en, story.summary_en) if story.summary_en else None)
    if summary:
        out.print(Text.assemble("\n", (summary[0] or "", "bold"), "\n", summary[1] or ""))
    elif story.enrich_error:
        out.print(f"\nnot summarized: {story.enrich_error}")
    out.print("\n" + story.text)
    for source in story.sources:
        out.print(f"source: {source.feed_title or source.feed_url} ({source.url or source.guid})")
