"""What the feedback buttons under an article view (👍 👎 🔇) and opening an article tell the preferences stage.

The preferences (votes, opens, muted feeds) are stored by `service.preferences` (bot/service/preferences.py);
this adapter is the only place the buttons reach it, so that a service without it (before it is wired) still shows
articles: votes then count as none and change nothing.
"""

from __future__ import annotations

from typing import Protocol


class Preferences(Protocol):
    """The part of the preferences stage the buttons use."""

    async def vote(self, subscription_id: int, user_id: int, story_id: int, value: int) -> None: ...

    async def vote_of(self, subscription_id: int, user_id: int, story_id: int) -> int: ...

    async def opened(self, subscription_id: int, user_id: int, story_id: int) -> None: ...

    async def mute_feed(self, subscription_id: int, feed_id: int) -> None: ...


class Feedback:
    def __init__(self, preferences: Preferences | None) -> None:
        self.preferences = preferences

    @property
    def stored(self) -> bool:
        """Whether votes and mutes are kept (the preferences stage is wired)."""
        return self.preferences is not None

    async def vote(self, subscription_id: int, user_id: int, story_id: int, value: int) -> int:
        """Store the vote (+1/-1; it replaces an earlier one); the vote now standing."""
        if self.preferences is None:
            return 0
        await self.preferences.vote(subscription_id, user_id, story_id, value)
        return await self.preferences.vote_of(subscription_id, user_id, story_id)

    async def vote_of(self, subscription_id: int, user_id: int, story_id: int) -> int:
        if self.preferences is None:
            return 0
        return await self.preferences.vote_of(subscription_id, user_id, story_id)

    async def opened(self, subscription_id: int, user_id: int, story_id: int) -> None:
        if self.preferences is not None:
            await self.preferences.opened(subscription_id, user_id, story_id)

    async def mute_feed(self, subscription_id: int, feed_id: int) -> bool:
        if self.preferences is None:
            return False
        await self.preferences.mute_feed(subscription_id, feed_id)
        return True
