"""The ranking: which of the stories a subscriber has not received go into their digest, best first. Pure: the
candidates, what the reader said, the stories' vectors and `now` in, a selection out; no I/O.

A story's score is counted in hours of freshness, so that every part reads the same way:
- importance: minus its age, plus SOURCE_BONUS for each extra feed telling the event, LANGUAGE_BONUS for each extra
  language and WATCH_BONUS for a watchlist name;
- the reader: plus up to TASTE_HOURS for how close it lies to what they liked (👍, and opening an article a little)
  and away from what they disliked (👎), measured on the stories' embeddings, and up to FEED_TASTE_HOURS for how they
  rated its feed's stories. Both are shrunk towards nothing by a prior of indifference, so that a new subscriber gets
  the base ranking and one 👎 moves a topic by a few hours, never out of sight;
- a quiet feed (at most QUIET_PER_DAY stories a day) whose story the reader does not dislike counts it as fresh: a
  busy feed's newer stories do not push it out before it is too old to send (MAX_AGE).
Then the pick is balanced: each story already taken from a feed makes that feed's next one FEED_STEP older, and when
three or more feeds have stories in the window no feed takes more than a third of the digest. Switched-off feeds and excluded
topics never appear.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from bot.digest.compose import DEFAULT_CAP, Candidate, Selection
from bot.digest.topics import matches

SOURCE_BONUS = 6.0  # hours per extra feed telling the event (the ranking before preferences had this alone)
LANGUAGE_BONUS = 6.0  # hours per extra language it was told in
WATCH_BONUS = 6.0  # hours when it names someone on the watchlist
TASTE_HOURS = 36.0
FEED_TASTE_HOURS = 24.0
PRIOR = 6.0  # votes' worth of indifference the taste is shrunk by
OPEN_WEIGHT = 0.5  # an opened article, not voted on: half a 👍
DISLIKE_WEIGHT = 0.25  # a 👎 says less about a topic than a 👍 (the story, the source, the day may be what was wrong)
MAX_WEIGHT = 2.0  # a group's votes on one story count at most this much
FEED_STEP = 2.0  # hours a feed's next story loses for each one already taken from it
BALANCE_FEEDS = 3  # with this many feeds having candidates, none takes more than a third
QUIET_PER_DAY = 4  # a feed with at most this many stories a day in the window is quiet


@dataclass(frozen=True)
class Reader:
    """What a subscription's readers said (bot.store.preferences.Feedback, with the feeds of the stories they rated)."""

    off: frozenset[int] = frozenset()  # feeds switched off (muted or in /sources)
    votes: Mapping[int, int] = field(default_factory=dict)  # story id -> its readers' votes, summed
    opened: frozenset[int] = frozenset()
    story_feeds: Mapping[int, tuple[int, ...]] = field(default_factory=dict)  # rated or opened story -> its feeds

    def weights(self) -> dict[int, float]:
        """story id -> how much the readers liked it (negative: disliked)."""
        found = {
            i: min(v, MAX_WEIGHT) if v > 0 else max(v, -MAX_WEIGHT) * DISLIKE_WEIGHT for i, v in self.votes.items() if v
        }
        for i in self.opened:
            found.setdefault(i, OPEN_WEIGHT)
        return found


def lead_feed(candidate: Candidate) -> int | str:
    """The feed a story counts for in the balance: the first feed of the story shown."""
    return candidate.feeds[0] if candidate.feeds else candidate.sources[0] if candidate.sources else ""


def shown(candidate: Candidate, off: Collection[int]) -> bool:
    """Whether any of the story's feeds is on (a story carried by no known feed is shown)."""
    return not candidate.feeds or any(f not in off for f in candidate.feeds)


def importance(candidate: Candidate) -> float:
    """The hours of freshness a story's extra sources, languages and watchlist names are worth."""
    languages = len(candidate.langs)
    return (
        SOURCE_BONUS * (len(candidate.sources) - 1)
        + (LANGUAGE_BONUS * (languages - 1) if languages > 1 else 0.0)
        + (WATCH_BONUS if candidate.watched else 0.0)
    )


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def preference(candidates: Sequence[Candidate], reader: Reader, vectors: Mapping[int, np.ndarray]) -> np.ndarray:
    """Each candidate's preference score in hours: its closeness to the readers' taste plus its feed's rating."""
    scores = np.zeros(len(candidates), dtype=np.float32)
    weights = reader.weights()
    if not weights:
        return scores
    total = sum(abs(w) for w in weights.values()) + PRIOR
    rated = [i for i in weights if i in vectors]
    placed = [n for n, c in enumerate(candidates) if c.story_id in vectors]
    if rated and placed:
        # Centred on the candidates' mean: e5's cosines sit high for any two texts, the differences tell the topic.
        # (The embedders' vectors are L2-normalised already.)
        pool = np.array([vectors[candidates[n].story_id] for n in placed])
        centre = pool.mean(axis=0)
        weighed = np.array([weights[i] for i in rated], dtype=pool.dtype)
        taste = weighed @ _unit(np.array([vectors[i] for i in rated]) - centre) / total
        # (v - centre) · taste / |v - centre|, without making the centred matrix: one product with the pool.
        along = pool @ np.stack([centre, taste], axis=1)
        squares = np.einsum("ij,ij->i", pool, pool) - 2 * along[:, 0] + centre @ centre
        scores[placed] = TASTE_HOURS * (along[:, 1] - centre @ taste) / np.sqrt(np.maximum(squares, 1e-12))
    feed_sum: dict[int, float] = {}
    feed_count: dict[int, int] = {}
    for story_id, weight in weights.items():
        for feed in reader.story_feeds.get(story_id, ()):
            feed_sum[feed] = feed_sum.get(feed, 0.0) + weight
            feed_count[feed] = feed_count.get(feed, 0) + 1
    if feed_sum:
        rating = {feed: FEED_TASTE_HOURS * total / (feed_count[feed] + PRIOR) for feed, total in feed_sum.items()}
        scores += np.fromiter(
            (rating.get(c.feeds[0], 0.0) if c.feeds else 0.0 for c in candidates), dtype=np.float32, count=len(scores)
        )
    return scores


def select(
    candidates: Sequence[Candidate],
    *,
    delivered: Collection[int],
    topics: Sequence[str],
    now: datetime,
    cap: int = DEFAULT_CAP,
    reader: Reader | None = None,
    vectors: Mapping[int, np.ndarray] | None = None,
) -> Selection:
    """The stories for one digest: not yet delivered, from a feed the reader reads, matching their topics and
    exclusions, best first and balanced across feeds, at most `cap`; `more` counts those left for later."""
    reader = reader or Reader()
    readable = [c for c in candidates if shown(c, reader.off)] if reader.off else list(candidates)
    leads = [lead_feed(c) for c in readable]
    # The feeds with stories in the window, delivered or not: a busy feed does not fill a digest because the quiet
    # ones' stories went out earlier.
    counts = Counter(leads)
    limit = max(1, cap // 3) if len(counts) >= BALANCE_FEEDS else cap
    oldest = min((c.at for c in readable), default=now)
    days = max(1.0, (now - oldest) / timedelta(days=1))
    quiet = {feed for feed, count in counts.items() if count <= QUIET_PER_DAY * days}
    wanted = [
        (c, feed)
        for c, feed in zip(readable, leads, strict=True)
        if not (delivered and any(i in delivered for i in c.story_ids())) and (not topics or matches(topics, c.texts()))
    ]
    if not wanted:
        return Selection([], 0)
    liking = preference([c for c, _ in wanted], reader, vectors or {})
    # Scores in numpy (hours since `now`); a quiet feed's story the reader does not dislike keeps its freshness until
    # it is too old to send.
    stamp = now.timestamp()
    ages = (stamp - np.fromiter((c.at.timestamp() for c, _ in wanted), dtype=np.float64, count=len(wanted))) / 3600
    fresh = np.fromiter((feed in quiet for _, feed in wanted), dtype=bool, count=len(wanted)) & (liking >= 0)
    bonus = np.fromiter((importance(c) for c, _ in wanted), dtype=np.float64, count=len(wanted))
    scores = bonus - np.where(fresh, 0.0, ages) + liking
    ids = np.fromiter((c.story_id for c, _ in wanted), dtype=np.int64, count=len(wanted))
    queues: dict[int | str, list[tuple[float, int, Candidate]]] = {}
    for n in np.lexsort((-ids, -scores)).tolist():  # best first; a tie: the newer id
        c, feed = wanted[n]
        queue = queues.setdefault(feed, [])
        if len(queue) < limit:
            queue.append((-float(scores[n]), -c.story_id, c))
    heads: list[tuple[float, int, int | str]] = []
    order = {feed: n for n, feed in enumerate(queues)}
    for feed, queue in queues.items():
        heads.append((queue[0][0], order[feed], feed))
    heapq.heapify(heads)
    taken: dict[int | str, int] = {}
    chosen: list[Candidate] = []
    while heads and len(chosen) < cap:
        _, n, feed = heapq.heappop(heads)
        count = taken.get(feed, 0)
        chosen.append(queues[feed][count][2])
        taken[feed] = count + 1
        if taken[feed] < min(limit, len(queues[feed])):
            heapq.heappush(heads, (queues[feed][count + 1][0] + FEED_STEP * taken[feed], n, feed))
    return Selection(chosen, len(wanted) - len(chosen))
