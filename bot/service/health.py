"""How the running bot is doing, for /health (and `newsbot health` later): last poll, failing feeds, backlogs,
models. Reads only; decides nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.service.context import Context
from bot.service.enrichment import Enrichment
from bot.service.feeds import FeedList
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
    model_problems: list[Problem] = field(default_factory=list)
    subscribers: list[tuple[str, str, bool, int]] = field(default_factory=list)  # kind, lang, active, count


class HealthCheck:
    def __init__(self, ctx: Context, feeds: FeedList, enrichment: Enrichment) -> None:
        self.ctx = ctx
        self.feeds = feeds
        self.enrichment = enrichment

    async def report(self) -> Health:
        rows = await self.feeds.all()
        config = await self.enrichment.config()
        store = self.ctx.store
        return Health(
            last_poll_at=max((f.last_fetch_at for f in rows if f.last_fetch_at), default=None),
            feeds=len(rows),
            failing=[f for f in rows if f.status in ("error", "disabled")],
            outbox=await self.ctx.db(store.outbox_counts),
            enrichment_backlog=await self.enrichment.pending(),
            missing_models=await asyncio.to_thread(missing_models, config) if config.backend != "extractive" else [],
            model_problems=await self.enrichment.problems(),
            subscribers=await self.ctx.db(store.subscription_counts),
        )
