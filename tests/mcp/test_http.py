"""`newsbot mcp --http`: on an address other machines can reach, nothing without the bearer token (401 and a
challenge) and the SDK's own client with it; no token, no start; on loopback no token is needed, and a request naming
another host (DNS rebinding) is refused."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from typer.testing import CliRunner

from bot.cli import app
from bot.errors import UsageError
from bot.mcp.http import http_app, is_loopback, parse_address
from bot.mcp.server import build_server
from tests.mcp.servers import free_port, http_server

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.mark.slow
async def test_an_address_others_can_reach_needs_the_bearer_token(mcp_env: dict[str, str], tmp_path: Path) -> None:
    port, token = free_port(), secrets.token_hex(16)
    log = tmp_path / "server.log"
    with http_server(f"0.0.0.0:{port}", port, {**mcp_env, "NEWSBOT_MCP_TOKEN": token}, log) as server:
        url = f"http://127.0.0.1:{port}/mcp"
        async with httpx.AsyncClient(timeout=30) as client:
            bare = await client.post(url, json=INITIALIZE, headers=HEADERS)
            wrong = await client.post(url, json=INITIALIZE, headers={**HEADERS, "Authorization": f"Bearer {token}x"})
            basic = await client.post(url, json=INITIALIZE, headers={**HEADERS, "Authorization": f"Basic {token}"})
            right = await client.post(url, json=INITIALIZE, headers={**HEADERS, "Authorization": f"Bearer {token}"})
        assert bare.status_code == 401 and bare.headers["www-authenticate"] == 'Bearer realm="newsbot"'
        for refused in (wrong, basic):
            assert refused.status_code == 401, refused.text
            assert refused.headers["www-authenticate"] == 'Bearer realm="newsbot", error="invalid_token"'
        assert right.status_code == 200 and '"serverInfo":{"name":"newsbot"' in right.text, right.text

        with_token = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
        async with (
            with_token,
            streamable_http_client(url, http_client=with_token) as (read, write),
            ClientSession(read, write) as session,
        ):
            initialized = await session.initialize()
            tools = {tool.name for tool in (await session.list_tools()).tools}
            feeds = await session.call_tool("list_feeds", {})
        assert initialized.server_info.name == "newsbot"
        assert tools == {"ask", "search_stories", "get_story", "trends", "list_feeds"}
        assert not feeds.is_error and isinstance(feeds.structured_content, dict) and feeds.structured_content["feeds"]
        server.terminate()
        assert server.wait(30) == 0  # SIGTERM: a clean stop
    assert token not in log.read_text() and "Traceback" not in log.read_text()


@pytest.mark.slow
async def test_on_loopback_no_token_is_needed_but_the_host_must_be_local(
    mcp_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    with http_server(f":{port}", port, mcp_env, tmp_path / "server.log"):  # 127.0.0.1, no NEWSBOT_MCP_TOKEN
        url = f"http://127.0.0.1:{port}/mcp"
        async with httpx.AsyncClient(timeout=30) as client:
            served = await client.post(url, json=INITIALIZE, headers=HEADERS)
            rebound = await client.post(url, json=INITIALIZE, headers={**HEADERS, "Host": f"evil.example:{port}"})
            foreign = await client.post(url, json=INITIALIZE, headers={**HEADERS, "Origin": "http://evil.example"})
    assert served.status_code == 200 and '"serverInfo":{"name":"newsbot"' in served.text, served.text
    assert rebound.status_code == 421 and foreign.status_code == 403


async def test_a_token_set_is_required_on_loopback_too() -> None:
    def never() -> None:
        raise AssertionError("a request without the token reached the service")

    app = http_app(build_server(never), "127.0.0.1", "s3cret")  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765") as client:
        refused = await client.post("/mcp", json=INITIALIZE, headers=HEADERS)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == 'Bearer realm="newsbot"'


def test_without_a_token_a_reachable_address_is_refused_in_one_sentence(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"NEWSBOT_DB": str(tmp_path / "newsbot.db"), "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml")}
    with socket.socket() as busy:  # were the check missing, the server could not bind and hang this test: it fails
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for address in (f"0.0.0.0:{port}", f"[::]:{port}", f"192.0.2.1:{port}"):  # 192.0.2.1: TEST-NET, never ours
            result = runner.invoke(app, ["mcp", "--http", address], env={**env, "NEWSBOT_MCP_TOKEN": None})
            assert result.exit_code == 1, result.output
            assert "NEWSBOT_MCP_TOKEN is not set" in result.output and "Traceback" not in result.output
    for address, says in (("nonsense", "is not HOST:PORT"), ("::1:8765", "in brackets"), ("0.0.0.0:0", "HOST:PORT")):
        result = runner.invoke(app, ["mcp", "--http", address], env=env)
        assert result.exit_code == 1 and says in result.output, result.output


def test_addresses_and_what_counts_as_loopback() -> None:
    assert parse_address("8765") == parse_address(":8765") == ("127.0.0.1", 8765)
    assert parse_address("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_address("[::1]:8765") == ("::1", 8765) and parse_address("[::]:8765") == ("::", 8765)
    for bad in ("", "host", "host:", "host:http", "1.2.3.4:65536", "::1", "[::1]8765"):
        with pytest.raises(UsageError):
            parse_address(bad)
    assert all(map(is_loopback, ("127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST")))
    assert not any(map(is_loopback, ("0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "myhost.lan", "localhost.evil")))
