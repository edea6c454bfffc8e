"""What every command shares: the consoles, one-sentence errors, running the service once, durations, entries that
keep their links whole when a table would not fit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from bot.config import load_settings
from bot.errors import NewsbotError, UsageError
from bot.service import Service, make_service
from bot.timespan import parse_duration

# Markup off: titles, errors and arguments are data from feeds and users ("[video]", "[/b]"); styling is explicit.
out = Console(markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """A NewsbotError becomes one red sentence and exit code 1, never a traceback."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except NewsbotError as e:
            # One unwrapped line: it often holds a URL or a path, which must stay whole for people and scripts.
            err.print(Text.assemble(("error:", "red"), f" {e}"), soft_wrap=True)
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


def parse_since(value: str) -> timedelta:
    try:
        return parse_duration(value)
    except UsageError as e:
        raise typer.BadParameter(str(e)) from None


def progress_bar(label: str) -> Progress:
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
    )


def print_link(url: str) -> None:
    """A URL on a line of its own, never wrapped (Rich wraps at 80 columns when stdout is not a terminal)."""
    out.print(url, soft_wrap=True, overflow="ignore", crop=False)


def print_entry(head: Text, link: str | None, *details: Text) -> None:
    """One item of a listing on its own lines: `head`, then its link whole and indented, then each detail indented on
    a line of its own that Rich does not wrap (an error or a problem often holds a URL, which must stay whole)."""
    out.print(head)
    if link:
        print_link(f"    {link}")
    for detail in details:
        out.print(Text("    ").append_text(detail), soft_wrap=True)


def fits(renderable: RenderableType) -> bool:
    """Whether `renderable` (a table) is drawn within the console's width without wrapping or shrinking any cell."""
    natural = Measurement.get(out, out.options.update_width(1_000_000), renderable)
    return natural.maximum <= out.width
