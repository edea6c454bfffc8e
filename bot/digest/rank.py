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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

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


def importance(candidates: Sequence[Candidate]) -> np.ndarray:
    """The hours of freshness each story's extra sources, languages and watchlist names are worth."""
    sources = np.array([len(c.sources) for c in candidates], dtype=np.float64)
    languages = np.array([len(c.langs) for c in candidates], dtype=np.float64)
    watched = np.array([c.watched > 0 for c in candidates], dtype=bool)
    return (
        SOURCE_BONUS * (sources - 1)
        + LANGUAGE_BONUS * np.maximum(languages - 1, 0.0)
        + np.where(watched, WATCH_BONUS, 0.0)
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
    found = [vectors.get(c.story_id) for c in candidates]
    placed = [n for n, v in enumerate(found) if v is not None]
    if rated and placed:
        # Centred on the candidates' mean: e5's cosines sit high for any two texts, the differences tell the topic.
        # (The embedders' vectors are L2-normalised already.)
        pool = np.array([found[n] for n in placed])
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
        scores += np.array([rating.get(c.feeds[0], 0.0) if c.feeds else 0.0 for c in candidates], dtype=np.float32)
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
    # The feeds with stories in the window, delivered or not: a busy feed does not fill a digest because the quiet
    # ones' stories went out earlier. Each feed gets a number, its code, for the arrays below.
    codes: dict[int | str, int] = {}
    feed_of = np.array([codes.setdefault(lead_feed(c), len(codes)) for c in readable], dtype=np.intp)
    limit = max(1, cap // 3) if len(codes) >= BALANCE_FEEDS else cap
    stamp = now.timestamp()
    stamps = np.array([c.at.timestamp() for c in readable], dtype=np.float64)
    days = max(1.0, (stamp - stamps.min()) / 86400) if len(stamps) else 1.0
    quiet = np.bincount(feed_of, minlength=len(codes)) <= QUIET_PER_DAY * days  # by feed code
    keep = [
        n
        for n, c in enumerate(readable)
        if not (delivered and any(i in delivered for i in c.story_ids())) and (not topics or matches(topics, c.texts()))
    ]
    if not keep:
        return Selection([], 0)
    wanted = [readable[n] for n in keep]
    liking = preference(wanted, reader, vectors or {})
    # Scores in hours since `now`; a quiet feed's story the reader does not dislike keeps its freshness until it is
    # too old to send.
    feeds = feed_of[keep]
    ages = (stamp - stamps[keep]) / 3600
    scores = importance(wanted) - np.where(quiet[feeds] & (liking >= 0), 0.0, ages) + liking
    ids = np.array([c.story_id for c in wanted], dtype=np.int64)
    order = np.lexsort((-ids, -scores))  # best first; a tie: the newer id
    # Only a feed's best `limit` can be picked: its place among its own feed's stories, from a stable sort by feed.
    ordered = feeds[order]
    by_feed = np.argsort(ordered, kind="stable")
    grouped = ordered[by_feed]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    place = np.empty(len(order), dtype=np.intp)
    place[by_feed] = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    queues: dict[int, list[tuple[float, int, Candidate]]] = {}
    for n in order[place < limit].tolist():
        c = wanted[n]
        queues.setdefault(int(feeds[n]), []).append((-float(scores[n]), -c.story_id, c))
    heads = [(queue[0][0], n, feed) for n, (feed, queue) in enumerate(queues.items())]
    heapq.heapify(heads)
    taken: dict[int, int] = {}
    chosen: list[Candidate] = []
    while heads and len(chosen) < cap:
        _, n, feed = heapq.heappop(heads)
        count = taken.get(feed, 0)
        chosen.append(queues[feed][count][2])
        taken[feed] = count + 1
        if taken[feed] < len(queues[feed]):
            heapq.heappush(heads, (queues[feed][count + 1][0] + FEED_STEP * taken[feed], n, feed))
    return Selection(chosen, len(wanted) - len(chosen))
