"""`newsbot trends [--days 7] [--png FILE] [--json]`: the most told names and phrases of the last days, their change
against the days before, what rose most; optionally the chart the bot sends."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from bot.cli.apps import app
from bot.cli.common import err, friendly, out, progress_bar, with_service
from bot.errors import UsageError
from bot.i18n import texts
from bot.render.trends import chart_title, chart_ylabel, label, period, signed
from bot.service import Service
from bot.service.views import trend_table
from bot.trends.count import TrendReport

ROWS = 15


@app.command()
@friendly
def trends(
    days: int = typer.Option(
        7,
        "--days",
        min=1,
        help="How many days, up to today (UTC); at most NEWSBOT_RETENTION_DAYS, as long as stories are kept.",
    ),
    png: Path | None = typer.Option(None, "--png", help="Also write the chart to this PNG file.", dir_okay=False),
    as_json: bool = typer.Option(False, "--json", help="The counts as one JSON object."),
) -> None:
    """What the stored stories talk about: watchlist names and keyphrases, per day, against the days before."""

    async def body(service: Service) -> TrendReport:
        service.trends.check_days(days)  # before the keyphrase pass, which can take minutes
        if pending := await service.trends.pending():  # stories `run` has not reached yet (or no `run` at all)
            with progress_bar("keyphrases") as bar:
                task = bar.add_task("keyphrases", total=pending)
                await service.trends.extract(progress=lambda n: bar.advance(task, n))
        report = await service.trends.report(days=days)
        if png is not None:
            t = texts("en")
            image = await service.trends.chart(report, title=chart_title(report, t), ylabel=chart_ylabel(t), lang="en")
            try:
                png.write_bytes(image)
            except OSError as e:
                raise UsageError(f"cannot write the chart to {png}: {e.strerror or e}") from None
        return report

    report = with_service(body)
    if as_json:
        out.print_json(json.dumps(trend_table(report)))
    else:
        _print(report)
    if png is not None:
        err.print(f"chart written to {png}", soft_wrap=True)


def _print(report: TrendReport) -> None:
    out.print(Text(f"AI news trends, {period(report, 'en')}", style="bold"))
    out.print(f"{report.stories} stories; the {len(report.days)} days before: {report.previous_stories}")
    if not report.stories:
        return
    for title, trends in (("Most told", report.top(ROWS)), ("Rising", report.movers[:ROWS])):
        if not trends:
            continue
        table = Table(title=title, title_justify="left", show_edge=False)
        table.add_column("name")
        table.add_column("stories", justify="right")
        table.add_column("before", justify="right")
        table.add_column("change", justify="right")
        table.add_column("per day", justify="right")
        for t in trends:
            daily = " ".join(str(n) for n in t.daily)
            table.add_row(label(t), str(t.total), str(t.previous), signed(t.change), daily)
        out.print(table)
