"""The digests stage: compose each subscriber's digest (chosen by bot.digest.compose, put in the reader's language by
the localize stage, rendered by bot.render.digest) and store it with its outbox messages; scheduled rounds and /digest
alike."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from bot.digest.clusters import THRESHOLD, clusters
from bot.digest.compose import MAX_AGE, Candidate, Digest, DigestItem, merge, short_summary
from bot.digest.rank import Reader, select, shown
from bot.digest.schedule import last_slot, next_slot
from bot.digest.topics import mentions
from bot.errors import NewsbotError
from bot.i18n import texts
from bot.render.digest import Message, digest_messages
from bot.render.keyboards import keyboard_json
from bot.service.context import Context
from bot.service.indexing import Indexing
from bot.service.localize import Localize
from bot.service.preferences import Preferences
from bot.service.subscribers import Chat, Subscribers, schedule_of
from bot.store.base import iso
from bot.store.rows import CandidateRow, NewDigest, Subscription

log = logging.getLogger(__name__)

# A story not yet summarized this long after it was stored goes out with its own text rather than wait (a backlog,
# a slow machine); younger ones wait for the next digest.
ENRICH_GRACE = timedelta(minutes=30)
REPLY, SCHEDULED = 0, 1  # outbox priorities: replies to commands go first
ROUND_CHUNK = 500  # subscribers composed and stored per transaction in a round


@dataclass(frozen=True)
class Queued:
    """What /digest did: `stories` new stories in `parts` messages (0 and 0: nothing new)."""

    stories: int
    parts: int


@dataclass(frozen=True)
class RoundReport:
    due: int = 0
    digests: int = 0
    messages: int = 0
    empty: int = 0  # due with nothing new: no message, the next slot is set
    busy: int = 0  # being composed by a /digest at the same moment: taken at the next round


class KeyedLocks:
    """One asyncio lock per key, kept while anyone holds or waits for it (and forgotten after)."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    def busy(self, key: int) -> bool:
        return key in self._locks

    @contextlib.asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users > 1:
                self._locks[key] = (lock, users - 1)
            else:
                del self._locks[key]


class Digests:
    def __init__(
        self,
        ctx: Context,
        subscribers: Subscribers,
        localize: Localize,
        indexing: Indexing,
        preferences: Preferences,
    ) -> None:
        self.ctx = ctx
        self.subscribers = subscribers
        self.preferences = preferences
        self.localize = localize
        self.indexing = indexing
        self._composing = KeyedLocks()  # one digest at a time per subscriber
        # Set by the Telegram front-end once it knows its name: a channel's digest then carries 📖 URL buttons to the
        # deep link (a channel post has no presser to answer); without it, channels get no buttons.
        self.bot_username: str | None = None

    @property
    def cap(self) -> int:
        return self.ctx.settings.digest_max_stories

    async def preview(self, lang: str, since: timedelta) -> Digest:
        """The digest a new subscriber reading `lang` would get now, covering `since` (nothing is recorded)."""
        now = self.ctx.now()
        rows = await self._candidates(now - since, now)
        candidates = await self._made(rows)
        pool = merge(
            candidates, await self._clusters(candidates, await self._vectors([c.story_id for c in candidates])), lang
        )
        chosen = select(pool, delivered=(), topics=(), now=now, cap=self.cap)
        return await self._localize(chosen.chosen, chosen.more, {r.story.id: r for r in rows}, lang, {})

    async def digest_now(self, chat: Chat, request: str | None = None) -> Queued:
        """/digest: the stories this subscriber has not received, queued ahead of scheduled traffic.

        `request` (the Telegram update id) keys the digest: the same update handled twice (after a crash, say) makes
        one digest, not two.
        """
        subscription = await self.subscribers.active(chat)
        key = f"now:{request or uuid.uuid4().hex}"
        async with self._composing.hold(subscription.id):  # a double-tapped /digest: the second finds them delivered
            now = self.ctx.now()
            [made] = await self._compose([subscription], now)
            if made is None:
                raise NewsbotError(f"the digest of subscription {subscription.id} could not be composed")
            digest, parts = made
            if not digest.items:
                return Queued(0, 0)
            new = _new_digest(subscription, key, digest, parts, REPLY)
            await self.ctx.db(self.ctx.store.save_digests, [new], now)
        return Queued(len(digest.items), len(parts))

    async def run_due(self) -> RoundReport:
        """One scheduled round: every subscriber whose slot has come gets one digest (one catch-up digest however
        many slots a downtime missed), or nothing if nothing is new; their next slot is set either way."""
        now = self.ctx.now()
        due = await self.ctx.db(self.ctx.store.due_subscriptions, now)
        report = RoundReport(due=len(due))
        for start in range(0, len(due), ROUND_CHUNK):
            report = await self._round_chunk(due[start : start + ROUND_CHUNK], now, report)
        if report.digests or report.empty:
            log.info(
                "digest round: %d due, %d digests in %d messages, %d with nothing new",
                report.due,
                report.digests,
                report.messages,
                report.empty,
            )
        return report

    async def _round_chunk(self, due: Sequence[Subscription], now: datetime, report: RoundReport) -> RoundReport:
        async with contextlib.AsyncExitStack() as held:
            free = []
            for subscription in due:
                if not self._composing.busy(subscription.id):  # a /digest is composing it: next round
                    await held.enter_async_context(self._composing.hold(subscription.id))
                    free.append(subscription)
            composed = await self._compose(free, now)
            new, empty = [], []
            for subscription, made in zip(free, composed, strict=True):
                if made is None:
                    continue  # could not be composed (logged): tried again next round
                digest, parts = made
                schedule = schedule_of(subscription)
                upcoming = iso(next_slot(schedule, now))
                if not digest.items:
                    empty.append((subscription.id, upcoming, subscription.next_digest_at))
                    continue
                key = f"slot:{iso(last_slot(schedule, now))}"
                new.append(
                    _new_digest(
                        subscription,
                        key,
                        digest,
                        parts,
                        SCHEDULED,
                        next_digest_at=upcoming,
                        expected_next=subscription.next_digest_at,
                    )
                )
            saved = await self.ctx.db(self.ctx.store.save_digests, new, now)
            await self.ctx.db(self.ctx.store.advance_schedules, empty)
        return RoundReport(
            due=report.due,
            digests=report.digests + saved,
            messages=report.messages + sum(len(d.parts) for d in new),
            empty=report.empty + len(empty),
            busy=report.busy + len(due) - len(free),
        )

    async def _candidates(self, since: datetime, now: datetime) -> list[CandidateRow]:
        return await self.ctx.db(self.ctx.store.digest_candidates, since=since, now=now, ready_by=now - ENRICH_GRACE)

    async def _compose(
        self, subscriptions: Sequence[Subscription], now: datetime
    ) -> list[tuple[Digest, list[Message]] | None]:
        """Each subscriber's digest and its messages; stories and renderings shared by subscribers are made once."""
        if not subscriptions:
            return []
        windows = {s.id: max(datetime.fromisoformat(s.window_start), now - MAX_AGE) for s in subscriptions}
        rows = await self._candidates(min(windows.values()), now)
        by_id = {row.story.id: row for row in rows}
        candidates = await self._made(rows)
        feedback = await self.preferences.feedback([s.id for s in subscriptions])
        rated = {i for f in feedback.values() for i in f.story_feeds}
        vectors = await self._vectors([*(c.story_id for c in candidates), *rated])
        groups = await self._clusters(candidates, vectors)
        delivered = await self.ctx.db(self.ctx.store.delivered, [s.id for s in subscriptions], list(by_id))
        items: dict[tuple[int, str, tuple[str, ...]], DigestItem] = {}
        rendered: dict[tuple[str, tuple[int, ...], int, str | None], list[Message]] = {}
        pools: dict[tuple[str, datetime, frozenset[int]], list[Candidate]] = {}
        results: list[tuple[Digest, list[Message]] | None] = []
        for subscription in subscriptions:
            since, said = windows[subscription.id], feedback[subscription.id]
            reader = Reader(frozenset(said.off), said.votes, said.opened, said.story_feeds)
            key = (subscription.lang, since, reader.off)
            if key not in pools:
                window = [
                    c
                    for c in candidates
                    if datetime.fromisoformat(by_id[c.story_id].story.created_at) >= since and shown(c, reader.off)
                ]
                pools[key] = merge(window, groups, subscription.lang)
            chosen = select(
                pools[key],
                delivered=delivered[subscription.id],
                topics=subscription.topics,
                now=now,
                cap=self.cap,
                reader=reader,
                vectors=vectors,
            )
            try:
                digest = await self._localize(chosen.chosen, chosen.more, by_id, subscription.lang, items)
            except Exception:  # a bug with one story or language must not cost every other subscriber the round
                log.exception("the digest of subscription %s could not be composed", subscription.id)
                results.append(None)
                continue
            link_to = self.bot_username if subscription.kind == "channel" else None
            shape = (subscription.lang, tuple(digest.story_ids), digest.more, link_to)
            if shape not in rendered:
                t = texts(subscription.lang)
                rendered[shape] = digest_messages(digest, t, bot_username=link_to) if digest.items else []
            results.append((digest, rendered[shape]))
        return results

    async def _made(self, rows: Sequence[CandidateRow]) -> list[Candidate]:
        """The candidates, each with how many watchlist names it mentions."""
        settings = (await self.preferences.feeds.sync()).settings
        watchlist = [(w.name, *w.aliases) for w in settings.watchlist]
        return [_candidate(row, watchlist) for row in rows]

    async def _vectors(self, story_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of the configured embedder, of those stories that have one."""
        return await self.indexing.vectors.get(story_ids)

    async def _clusters(self, candidates: Sequence[Candidate], vectors: dict[int, np.ndarray]) -> list[list[int]]:
        """The candidates grouped by event (bot.digest.clusters), on their vectors."""
        threshold = THRESHOLD.get(self.indexing.key)
        if threshold is None:  # an embedder nobody tuned a threshold for: every story stands alone
            return [[c.story_id] for c in candidates]
        ids = [c.story_id for c in candidates]
        at = {c.story_id: c.at for c in candidates}
        return clusters(ids, vectors, at, threshold=threshold, feeds={c.story_id: c.sources for c in candidates})

    async def _localize(
        self,
        chosen: Sequence[Candidate],
        more: int,
        rows: dict[int, CandidateRow],
        lang: str,
        cache: dict[tuple[int, str, tuple[str, ...]], DigestItem],
    ) -> Digest:
        items = []
        for candidate in chosen:
            key = (candidate.story_id, lang, candidate.sources)
            if key not in cache:
                row = rows[candidate.story_id]
                story = row.story
                localized = await self.localize.localized(story, lang, hint=row.lang_hint)
                cache[key] = DigestItem(
                    title=localized.title,
                    summary=short_summary(localized.summary, localized.lang),
                    link=story.link,
                    sources=candidate.sources,
                    original_lang=None if localized.translated else localized.lang,
                    source_links=candidate.source_links,
                    languages=max(1, len(candidate.langs)),
                    story_id=candidate.story_id,
                )
            items.append(cache[key])
        return Digest(lang, items, more, [i for c in chosen for i in c.story_ids()])


def _new_digest(
    subscription: Subscription,
    key: str,
    digest: Digest,
    parts: Sequence[Message],
    priority: int,
    *,
    next_digest_at: str | None = None,
    expected_next: str | None = None,
) -> NewDigest:
    """A composed digest ready to store: its messages' texts and keyboards, its stories."""
    return NewDigest(
        subscription.id,
        subscription.chat_id,
        subscription.thread_id,
        key,
        digest.story_ids,
        [part.text for part in parts],
        priority,
        next_digest_at=next_digest_at,
        expected_next=expected_next,
        markups=[keyboard_json(part.keyboard) for part in parts],
    )


def _candidate(row: CandidateRow, watchlist: Sequence[Sequence[str]]) -> Candidate:
    story = row.story
    stored = datetime.fromisoformat(story.created_at)
    published = datetime.fromisoformat(story.published) if story.published else None
    # A publication date after the story was stored is a feed's mistake (time zones, future-dated posts).
    at = published if published is not None and published <= stored else stored
    made = Candidate(
        story_id=story.id,
        title=story.title,
        at=at,
        sources=row.sources,
        link=story.link,
        lang=story.lang,
        title_en=story.title_en,
        summary_en=story.summary_en,
        feeds=row.feeds,
    )
    return replace(made, watched=mentions(watchlist, made.texts())) if watchlist else made
