"""`newsbot mcp` over stdio, driven by the SDK's own client against the QA corpus: the five tools listed with their
schemas, /ask's answer citing the Italian article, searches that FTS syntax cannot break, a story by id or link, the
same trends and feeds as the CLI's --json, bad arguments as tool errors after which the server goes on, and stdout
holding nothing but the protocol."""

from __future__ import annotations

import asyncio
import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from mcp.client.session import ClientSession
from mcp.types import CallToolResult, TextContent
from typer.testing import CliRunner

from bot.cli import app
from bot.config import load_settings
from bot.service import make_service
from tests.mcp.servers import ROOT, stdio_session

pytestmark = pytest.mark.slow

TOOLS = {"ask", "search_stories", "get_story", "trends", "list_feeds"}
ITALIAN_QUESTION = "Chi ha revocato l'accesso alle API di OpenAI?"
ITALIAN_LINK = "https://qa.example/it-anthropic"  # tests/qa_corpus.py serves each story at https://qa.example/<id>
FTS_SYNTAX = [
    '"AND (NEAR title:* OR',
    "OpenAI AND",
    "*",
    "title:Anthropic",
    "NEAR(a b, 2)",
    '"unclosed',
    "-OpenAI",
    "^",
]


def text_of(result: CallToolResult) -> str:
    [block] = result.content
    assert isinstance(block, TextContent)
    return block.text


async def call(session: ClientSession, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A call that must succeed: its structured content (checked by the client against the tool's output schema)
    and its text."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, text_of(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content, text_of(result)


async def cli_json(args: list[str], env: dict[str, str]) -> Any:
    """What `newsbot ARGS --json` prints (run off the event loop: the CLI runs its own)."""
    result = await asyncio.to_thread(CliRunner().invoke, app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def keyphrases_pending(env: dict[str, str]) -> int:
    service = make_service(load_settings(db=env["NEWSBOT_DB"], feeds=env["NEWSBOT_FEEDS"]))
    try:
        return await service.trends.pending()
    finally:
        await service.aclose()


async def test_the_five_tools_and_ask_cites_the_italian_article(mcp_env: dict[str, str], tmp_path: Path) -> None:
    async with stdio_session(mcp_env, tmp_path / "server.log") as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.output_schema and tool.output_schema["type"] == "object", tool.name
            assert tool.annotations and tool.annotations.read_only_hint, tool.name
        assert tools["search_stories"].input_schema["properties"]["limit"]["maximum"] == 50

        answer, text = await call(session, "ask", {"question": ITALIAN_QUESTION})
        assert answer["found"] and answer["lang"] == "it"
        [cited] = [c for c in answer["citations"] if c["link"] == ITALIAN_LINK]
        assert {number for _, number in answer["sentences"]} == {cited["number"]}
        assert f"[{cited['number']}] {cited['title']}" in text and ITALIAN_LINK in text.splitlines()

        nothing, text = await call(session, "ask", {"question": "How tall is the Zugspitze?", "language": "en"})
        assert nothing["found"] is False and nothing["citations"] == [] and nothing["sentences"] == []
        assert text.startswith("I found nothing")
    assert "Traceback" not in (tmp_path / "server.log").read_text()


async def test_search_stories_takes_fts_syntax_as_words_and_filters_by_date(
    mcp_env: dict[str, str], tmp_path: Path
) -> None:
    async with stdio_session(mcp_env, tmp_path / "server.log") as session:
        for query in FTS_SYNTAX:  # results or none, never an error
            found, _ = await call(session, "search_stories", {"query": query, "limit": 5})
            assert len(found["stories"]) <= 5 and found["query"] == query

        about = {"query": "Anthropic revoca l'accesso API a OpenAI", "limit": 3}
        found, text = await call(session, "search_stories", {**about, "since": "2025-08-01", "language": "de"})
        assert found["since"] == "2025-08-01T00:00:00+00:00" and found["language"] == "de"
        first = found["stories"][0]
        assert (first["link"], first["date"][:10], first["lang"]) == (ITALIAN_LINK, "2025-08-02", "it")
        assert [s["feed_title"] for s in first["sources"]] == ["Corriere IA"]
        # No model translates into German here: the digest's fallback, the story's own summary, said to be Italian.
        assert first["summary_lang"] == "it" and first["summary_title"] == first["title"]  # the Italian headline
        assert "Anthropic" in first["summary"] and "OpenAI" in first["summary"]
        assert first["summary_note"] and "does not translate" in first["summary_note"]
        assert f"#{first['id']} 2025-08-02" in text and ITALIAN_LINK in text

        later, _ = await call(session, "search_stories", {**about, "since": "2025-08-03T00:00:00Z"})
        assert later["stories"] and ITALIAN_LINK not in [s["link"] for s in later["stories"]]
        assert all(s["date"] >= "2025-08-03" for s in later["stories"])


async def test_a_story_by_id_or_link_and_trends_and_feeds_as_the_cli_gives_them(
    mcp_env: dict[str, str], tmp_path: Path
) -> None:
    shown = await cli_json(["stories", "show", ITALIAN_LINK], mcp_env)
    async with stdio_session(mcp_env, tmp_path / "server.log") as session:
        for key in (shown["id"], str(shown["id"]), ITALIAN_LINK):
            story, text = await call(session, "get_story", {"id_or_url": key, "language": "it"})
            assert story["id"] == shown["id"] and story["text"] == shown["text"]
            assert story["summary_lang"] == "it" and story["summary_note"] is None
            assert [s["feed_title"] for s in story["sources"]] == ["Corriere IA"]
            assert text.endswith(shown["text"])
        english, _ = await call(session, "get_story", {"id_or_url": ITALIAN_LINK})
        assert english["summary_lang"] == "en" and english["summary"] == shown["summary_en"]

        # Keyphrases of the stories no `newsbot run` has reached are made before counting, as the CLI makes them.
        assert await keyphrases_pending(mcp_env) > 0
        trends, text = await call(session, "trends", {"days": 90})
        assert await keyphrases_pending(mcp_env) == 0
        feeds, feeds_text = await call(session, "list_feeds", {})
    assert trends == await cli_json(["trends", "--days", "90"], mcp_env)
    assert text.startswith("AI news trends") and f"{trends['stories']} stories" in text
    assert feeds["feeds"] == await cli_json(["feeds", "list"], mcp_env) and len(feeds["feeds"]) == 12
    assert "Corriere IA" in feeds_text


async def test_bad_arguments_are_tool_errors_and_the_server_goes_on(mcp_env: dict[str, str], tmp_path: Path) -> None:
    refused = [
        ("ask", {"question": ITALIAN_QUESTION, "language": "xx"}, "'xx' is not one of the languages in feeds.yaml: en"),
        ("ask", {"question": "  "}, "ask needs a question"),
        ("ask", {}, "question\n  Field required"),
        ("search_stories", {"query": "OpenAI", "limit": 0}, "greater than or equal to 1"),
        ("search_stories", {"query": "OpenAI", "limit": 51}, "less than or equal to 50"),
        ("search_stories", {"query": "OpenAI", "since": "yesterday"}, "neither a duration like 24h or 7d nor"),
        ("search_stories", {"query": "OpenAI", "language": "klingon"}, "is not one of the languages"),
        ("get_story", {"id_or_url": "ftp://qa.example/x"}, "neither a story id"),
        ("get_story", {"id_or_url": 0}, "is not a story id"),
        ("get_story", {"id_or_url": 999999}, "no stored story has the id or URL 999999"),
        ("trends", {"days": 0}, "greater than or equal to 1"),
        ("trends", {"days": 100000}, "ask for 1 to 30 days, or raise NEWSBOT_RETENTION_DAYS"),
        ("trends", {"days": 31}, "31 days go further back than stories are kept (NEWSBOT_RETENTION_DAYS=30)"),
        ("trends", {"days": "a week"}, "valid integer"),
        ("no_such_tool", {}, "Unknown tool"),
    ]
    env = {**mcp_env, "NEWSBOT_RETENTION_DAYS": "30"}
    async with stdio_session(env, tmp_path / "server.log") as session:
        for tool, arguments, says in refused:
            result = await session.call_tool(tool, arguments)
            assert result.is_error, (tool, arguments, result)
            assert says in text_of(result), text_of(result)
            assert "Traceback" not in text_of(result)
        feeds, _ = await call(session, "list_feeds", {})  # still serving
        assert feeds["feeds"]


def test_stdout_holds_only_the_protocol_and_closing_stdin_stops_the_server(
    mcp_env: dict[str, str], tmp_path: Path
) -> None:
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search_stories", "arguments": {"query": "OpenAI"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_feeds", "arguments": {}}},
    ]  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "mcp"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **mcp_env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdin and server.stdout
    lines: queue.Queue[str] = queue.Queue()

    def read_stdout() -> None:
        for line in server.stdout or ():
            lines.put(line)

    threading.Thread(target=read_stdout, daemon=True).start()
    try:
        server.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        server.stdin.flush()
        replies = [json.loads(lines.get(timeout=120)) for _ in range(3)]  # every line of stdout parses
        server.stdin.close()  # what a client does to stop it: it stops on its own, closing the service
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
    assert sorted(r["id"] for r in replies) == [1, 2, 3] and all("result" in r for r in replies), replies
    assert lines.empty(), list(lines.queue)  # nothing more was written, on the way out either
    [searched] = [r for r in replies if r["id"] == 2]
    assert searched["result"]["structuredContent"]["stories"]
