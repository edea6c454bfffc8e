"""`newsbot mcp [--http HOST:PORT]`: the stored news as a read-only Model Context Protocol server, for AI assistants.
Over stdio by default (what desktop assistants launch); over streamable HTTP with --http."""

from __future__ import annotations

import asyncio
import signal

import typer

from bot.cli.apps import app
from bot.cli.common import err, friendly
from bot.cli.poll import stop_on_signals
from bot.config import load_settings
from bot.service import make_service


@app.command()
@friendly
def mcp(
    http: str | None = typer.Option(
        None,
        "--http",
        metavar="HOST:PORT",
        help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio; HOST defaults to 127.0.0.1. Any other "
        "than a loopback address needs NEWSBOT_MCP_TOKEN, which clients send as `Authorization: Bearer <token>`.",
    ),
) -> None:
    """Serve the stored stories to AI assistants (Model Context Protocol), read-only: the tools ask, search_stories,
    get_story, trends and list_feeds. Over stdin/stdout unless --http is given; stdout then carries the protocol
    only (logs go to stderr)."""
    settings = load_settings()
    # The SDK (and its web stack) is imported by this command only.
    from bot.mcp import build_server, endpoint, parse_address, require_token, serve_http

    if http is None:
        # The client stops the server by closing stdin (the service is then closed). A signal cannot unwind it: the
        # transport's reader thread waits on stdin; so Ctrl-C ends the process at once, as SIGTERM does (SQLite
        # rolls back whatever was not committed).
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        asyncio.run(build_server(lambda: make_service(settings)).run_stdio_async())
        return
    host, port = parse_address(http)
    token = settings.mcp_token.get_secret_value() if settings.mcp_token else None
    require_token(host, token)
    guard = (
        "requests need Authorization: Bearer $NEWSBOT_MCP_TOKEN"
        if token
        else "no token: reachable from this machine only"
    )
    err.print(f"newsbot mcp: streamable HTTP at {endpoint(host, port)}; {guard}", soft_wrap=True)
    server = build_server(lambda: make_service(settings))

    async def serve() -> None:
        # uvicorn stops on SIGINT/SIGTERM by itself (open streams, then the service, closed), then raises the signal
        # again; a handler of ours takes that one, so a stop is exit code 0.
        stop_on_signals(asyncio.Event())
        await serve_http(server, host, port, token)

    asyncio.run(serve())
