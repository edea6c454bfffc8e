"""`newsbot poll`: fetch, store and summarize, once with a report or on schedule until stopped."""

from __future__ import annotations

import asyncio
import signal

import typer
from rich.table import Table
from rich.text import Text

from bot.cli.apps import app
from bot.cli.common import err, friendly, out, progress_bar, with_service
from bot.errors import ModelError
from bot.service import EnrichReport, FeedResult, Service


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
        stop_on_signals(stop)
        await service.run_pipeline(stop)

    with_service(forever)


async def _poll_once_with_progress(service: Service) -> tuple[list[FeedResult], EnrichReport | str]:
    """Ingest every feed, then summarize what is new. Missing models leave stories stored, unsummarized: said once."""
    feeds = await service.ingest.due_feeds(force=True)
    with progress_bar("polling") as bar:
        task = bar.add_task("poll", total=len(feeds))
        results = await service.ingest.poll(force=True, progress=lambda _: bar.advance(task))
    try:
        if service.broker is None:  # with workers, the models are theirs: this box needs none
            await service.engines.engine()
    except ModelError as e:
        await service.enrichment.enrich()  # records the reason on every story, so digests fall back and say why
        await _index(service)
        return results, str(e)
    pending = await service.enrichment.pending()
    with progress_bar("summarizing") as bar:
        task = bar.add_task("enrich", total=pending)
        enriched = await service.enrichment.enrich(progress=lambda n: bar.advance(task, n))
    await _index(service)
    return results, enriched


async def _index(service: Service) -> None:
    """Embed what is new and find its keyphrases, so `newsbot ask` and `newsbot trends` see it at once."""
    with progress_bar("indexing") as bar:
        task = bar.add_task("index", total=await service.indexing.pending())
        await service.indexing.index(progress=lambda n: bar.advance(task, n))
    with progress_bar("keyphrases") as bar:
        task = bar.add_task("keyphrases", total=await service.trends.pending())
        await service.trends.extract(progress=lambda n: bar.advance(task, n))


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


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set `stop`: the long-running commands then finish what they are doing and exit 0."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
