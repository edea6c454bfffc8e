"""The trends stage: keyphrases for each enriched story (bot.trends.keyphrases, on the model thread), kept in step by
a worker like the index; and the report of a window (bot.trends.count) with its chart (bot.trends.chart)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UsageError
from bot.service.context import Context, background
from bot.service.feeds import Feeds
from bot.trends.chart import chart_png
from bot.trends.count import TrendReport, TrendStory, Watch, trends
from bot.trends.keyphrases import keyphrases

log = logging.getLogger(__name__)

BATCH = 64


class Trends:
    def __init__(self, ctx: Context, feeds: Feeds) -> None:
        self.ctx = ctx
        self.feeds = feeds

    async def pending(self) -> int:
        return await self.ctx.db(self.ctx.store.count_to_phrase)

    async def extract(self, *, stop: asyncio.Event | None = None, progress: Callable[[int], None] | None = None) -> int:
        """Keyphrases for every enriched story without current ones, newest first, a batch at a time."""
        done = 0
        while stop is None or not stop.is_set():
            rows = await self.ctx.db(self.ctx.store.stories_to_phrase, BATCH)
            if not rows:
                break
            phrases = await self.ctx.model(_phrases, [(lang, title, text) for _, _, lang, title, text in rows])
            await self.ctx.db(
                self.ctx.store.save_keyphrases, [(i, h, p) for (i, h, *_), p in zip(rows, phrases, strict=True)]
            )
            done += len(rows)
            if progress is not None:
                progress(len(rows))
        return done

    async def work(self, stop: asyncio.Event, wake: asyncio.Event, *, tick: float = 30.0) -> None:
        """The keyphrase worker of `newsbot run`: a pass when woken (stories enriched) or every `tick`."""

        async def one_pass() -> None:
            if count := await self.extract(stop=stop):
                log.info("keyphrases for %d stories", count)

        await background("keyphrases", one_pass, stop, wake, tick)

    @property
    def max_days(self) -> int:
        """The longest window: as far back as stories are kept (older ones are deleted, so could not be counted)."""
        return self.ctx.settings.retention_days

    def check_days(self, days: int) -> None:
        """Refuse a window longer than the stories are kept, naming the setting that decides it."""
        if days < 1:
            raise UsageError(f"days must be at least 1, not {days}")
        if days > self.max_days:
            raise UsageError(
                f"{days} days go further back than stories are kept (NEWSBOT_RETENTION_DAYS={self.max_days}): "
                f"ask for 1 to {self.max_days} days, or raise NEWSBOT_RETENTION_DAYS"
            )

    async def report(self, *, days: int = 7, tz: str = "UTC") -> TrendReport:
        """The `days` days up to today (in `tz`) against the `days` before (at most `max_days`)."""
        self.check_days(days)
        zone = ZoneInfo(tz)
        today = self.ctx.now().astimezone(zone).date()
        since = datetime.combine(today - timedelta(days=2 * days - 1), time(), zone).astimezone(UTC)
        until = datetime.combine(today + timedelta(days=1), time(), zone).astimezone(UTC)
        rows = await self.ctx.db(self.ctx.store.trend_stories, since, until)
        settings = (await self.feeds.sync()).settings
        watchlist = [Watch(w.name, w.aliases) for w in settings.watchlist]
        stories = [TrendStory(datetime.fromisoformat(at).astimezone(zone).date(), p, text) for at, p, text in rows]
        return await asyncio.to_thread(trends, stories, watchlist, today=today, days=days)

    async def chart(self, report: TrendReport, *, title: str, ylabel: str, lang: str) -> bytes:
        """The PNG (drawn on the model thread: it is CPU work like the models')."""
        return await self.ctx.model(chart_png, report, title=title, ylabel=ylabel, lang=lang)


def _phrases(stories: list[tuple[str, str, str]]) -> list[list[str]]:
    """(language, title, text) -> keyphrases, the title as its own sentence."""
    return [keyphrases(f"{title.rstrip(' .')}.\n{text}", lang) for lang, title, text in stories]
