"""The server's life in-process, through the SDK's own in-memory client: the service is opened once when a transport
starts the server, shared by every call, and closed (its threads and database) when the server stops."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from bot.mcp.server import build_server
from bot.service import Service, make_service
from tests.test_service import make_settings


async def test_the_service_is_opened_once_and_closed_with_the_server(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    opened: list[Service] = []

    def open_service() -> Service:
        opened.append(make_service(make_settings(tmp_path, backend="extractive")))
        return opened[-1]

    server = build_server(open_service)
    assert opened == []  # nothing is opened before a transport starts the server
    async with Client(server) as client:
        for _ in range(2):
            result = await client.call_tool("list_feeds", {})
            assert not result.is_error and result.structured_content == {"feeds": []}
        assert len(opened) == 1
    [service] = opened
    with pytest.raises(RuntimeError, match="shutdown"):  # its SQLite thread is gone: closed
        await service.feeds.all()
