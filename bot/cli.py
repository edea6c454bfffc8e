"""The command-line front-end: parses arguments, wires Settings into the service, renders results. No SQL here."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from bot.config import load_settings
from bot.errors import ModelError, NewsbotError
from bot.feeds.feedlist import engine_config, load_feed_list
from bot.service import EnrichReport, FeedResult, Service, make_service
from bot.store.rows import FeedRow, StoryRow
from summarizer.errors import EngineError

app = typer.Typer(help="newsbot: a self-hosted multilingual AI-industry news bot.", no_args_is_help=True)
feeds_app = typer.Typer(
    help="Edit and inspect the feed list (feeds.yaml) and the feeds' fetch state.", no_args_is_help=True
)
stories_app = typer.Typer(help="What is stored.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
models_app = typer.Typer(help="The local language models.", no_args_is_help=True)
app.add_typer(stories_app, name="stories")
app.add_typer(models_app, name="models")

# Markup off: titles, errors and arguments are data from feeds and users ("[video]", "[/b]"); styling is explicit.
out = Console(markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    # URLs in httpx logs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """A NewsbotError becomes one red sentence and exit code 1, never a traceback."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except NewsbotError as e:
            err.print(Text.assemble(("error:", "red"), f" {e}"))
            raise typer.Exit(1) from None

    return wrapper


def with_service(body: Callable[[Service], Coroutine[Any, Any, R]]) -> R:
    """Run one async use of the service, closing it (HTTP client, process pool, DB) whatever happens."""

    async def runner() -> R:
        service = make_service(load_settings())
        try:
            return await body(service)
        finally:
            await service.aclose()

    return asyncio.run(runner())


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str) -> timedelta:
    match = _DURATION.match(value)
    if not match:
        raise typer.BadParameter(f"{value!r} is not a duration like 30m, 24h or 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


# -- poll -------------------------------------------------------------------------------------------------------------
@app.command()
@friendly
def poll(
    once: bool = typer.Option(False, "--once", help="Fetch every enabled feed now (ignoring schedule), then exit."),
) -> None:
    """Fetch feeds, store new and changed stories. Without --once: keep polling on each feed's schedule."""
    if once:
        results, enriched = with_service(_poll_once_with_progress)
        _print_poll_report(results)
        _print_enrich_report(enriched)
        return

    async def forever(service: Service) -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        await service.run_pipeline(stop)

    with_service(forever)


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
    )


async def _poll_once_with_progress(service: Service) -> tuple[list[FeedResult], EnrichReport | str]:
    """Ingest every feed, then summarize what is new. Missing models leave stories stored, unsummarized: said once."""
    feeds = await service.ingest.due_feeds(force=True)
    with _progress("polling") as bar:
        task = bar.add_task("poll", total=len(feeds))
        results = await service.ingest.poll(force=True, progress=lambda _: bar.advance(task))
    try:
        await service.enrichment.engine()
    except ModelError as e:
        await service.enrichment.enrich()  # records the reason on every story, so digests fall back and say why
        return results, str(e)
    pending = await service.enrichment.pending()
    with _progress("summarizing") as bar:
        task = bar.add_task("enrich", total=pending)
        enriched = await service.enrichment.enrich(progress=lambda n: bar.advance(task, n))
    return results, enriched


def _print_enrich_report(report: EnrichReport | str) -> None:
    if isinstance(report, str):
        err.print(Text.assemble(("stories stored but not summarized:", "yellow"), f" {report}"))
        return
    out.print(f"summarized {report.done} stories, {report.failed} failed")
    for reason in report.errors:
        err.print(Text.assemble(("summary failed:", "yellow"), f" {reason}"))


def _print_poll_report(results: list[FeedResult]) -> None:
    table = Table(title="poll report", show_lines=False)
    for column in ("id", "feed", "result", "new", "merged", "updated", "unchanged", "note"):
        table.add_column(
            column, justify="right" if column in ("id", "new", "merged", "updated", "unchanged") else "left"
        )
    for r in sorted(results, key=lambda r: r.feed_id):
        note = r.error or r.warning or (f"{r.extracted} full articles fetched" if r.extracted else "")
        style = "red" if r.error else None
        table.add_row(
            str(r.feed_id),
            r.title or r.url,
            r.outcome,
            str(r.new),
            str(r.merged),
            str(r.updated),
            str(r.unchanged),
            note,
            style=style,
        )
    out.print(table)
    failed = sum(1 for r in results if r.error)
    out.print(
        f"{len(results)} feeds: {sum(r.new for r in results)} new stories, {sum(r.updated for r in results)} updated, "
        f"{failed} failed"
    )


def _stop_on_signals(stop: asyncio.Event) -> None:
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


# -- feeds ------------------------------------------------------------------------------------------------------------
def _feed_json(feed: FeedRow) -> dict[str, Any]:
    data = asdict(feed)
    data["title"] = feed.title or feed.feed_title
    data["status"] = feed.status
    return data


@feeds_app.command("list")
@friendly
def feeds_list(as_json: bool = typer.Option(False, "--json", help="One JSON object per feed, in a list.")) -> None:
    """Every feed with its state: ok, error, paused (by an admin), disabled (too many failures), new."""

    async def body(service: Service) -> list[FeedRow]:
        return await service.feeds.all()

    feeds = with_service(body)
    if as_json:
        out.print_json(json.dumps([_feed_json(f) for f in feeds]))
        return
    table = Table()
    for column in ("id", "title", "url", "status", "errors", "last ok", "next fetch", "last error"):
        table.add_column(column)
    for f in feeds:
        style = {"error": "yellow", "disabled": "red", "paused": "dim"}.get(f.status)
        table.add_row(
            str(f.id),
            f.title or f.feed_title or "",
            f.url,
            f.status,
            str(f.error_count),
            f.last_ok_at or "never",
            f.next_fetch_at or "now",
            f.last_error or "",
            style=style,
        )
    out.print(table)


@feeds_app.command("add")
@friendly
def feeds_add(
    url: str,
    title: str | None = typer.Option(None, help="Title to show; default: the feed's own."),
    lang: str | None = typer.Option(None, help="Language hint (ISO 639-1), e.g. it."),
) -> None:
    """Check a feed (URL guard, one fetch, parse) and add it to feeds.yaml. file:// URLs are accepted here only."""

    async def body(service: Service) -> FeedRow:
        return await service.feeds.add(url, title=title, lang=lang, allow_file=True)

    feed = with_service(body)
    out.print(f"added feed {feed.id}: {feed.title or feed.url}")


@feeds_app.command("remove")
@friendly
def feeds_remove(id_or_url: str) -> None:
    """Remove a feed from feeds.yaml (its stories stay)."""

    async def body(service: Service) -> FeedRow:
        return await service.feeds.remove(id_or_url)

    feed = with_service(body)
    out.print(f"removed feed {feed.id}: {feed.url}")


def _set_enabled(id_or_url: str, enabled: bool) -> None:
    async def body(service: Service) -> FeedRow:
        return await service.feeds.set_enabled(id_or_url, enabled)

    feed = with_service(body)
    out.print(f"feed {feed.id} is now {feed.status}: {feed.url}")


@feeds_app.command("enable")
@friendly
def feeds_enable(id_or_url: str) -> None:
    """Resume a paused feed, or re-enable one disabled after failures (its error streak is forgotten)."""
    _set_enabled(id_or_url, True)


@feeds_app.command("disable")
@friendly
def feeds_disable(id_or_url: str) -> None:
    """Pause a feed (kept in feeds.yaml with enabled: false)."""
    _set_enabled(id_or_url, False)


@feeds_app.command("import-opml")
@friendly
def feeds_import_opml(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Add every feed listed in an OPML file (safe parsing: no external entities, no entity expansion)."""

    async def body(service: Service) -> Any:
        return await service.feeds.import_opml(file.read_bytes())

    report = with_service(body)
    for url, why in report.skipped:
        err.print(f"skipped {url}: {why}")
    out.print(f"imported {len(report.added)} feeds, skipped {len(report.skipped)}")


@feeds_app.command("export-opml")
@friendly
def feeds_export_opml(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of standard output."),
) -> None:
    """The feed list as OPML 2.0."""

    async def body(service: Service) -> bytes:
        return await service.feeds.export_opml()

    data = with_service(body)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)


# -- stories ----------------------------------------------------------------------------------------------------------
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
    limit: int = typer.Option(50, help="At most this many, newest first."),
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
    table = Table()
    for column in ("id", "published", "title", "url"):
        table.add_column(column)
    for s in stories:
        table.add_row(str(s.id), (s.published or s.created_at)[:16], s.title, s.link or "")
    out.print(table)
    if not stories:
        out.print("no stories stored yet: run `newsbot poll --once`")


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
        return story, (await service.enrichment.summary_in(story, lang) if lang else None)

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


# -- models -----------------------------------------------------------------------------------------------------------
@models_app.command("download")
@friendly
def models_download(
    lang: str | None = typer.Option(None, help="Comma-separated languages (default: those in feeds.yaml)."),
) -> None:
    """Fetch and cache every configured model into NEWSBOT_MODEL_DIR, for offline use (HF_HUB_OFFLINE=1)."""
    from summarizer.download import download_models

    settings = load_settings()
    config = engine_config(load_feed_list(settings.feeds), settings)
    languages = [code.strip() for code in lang.split(",") if code.strip()] if lang else None

    def report(name: str, status: str) -> None:
        err.print(f"{name}: {status.replace('_', ' ')}")

    try:
        fetched = download_models(config, languages, progress=report)
    except EngineError as e:
        raise ModelError(str(e)) from e
    out.print(f"{len(fetched)} models cached in {config.model_dir}")


if __name__ == "__main__":  # pragma: no cover
    app()
