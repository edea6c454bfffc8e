"""How the running bot is doing, for /health, `newsbot health` and Docker's HEALTHCHECK: last poll, failing feeds,
backlogs, models, the bot's heartbeat (which `newsbot run` writes here too), and whether that makes it unhealthy."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import datetime

from bot.service.celery_work import BrokerStatus, CeleryWork
from bot.service.context import Context, background
from bot.service.downloads import DownloadState, ModelDownloads
from bot.service.engines import Engines
from bot.service.enrichment import Enrichment
from bot.service.feeds import Feeds
from bot.store.rows import FeedRow, Problem
from summarizer.download import missing_models


@dataclass(frozen=True)
class Health:
    last_poll_at: str | None
    feeds: int
    failing: list[FeedRow] = field(default_factory=list)  # status "error" or "disabled"
    outbox: dict[str, int] = field(default_factory=dict)  # state -> messages
    enrichment_backlog: int = 0
    missing_models: list[str] = field(default_factory=list)
    download: DownloadState | None = None  # what `newsbot run` fetches in the background, as it saved it last
    model_problems: list[Problem] = field(default_factory=list)
    subscribers: list[tuple[str, str, bool, int]] = field(default_factory=list)  # kind, lang, active, count
    heartbeat_at: str | None = None  # the running bot's last sign of life
    heartbeat_age_s: float | None = None
    heartbeat_max_age_s: int = 180
    broker: BrokerStatus | None = None  # with NEWSBOT_BROKER_URL: the queue, its workers, its failed jobs
    problems: list[str] = field(default_factory=list)  # what makes it unhealthy, one sentence each

    @property
    def healthy(self) -> bool:
        return not self.problems


PROCESS = "run"  # the heartbeat's process name


class HealthCheck:
    def __init__(
        self,
        ctx: Context,
        feeds: Feeds,
        engines: Engines,
        enrichment: Enrichment,
        downloads: ModelDownloads,
        broker: CeleryWork | None = None,
    ) -> None:
        self.broker = broker
        self.ctx = ctx
        self.feeds = feeds
        self.engines = engines
        self.enrichment = enrichment
        self.downloads = downloads

    async def beat_forever(self, stop: asyncio.Event, *, every: float = 30.0) -> None:
        """`newsbot run`'s heartbeat, every `every` seconds until `stop`; a beat that fails (a locked database) is
        logged and the next one comes as usual."""

        async def beat() -> None:
            await self.ctx.db(self.ctx.store.beat, PROCESS, self.ctx.now(), os.getpid())

        await background("heartbeat", beat, stop, asyncio.Event(), every)

    async def report(self) -> Health:
        rows = await self.feeds.all()
        config = await self.engines.config()
        store = self.ctx.store
        max_age = self.ctx.settings.heartbeat_max_age
        beat = await self.ctx.db(store.heartbeat, PROCESS)
        age = (self.ctx.now() - datetime.fromisoformat(beat[0])).total_seconds() if beat else None
        problems = []
        if age is None:
            problems.append("the bot has never run on this database (no heartbeat): start `newsbot run`")
        elif age > max_age:
            problems.append(f"the bot's last heartbeat is {int(age)} s old (limit {max_age} s): is `newsbot run` up?")
        broker = None if self.broker is None else await self.broker.status()
        if broker is not None and not broker.reachable:
            problems.append(f"the broker {broker.url} is unreachable ({broker.error}): model work waits for it")
        return Health(
            last_poll_at=max((f.last_fetch_at for f in rows if f.last_fetch_at), default=None),
            feeds=len(rows),
            failing=[f for f in rows if f.status in ("error", "disabled")],
            outbox=await self.ctx.db(store.outbox_counts),
            enrichment_backlog=await self.enrichment.pending(),
            missing_models=await asyncio.to_thread(missing_models, config),
            download=await self.downloads.state(),
            model_problems=await self.engines.problems(),
            subscribers=await self.ctx.db(store.subscription_counts),
            heartbeat_at=beat[0] if beat else None,
            heartbeat_age_s=age,
            heartbeat_max_age_s=max_age,
            problems=problems,
            broker=broker,
        )
