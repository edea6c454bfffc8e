"""The Model Context Protocol front-end (`newsbot mcp`): the stored news as read-only tools for AI assistants, over
stdio (bot/mcp/server.py) or streamable HTTP behind a bearer token (bot/mcp/http.py). The only package that imports
the `mcp` SDK; the CLI imports it when the command runs."""

from __future__ import annotations

from bot.mcp.http import endpoint, parse_address, require_token, serve_http
from bot.mcp.server import build_server

__all__ = ["build_server", "endpoint", "parse_address", "require_token", "serve_http"]
