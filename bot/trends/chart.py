"""The trends chart as a PNG for a phone screen: a few lines, large labels, the date range in the title. matplotlib
with the Agg backend (no display), imported on first use."""

from __future__ import annotations

import io
from collections.abc import Sequence

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from bot.trends.count import Trend, TrendReport

SERIES = 5
SIZE = (10, 7)  # inches; at DPI: 1200 x 840 pixels, sharp on a phone and well under Telegram's photo limits
DPI = 120


def chart_png(report: TrendReport, *, title: str, ylabel: str, lang: str = "en", series: int = SERIES) -> bytes:
    """One line per name or phrase among the `series` most told, stories per day on the y axis."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    shown: Sequence[Trend] = report.top(series)
    labels = [format_date(day, "EEE d", locale=locale_of(lang)) for day in report.days]
    with plt.rc_context({"font.size": 17, "axes.titlesize": 21, "legend.fontsize": 16, "axes.linewidth": 1.2}):
        figure, axes = plt.subplots(figsize=SIZE, dpi=DPI, layout="constrained")
        try:
            for trend in shown:
                axes.plot(labels, trend.daily, marker="o", linewidth=3.5, markersize=9, label=_label(trend))
            axes.set_title(title)
            axes.set_ylabel(ylabel)
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_ylim(bottom=0)
            axes.grid(axis="y", alpha=0.3)
            axes.spines[["top", "right"]].set_visible(False)
            if shown:
                figure.legend(loc="outside lower center", frameon=False, ncols=min(3, len(shown)))
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
        finally:
            plt.close(figure)
    return buffer.getvalue()


def _label(trend: Trend) -> str:
    return trend.name if trend.watched else f"“{trend.name}”"


def locale_of(lang: str) -> str:
    """`lang` if Babel knows it, else English: dates are written in it."""
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return "en"
    return lang
