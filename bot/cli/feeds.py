"""`newsbot feeds ...`: the feed list and its fetch state; the same service calls as the admin bot commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from bot.cli.apps import feeds_app
from bot.cli.common import err, fits, friendly, out, print_entry, with_service
from bot.errors import UsageError
from bot.service import FeedRow, Service
from bot.service.views import feed_view


@feeds_app.command("list")
@friendly
def feeds_list(as_json: bool = typer.Option(False, "--json", help="One JSON object per feed, in a list.")) -> None:
    """Every feed with its state: ok, error, paused (by an admin), disabled (too many failures), new; and its recent
    problems that are not failures (broken UTF-8, article pages that could not be fetched)."""

    async def body(service: Service) -> tuple[list[FeedRow], dict[int, list[tuple[str, str]]]]:
        return await service.feeds.all(), await service.feeds.recent_problems()

    feeds, problems = with_service(body)
    if as_json:
        out.print_json(json.dumps([feed_view(f, problems.get(f.id, [])) for f in feeds]))
        return
    if not feeds:
        out.print("no feeds in the feed list yet: add one with `newsbot feeds add URL`")
        return
    table = _feed_table(feeds, problems)
    if fits(table):
        out.print(table, crop=False)
        return
    # Too wide for the terminal: a table would squeeze every column but the URL to nothing. One feed per entry
    # instead, as `stories list` does: id, status and error count first, the URL whole on a line of its own.
    for f in feeds:
        head, details = _feed_entry(f, problems.get(f.id, []))
        print_entry(head, f.url, *details)


_STATUS_STYLE = {"error": "yellow", "disabled": "red", "paused": "dim"}


def _problems(recent: list[tuple[str, str]]) -> str:
    return f"{len(recent)}: {recent[0][1]}" if recent else ""


def _feed_table(feeds: list[FeedRow], problems: dict[int, list[tuple[str, str]]]) -> Table:
    table = Table()
    for column in ("id", "title", "url", "status", "errors", "last ok", "next fetch", "last error", "problems"):
        # A URL is printed whole, never folded over lines: people copy it, scripts match it.
        table.add_column(column, no_wrap=column == "url", overflow="ignore" if column == "url" else "fold")
    for f in feeds:
        table.add_row(
            str(f.id),
            f.title or f.feed_title or "",
            f.url,
            f.status,
            str(f.error_count),
            f.last_ok_at or "never",
            f.next_fetch_at or "now",
            f.last_error or "",
            _problems(problems.get(f.id, [])),
            style=_STATUS_STYLE.get(f.status),
        )
    return table


def _feed_entry(feed: FeedRow, recent: list[tuple[str, str]]) -> tuple[Text, list[Text]]:
    """The table's row as a head line (id, status, error count, title) and a line for each field but the URL."""
    head = Text(f"#{feed.id}  {feed.status}  errors: {feed.error_count}", style=_STATUS_STYLE.get(feed.status) or "")
    if title := feed.title or feed.feed_title:
        head.append(f"  {title}")
    details = [Text(f"last ok: {feed.last_ok_at or 'never'}  next fetch: {feed.next_fetch_at or 'now'}")]
    if feed.last_error:
        details.append(Text(f"last error: {feed.last_error}"))
    if recent:
        details.append(Text(f"problems: {_problems(recent)}"))
    return head, details


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
        return
    try:
        output.write_bytes(data)
    except OSError as e:
        raise UsageError(f"cannot write {str(output)!r}: {e.strerror or e}") from None
