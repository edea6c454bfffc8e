"""The stories stage: what is stored, looked up by id or by a link as a reader pastes it."""

from __future__ import annotations

from datetime import datetime

from bot.feeds.dedupe import canonical_url
from bot.service.context import Context
from bot.store.rows import StoryRow


class Stories:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def recent(self, *, since: datetime | None = None, limit: int | None = None) -> list[StoryRow]:
        return await self.ctx.db(self.ctx.store.list_stories, since=since, limit=limit)

    async def get(self, id_or_url: str | int) -> StoryRow | None:
        return await self.ctx.db(self._find, id_or_url)

    def _find(self, id_or_url: str | int) -> StoryRow | None:  # on the SQLite thread
        store = self.ctx.store
        if isinstance(id_or_url, int) or id_or_url.isdigit():
            return store.get_story(int(id_or_url))
        # A pasted link may carry tracking parameters or a fragment: look it up as dedupe stored it.
        return store.get_story(canonical_url(id_or_url) or id_or_url) or store.get_story(id_or_url)
