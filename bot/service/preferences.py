"""The preferences stage: what a subscription's readers say about stories (👍 / 👎, opening an article) and which
feeds it reads (🔇 and /sources), stored for the ranking (bot.digest.rank). Nothing here chooses stories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import StaleChoiceError
from bot.service.context import Context
from bot.service.feeds import Feeds
from bot.store.preferences import Feedback

__all__ = ["Feedback", "Preferences", "SourceSetting"]


@dataclass(frozen=True)
class SourceSetting:
    """A feed as one subscription's /sources shows it."""

    feed_id: int
    name: str
    url: str
    lang: str | None
    on: bool  # this subscription reads it
    muted: bool  # switched off by 🔇 under an article (else, when off, in /sources)


class Preferences:
    def __init__(self, ctx: Context, feeds: Feeds) -> None:
        self.ctx = ctx
        self.feeds = feeds

    async def vote(self, subscription_id: int, user_id: int, story_id: int, value: int) -> None:
        """The user's 👍 (+1) or 👎 (-1) on a story; a new vote replaces their earlier one. StaleChoiceError when the
        subscription is not active or the story is gone (nothing changed)."""
        if value not in (-1, 1):
            raise StaleChoiceError(f"not a vote: {value!r}")
        saved = await self.ctx.db(self.ctx.store.save_vote, subscription_id, user_id, story_id, value, self.ctx.now())
        if not saved:
            raise StaleChoiceError(f"no vote on story {story_id} for subscription {subscription_id}")

    async def vote_of(self, subscription_id: int, user_id: int, story_id: int) -> int:
        """The user's vote on the story: +1, -1, or 0 for none."""
        return await self.ctx.db(self.ctx.store.vote_of, subscription_id, user_id, story_id)

    async def opened(self, subscription_id: int, user_id: int, story_id: int) -> None:
        """The user opened the story's article: a mild sign of interest. StaleChoiceError as for `vote`."""
        if not await self.ctx.db(self.ctx.store.save_open, subscription_id, user_id, story_id, self.ctx.now()):
            raise StaleChoiceError(f"story {story_id} not opened for subscription {subscription_id}")

    async def mute_feed(self, subscription_id: int, feed_id: int) -> None:
        """🔇: this subscription reads nothing more from the feed (until /sources turns it back on)."""
        await self._set(subscription_id, feed_id, off=True, muted=True)

    async def set_source(self, subscription_id: int, feed_id: int, on: bool) -> None:
        """Switch a feed on or off for this subscription. StaleChoiceError when the subscription is not active or the
        feed is no longer in the feed list."""
        await self._set(subscription_id, feed_id, off=not on, muted=False)

    async def _set(self, subscription_id: int, feed_id: int, *, off: bool, muted: bool) -> None:
        store = self.ctx.store
        if not await self.ctx.db(
            store.set_source_off, subscription_id, feed_id, off=off, muted=muted, now=self.ctx.now()
        ):
            raise StaleChoiceError(f"feed {feed_id} cannot be switched for subscription {subscription_id}")

    async def sources(self, subscription_id: int) -> list[SourceSetting]:
        """Every feed a subscriber may read (the enabled ones of the feed list), each on or off for this subscription."""
        off = (await self.feedback([subscription_id]))[subscription_id].off
        return [
            SourceSetting(s.id, s.name, s.url, s.lang, s.id not in off, off.get(s.id, False))
            for s in await self.feeds.sources()
            if s.enabled
        ]

    async def feedback(self, subscription_ids: Sequence[int]) -> dict[int, Feedback]:
        """Each subscription's votes (summed over its readers), opened stories and switched-off feeds."""
        return await self.ctx.db(self.ctx.store.feedback, list(subscription_ids))
