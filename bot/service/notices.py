"""Telling the bot's admins, in Telegram, what they must act on: a feed disabled after repeated failures (once), and
the same feed working again (once). Notices go through the outbox like every message."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.i18n import Texts, texts
from bot.render.spans import pack, plain
from bot.service.context import Context
from bot.store.rows import FeedRow

log = logging.getLogger(__name__)


class Notices:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def feed_disabled(self, feed: FeedRow, reason: str, failures: int) -> None:
        def say(t: Texts) -> str:
            return t(
                "Feed {id} ({name}) was disabled after {count} failures in a row: {reason}. "
                "/resumefeed {id} turns it back on.",
                id=feed.id,
                name=feed.name,
                count=failures,
                reason=reason,
            )

        # Keyed by the feed's state before this failure: two processes disabling it at once queue one notice.
        await self._tell(feed, f"feed:{feed.id}:down:{feed.last_ok_at}:{feed.last_error_at}", say, down=True)

    async def feed_recovered(self, feed: FeedRow) -> None:
        def say(t: Texts) -> str:
            return t("Feed {id} ({name}) works again.", id=feed.id, name=feed.name)

        await self._tell(feed, f"feed:{feed.id}:up:{feed.last_error_at}", say, down=False)

    async def _tell(self, feed: FeedRow, key: str, say: Callable[[Texts], str], *, down: bool) -> None:
        messages: list[tuple[int, str]] = []
        for admin in sorted(self.ctx.settings.admin_ids):
            subscription = await self.ctx.db(self.ctx.store.get_subscription, admin, 0)
            t = texts(subscription.lang if subscription else "en")
            messages.extend((admin, part) for part in pack([plain(say(t))]))
        if not messages:
            log.warning("no NEWSBOT_ADMIN_IDS to tell: %s", say(texts("en")))
        await self.ctx.db(self.ctx.store.notify_admins, feed.id, key, messages, down=down, now=self.ctx.now())
