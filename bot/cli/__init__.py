"""The command-line front-end: parses arguments, wires Settings into the service, renders results. No SQL here.

One module per command (group); each registers itself on the typer apps in bot/cli/apps.py.
"""

from __future__ import annotations

from bot.cli import (  # noqa: F401  (they register their commands)
    ask,
    backup,
    digest,
    feeds,
    health,
    mcp,
    models,
    poll,
    run,
    stories,
    summarize,
    trends,
    worker,
)
from bot.cli.apps import app

__all__ = ["app"]
