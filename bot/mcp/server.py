"""newsbot's stored news as read-only Model Context Protocol tools, on the official SDK's MCPServer: `ask`,
`search_stories`, `get_story`, `trends`, `list_feeds`.

Thin like the CLI's commands: check the arguments, call the service, give its JSON shape (bot.service.views, the
same as `--json`) as structured content with a text block beside it. A bad argument or a NewsbotError is a tool error
the model can read and correct (isError, one sentence), never a crash of the server. Nothing here writes to stdout,
which the stdio transport owns, and no tool changes what a reader sees (feeds, subscriptions, stories).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field
from typing_extensions import TypedDict  # pydantic reads a nested stdlib TypedDict only from Python 3.12

from bot.ask.answer import Answer
from bot.errors import NewsbotError
from bot.mcp import render
from bot.service import Service
from bot.service.views import FeedView, StoryHit, StoryView, TrendTable, feed_view, story_hit, story_view, trend_table
from bot.timespan import parse_since

MAX_RESULTS = 50
INSTRUCTIONS = (
    "newsbot holds AI-industry news stories from the feeds its admin chose, in several languages, each summarized. "
    "Use `ask` for a question (the answer quotes and cites stored stories, or says nothing answers it), "
    "`search_stories` to list stories on a subject, `get_story` for one story's text, `trends` for what the news "
    "talks about, `list_feeds` for the sources. Read-only: nothing here changes the bot."
)
# Read-only, and about the stored stories only: no tool reaches the web.
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

ToolContext = Context[Service, Any]
DAYS = (
    "How many days up to today (UTC), set against as many before; at most the days stories are kept "
    "(NEWSBOT_RETENTION_DAYS)."
)
Language = Annotated[
    str, Field(description="ISO 639-1 code of one of the languages feeds.yaml offers, e.g. en, it, de.")
]


class SearchResult(TypedDict):
    query: str
    since: str | None  # where the window starts (UTC, ISO 8601), if one was asked for
    language: str  # the language summaries were asked for; each story's summary_lang says what it got
    stories: list[StoryHit]  # best first


class FeedsResult(TypedDict):
    feeds: list[FeedView]


def build_server(open_service: Callable[[], Service]) -> MCPServer[Service]:
    """The server and its five tools; `open_service` is called once when a transport starts it, and the service is
    closed when it stops."""

    @asynccontextmanager
    async def lifespan(_: MCPServer[Service]) -> AsyncIterator[Service]:
        service = open_service()
        try:
            yield service
        finally:
            with anyio.CancelScope(shield=True):  # a stop by cancellation still closes the model threads and the DB
                await service.aclose()

    server: MCPServer[Service] = MCPServer(
        "newsbot", title="newsbot", instructions=INSTRUCTIONS, version=_version(), lifespan=lifespan
    )
    server.add_tool(ask, title="Ask the news", annotations=READ_ONLY)
    server.add_tool(search_stories, title="Search stories", annotations=READ_ONLY)
    server.add_tool(get_story, title="Read a story", annotations=READ_ONLY)
    server.add_tool(trends, title="News trends", annotations=READ_ONLY)
    server.add_tool(list_feeds, title="Feeds", annotations=READ_ONLY)
    return server


async def ask(
    ctx: ToolContext,
    question: Annotated[str, Field(description="The question, in any language, e.g. 'Who cut OpenAI's API access?'")],
    language: Annotated[
        str | None,
        Field(description="Answer in this language (ISO 639-1, one feeds.yaml offers); default: the question's."),
    ] = None,
) -> Annotated[CallToolResult, Answer]:
    """Answer a question from the stored news stories, as the bot's /ask does: 2-4 sentences quoted from the stories
    (translated where a model can), each with the number of the story it cites; `citations` gives each number's title
    and link. When no stored story answers, `found` is false, `citations` empty, and `closest` lists stories that
    come close (not answers)."""
    service = ctx.request_context.lifespan_context
    if not question.strip():
        raise ToolError("ask needs a question, e.g. 'What did OpenAI release this week?'")
    with _service_errors():
        lang = await _language(service, language) if language is not None else None
        answer = await service.ask.answer(question, lang=lang)
    return _result(render.answer_text(answer), asdict(answer))


async def search_stories(
    ctx: ToolContext,
    query: Annotated[str, Field(description="What to look for: words, names, a question. Taken as plain words.")],
    since: Annotated[
        str | None,
        Field(description="Only stories from then on: a duration back from now (24h, 7d, 2w) or an ISO date/time."),
    ] = None,
    language: Language = "en",
    limit: Annotated[int, Field(ge=1, le=MAX_RESULTS, description=f"At most this many, 1 to {MAX_RESULTS}.")] = 10,
) -> Annotated[CallToolResult, SearchResult]:
    """Stored stories about a subject, best first, found as /ask finds them (full-text BM25 and multilingual
    embeddings, fused): id, title, date, link, the feeds that carried it, and its title and summary in `language`
    (a story without a translation model for it keeps its own language: see summary_lang)."""
    service = ctx.request_context.lifespan_context
    if not query.strip():
        raise ToolError("search_stories needs a query, e.g. 'OpenAI API access'")
    with _service_errors():
        lang = await _language(service, language)
        start = parse_since(since, service.now()) if since is not None else None
        found = await service.ask.search(query, since=start, limit=limit, lang=lang)
    hits = [story_hit(f.story, f.summary) for f in found]
    result: SearchResult = {
        "query": query,
        "since": start.isoformat() if start else None,
        "language": lang,
        "stories": hits,
    }
    return _result(render.search_text(query, lang, hits), result)


async def get_story(
    ctx: ToolContext,
    id_or_url: Annotated[
        int | str, Field(description="The story's id (as search_stories gives it) or its link, an http(s) URL.")
    ],
    language: Language = "en",
) -> Annotated[CallToolResult, StoryView]:
    """One stored story: its plain text as stored, its title and summary in `language` (see summary_lang), and every
    feed that carried it."""
    service = ctx.request_context.lifespan_context
    key = _story_key(id_or_url)
    with _service_errors():
        lang = await _language(service, language)
        story = await service.stories.get(key)
        if story is None:
            raise ToolError(f"no stored story has the id or URL {id_or_url!r}; search_stories finds stories")
        summary = await service.localize.localized(story, lang)
    view = story_view(story, summary)
    return _result(render.story_text(view, lang), view)


async def trends(
    ctx: ToolContext,
    days: Annotated[int, Field(ge=1, description=DAYS)] = 7,
) -> Annotated[CallToolResult, TrendTable]:
    """What the stored stories talk about: the watchlist's names and the keyphrases, stories per day over the last
    `days` days, their change against the days before, and what rose most. The table `newsbot trends --json` gives."""
    service = ctx.request_context.lifespan_context
    with _service_errors():
        service.trends.check_days(days)  # within NEWSBOT_RETENTION_DAYS, before the keyphrase pass
        await service.trends.extract()  # keyphrases of stories `newsbot run` has not reached, as `newsbot trends` does
        report = await service.trends.report(days=days)
    return _result(render.trends_text(report), trend_table(report))


async def list_feeds(ctx: ToolContext) -> Annotated[CallToolResult, FeedsResult]:
    """Every feed in feeds.yaml with its state (ok, error, paused, disabled, new), errors, last success, next fetch and
    recent problems: what `newsbot feeds list --json` gives."""
    service = ctx.request_context.lifespan_context
    with _service_errors():
        feeds = await service.feeds.all()
        problems = await service.feeds.recent_problems()
    views = [feed_view(f, problems.get(f.id, [])) for f in feeds]
    return _result(render.feeds_text(views), {"feeds": views})


async def _language(service: Service, code: str) -> str:
    offered = (await service.engines.config()).languages
    lang = code.strip().lower()
    if lang not in offered:
        raise ToolError(f"{code!r} is not one of the languages in feeds.yaml: {', '.join(offered)}")
    return lang


def _story_key(id_or_url: int | str) -> int | str:
    if isinstance(id_or_url, int):
        if id_or_url < 1:
            raise ToolError(f"{id_or_url} is not a story id: ids are positive numbers, as search_stories gives them")
        return id_or_url
    text = id_or_url.strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    if text.lower().startswith(("http://", "https://")) and len(text) > len("https://"):
        return text
    raise ToolError(f"{id_or_url!r} is neither a story id (a number, as search_stories gives) nor an http(s) URL")


@contextmanager
def _service_errors() -> Iterator[None]:
    """A NewsbotError says what went wrong in a sentence meant for a person: the model reads it as the tool's error."""
    try:
        yield
    except NewsbotError as e:
        raise ToolError(str(e)) from e


def _result(text: str, structured: Any) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def _version() -> str:
    try:
        return importlib.metadata.version("newsbot")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0"
