"""Trends in words, in the reader's language: the chart's title and axis (the bot's photo and `trends --png` alike),
the short table beside the chart as Telegram HTML blocks, and the labels the command line's table shares. Pure."""

from __future__ import annotations

from babel.dates import format_interval

from bot.i18n import Texts
from bot.render.spans import Block, Span
from bot.trends.chart import locale_of
from bot.trends.count import Trend, TrendReport

TABLE_ROWS = 8


def period(report: TrendReport, lang: str) -> str:
    """ "19–25 Nov 2026" in the reader's language."""
    return format_interval(report.days[0], report.days[-1], "yMMMd", locale=locale_of(lang))


def chart_title(report: TrendReport, t: Texts) -> str:
    return t("AI news trends, {period}", period=period(report, t.lang))


def chart_ylabel(t: Texts) -> str:
    return t("stories per day")


def signed(change: int) -> str:
    return f"+{change}" if change > 0 else f"−{-change}" if change < 0 else "±0"


def label(trend: Trend) -> str:
    return trend.name if trend.watched else f"“{trend.name}”"


def trend_blocks(report: TrendReport, t: Texts) -> list[Block]:
    """The heading, the most told names and phrases with their change, and what rose most."""
    days = len(report.days)
    heading = (
        Span(chart_title(report, t), bold=True),
        Span(
            "\n"
            + t.n("{count} story", "{count} stories", report.stories)
            + " · "
            + t.n(
                "previous {count} day: {stories}",
                "previous {count} days: {stories}",
                days,
                stories=report.previous_stories,
            )
        ),
    )
    if not report.stories:
        return [heading, (Span(t("No stories in these days yet.")),)]
    blocks: list[Block] = [heading]
    for title, rows in ((t("Most told"), report.top(TABLE_ROWS)), (t("Rising"), report.movers[:TABLE_ROWS])):
        if rows:
            lines = [f"{label(r)} — {r.total} ({signed(r.change)})" for r in rows]
            blocks.append((Span(title, bold=True), Span("\n" + "\n".join(lines))))
    return blocks
