"""The bot as it really runs, inside a test: the real python-telegram-bot Application from bot.chat.app, talking
HTTP to the fake Bot API, with the service on a tmp database and a local feed server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml

from bot.chat.app import build_application, serve
from bot.service import Service, make_service
from summarizer.types import Engine
from tests.fakebotapi import TOKEN, FakeBotAPI, Sent
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import rss
from tests.test_service import make_settings


def _accepts(listen: str) -> bool:
    from bot.config import listen_address

    host, port = listen_address(listen)
    try:
        socket.create_connection((host, port), timeout=0.2).close()
    except OSError:
        return False
    return True


class BotWorld:
    def __init__(self, api: FakeBotAPI, service: Service, server: FeedServer) -> None:
        self.api = api
        self.service = service
        self.server = server

    async def until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait (without blocking the bot, which runs in this loop) until `predicate()` is truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s")

    async def settled_outbox(self, timeout: float = 10.0) -> dict[str, tuple[str, int | None, str | None]]:
        """The outbox's rows once none is pending any more: the fake API has a message before the bot has its reply
        and marks the row, so a test that saw a message arrive waits here before it reads the row's state."""

        def settled() -> dict[str, tuple[str, int | None, str | None]] | None:
            states = self.service.store.outbox_states()
            return states if states and all(state != "pending" for state, _, _ in states.values()) else None

        return await self.until(settled, timeout)  # type: ignore[no-any-return]

    async def say(self, chat_id: int, text: str, *, replies: int = 1, timeout: float = 10.0, **user: Any) -> list[Sent]:
        """Send `text` as the user of `chat_id` and wait for `replies` more messages to that chat."""
        before = len(self.api.messages_to(chat_id))
        self.api.push_text(chat_id, text, **user)
        await self.until(lambda: len(self.api.messages_to(chat_id)) >= before + replies, timeout)
        return self.api.messages_to(chat_id)[before:]

    async def publish(
        self, items: Sequence[tuple[str, str]], *, path: str = "/feed", body: bytes | None = None
    ) -> None:
        """Serve these items on the feed and poll + enrich now (as the running poller would)."""
        self.server.routes[path] = Route(body=body or rss(items))
        await self.service.ingest.poll(force=True)
        await self.service.enrichment.enrich()


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    server: FeedServer,
    *,
    api: FakeBotAPI | None = None,
    engine: Engine | None = None,
    languages: Sequence[str] = ("en", "it", "de"),
    feeds: Sequence[dict[str, Any]] | None = None,
    now: Callable[[], Any] | None = None,
    watchlist: Sequence[Any] = (),
    **settings: Any,
) -> AsyncIterator[BotWorld]:
    server.routes.setdefault("/feed", Route(body=rss([])))
    listed = feeds if feeds is not None else [{"url": server.url("/feed"), "title": "Wire", "lang": "en"}]
    (tmp_path / "feeds.yaml").write_text(
        yaml.safe_dump(
            {"settings": {"languages": list(languages), "watchlist": list(watchlist)}, "feeds": list(listed)}
        )
    )
    # Per-chat pacing at 20/s keeps a test conversation quick; the fault tests set production rates.
    options: dict[str, Any] = {"backend": "extractive", "telegram_bot_token": TOKEN, "chat_rate": 20.0, **settings}
    with api or FakeBotAPI() as fake:
        options["telegram_api_base_url"] = fake.base_url
        service = make_service(make_settings(tmp_path, **options), engine=engine, now=now)
        application = build_application(service, service.settings)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(application, stop, tick=3600, digest_round=0.2))
        world = BotWorld(fake, service, server)
        try:
            if service.settings.webhook_url:  # the webhook is registered first, the listener bound after
                await world.until(lambda: fake.calls_of("setWebhook"), 10)
                await world.until(lambda: _accepts(service.settings.webhook_listen), 10)
            else:
                await world.until(lambda: fake.calls_of("getUpdates"), 10)
            yield world
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def due_subscribers(world: BotWorld, chat_ids: Sequence[int], **start: Any) -> None:
    """Subscribe these chats with their first slot already passed: the next digest round serves them."""
    from datetime import UTC, datetime, timedelta

    from bot.service import Chat
    from bot.store.base import iso

    now = datetime.now(UTC)
    for chat_id in chat_ids:
        started = await world.service.subscribers.start(Chat(chat_id, **start))
        await world.service.ctx.db(
            world.service.store.update_subscription,
            started.subscription.id,
            now,
            next_digest_at=iso(now - timedelta(minutes=1)),
        )
