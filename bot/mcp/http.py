"""`newsbot mcp --http HOST:PORT`: the MCP server over streamable HTTP (the SDK's Starlette app under uvicorn), behind
a bearer token.

On a loopback address the token is optional (required when NEWSBOT_MCP_TOKEN is set) and the SDK's DNS-rebinding
check stays on (a web page in the user's browser must not reach the server through a name of its own); on any other
address the token is required, and it is what keeps strangers out: Host and Origin are then whatever the network's
clients use, so that check is off. The token is compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import ipaddress
import json

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.errors import ConfigError, UsageError
from bot.service import Service

DEFAULT_HOST = "127.0.0.1"
PATH = "/mcp"
REALM = "newsbot"
# Open streams (a client's GET for server messages) are closed after this long when the server stops.
SHUTDOWN_GRACE = 5


def parse_address(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `PORT` (host 127.0.0.1); an IPv6 host in brackets: `[::1]:8765`, `[::]:8765`."""
    text = value.strip()
    if text.isdigit():
        text = f":{text}"
    host, sep, port = text.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    host = host[1:-1] if bracketed else host
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or ("[" in host or "]" in host):
        raise UsageError(f"{value!r} is not HOST:PORT, like 127.0.0.1:8765, 0.0.0.0:8765 or :8765")
    if ":" in host and not bracketed:
        raise UsageError(f"{value!r}: write an IPv6 address in brackets, like [::1]:{port}")
    return host or DEFAULT_HOST, int(port)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`: localhost, 127.0.0.0/8, ::1. A name other than localhost may
    resolve anywhere, so it is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_token(host: str, token: str | None) -> None:
    """A server other machines can reach must have a token."""
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"NEWSBOT_MCP_TOKEN is not set: `newsbot mcp --http` on {host}, which other machines can reach, needs a "
            "bearer token. Set NEWSBOT_MCP_TOKEN to a long random string (e.g. `openssl rand -hex 32`), which clients "
            "send as `Authorization: Bearer <token>`, or serve on 127.0.0.1"
        )


def endpoint(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{PATH}"


class BearerAuth:
    """ASGI middleware: an HTTP request without `Authorization: Bearer <token>` gets 401 and a WWW-Authenticate
    header (RFC 6750) and never reaches the MCP app."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: the app's start and stop
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization")
        if header is None:
            await _unauthorized(send, f'Bearer realm="{REALM}"', "this server needs Authorization: Bearer <token>")
            return
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), self._token):
            challenge = f'Bearer realm="{REALM}", error="invalid_token"'
            await _unauthorized(send, challenge, "the bearer token is not this server's")
            return
        await self.app(scope, receive, send)


async def _unauthorized(send: Send, challenge: str, description: str) -> None:
    body = json.dumps({"error": "invalid_token", "error_description": description}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", challenge.encode()),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def http_app(server: MCPServer[Service], host: str, token: str | None) -> ASGIApp:
    """The streamable HTTP app at /mcp, behind the token when there is one."""
    security = None
    if is_loopback(host):
        bound = f"[{host}]" if ":" in host else host
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*", f"{bound}:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*", f"http://{bound}:*"],
        )
    else:
        # The SDK leaves the check off for such a bind, but only by default: say so, since the token is the guard.
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app: ASGIApp = server.streamable_http_app(streamable_http_path=PATH, transport_security=security, host=host)
    return BearerAuth(app, token) if token else app


async def serve_http(server: MCPServer[Service], host: str, port: int, token: str | None) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's own handlers), then close open streams and the service."""
    config = uvicorn.Config(
        http_app(server, host, token),
        host=host,
        port=port,
        log_config=None,  # the entry point configured logging (stderr); uvicorn's own would print to stdout
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    await uvicorn.Server(config).serve()
