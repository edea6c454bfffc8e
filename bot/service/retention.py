"""The retention stage: what is older than NEWSBOT_RETENTION_DAYS is deleted on a schedule (hourly, in `newsbot
run`), so the store does not grow without bound; the vector index in memory forgets it at once."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.service.context import Context, background
from bot.service.indexing import Indexing
from bot.store.retention import Pruned

log = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0  # seconds


class Retention:
    def __init__(self, ctx: Context, indexing: Indexing) -> None:
        self.ctx = ctx
        self.indexing = indexing

    async def prune(self) -> Pruned:
        cutoff = self.ctx.now() - timedelta(days=self.ctx.settings.retention_days)
        pruned = await self.ctx.db(self.ctx.store.prune_before, cutoff)
        if pruned.stories:
            self.indexing.forget()
        return pruned

    async def work(self, stop: asyncio.Event, *, every: float = PRUNE_EVERY) -> None:
        async def one_pass() -> None:
            pruned = await self.prune()
            if pruned.stories or pruned.messages or pruned.digests:
                log.info(
                    "retention (%d days): deleted %d stories, %d delivered messages, %d digests",
                    self.ctx.settings.retention_days, pruned.stories, pruned.messages, pruned.digests,
                )  # fmt: skip

        await background("retention", one_pass, stop, asyncio.Event(), every)
