"""`newsbot mcp`: the stored news as a read-only Model Context Protocol server, for AI assistants, over stdio (what
desktop assistants launch)."""

from __future__ import annotations

import asyncio
import signal

from bot.cli.apps import app
from bot.cli.common import friendly
from bot.config import load_settings
from bot.service import make_service


@app.command()
@friendly
def mcp() -> None:
    """Serve the stored stories to AI assistants (Model Context Protocol), read-only: the tools ask, search_stories,
    get_story, trends and list_feeds, over stdin/stdout; stdout then carries the protocol only (logs go to
    stderr)."""
    settings = load_settings()
    # The SDK is imported by this command only.
    from bot.mcp import build_server

    # The client stops the server by closing stdin (the service is then closed). A signal cannot unwind it: the
    # transport's reader thread waits on stdin; so Ctrl-C ends the process at once, as SIGTERM does (SQLite
    # rolls back whatever was not committed).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    asyncio.run(build_server(lambda: make_service(settings)).run_stdio_async())
