"""The ranking against simulated readers: today's recency ranking, the new one without feedback and with it, side by
side in one run.

Run from the repository root: `python benchmarks/ranking.py [--readers 40] [--seed 7] [--json]`. Never a test.

The stories are every item of the real multilingual feeds in ../shared/corpora/feeds/real/ (parsed by the bot's own
parser; about 30 feeds, from a single item to 300) and the QA corpus's stories (tests/data/qa), embedded once with
the bot's e5 embedder, each published at a random moment of two weeks. Their topics are k-means clusters of those
vectors. Each simulated reader has hidden interests: a few topics they like and one busy feed they dislike (a story
is liked when it is of a liked topic and not from that feed). Twice a day each reader gets a digest of 15 from each
ranking (its own history of deliveries and presses per ranking) and presses, with noise: 👍 on a liked story at 40 %,
📖 at 30 %, 👎 on a story not liked at 25 % (50 % from the disliked feed), and now and then the wrong button.
Printed: the share of liked stories per digest over days 8-14, the largest number of one feed's stories in a digest
over its 15 slots, and the time to rank 5,000 candidates for a reader with 300 presses (p95 of 40 runs, wall and
this thread's CPU time: on a shared machine the first includes waiting for a core).
`--json`: one object with `baseline_liked_share`, `unlearned_liked_share`, `learned_liked_share`,
`max_feed_share`, `baseline_max_feed_share`, `rank_ms_p95`, `baseline_rank_ms_p95`, `rank_cpu_ms_p95`,
`baseline_rank_cpu_ms_p95`, the machine's load and the run's sizes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.digest.compose import DEFAULT_CAP, MAX_AGE, Candidate, Selection  # noqa: E402
from bot.digest.rank import Reader, select  # noqa: E402
from bot.feeds.parse import parse_feed  # noqa: E402
from summarizer.embed import make_embedder  # noqa: E402
from tests.qa_corpus import stories as qa_stories  # noqa: E402
from tests.realfeeds import real_feeds  # noqa: E402

START = datetime(2026, 11, 2, tzinfo=UTC)
DAYS = 14
DIGEST_HOURS = (8, 18)
TOPICS = 10
LIKED_TOPICS = 3
LEARNED_FROM_DAY = 7  # days 8-14 (counted from 1) are measured


@dataclass(frozen=True)
class Item:
    feed: int
    feed_name: str
    lang: str
    title: str
    text: str


def load_items() -> list[Item]:
    items, feeds = [], {}
    for feed in real_feeds():
        try:
            parsed = parse_feed(feed.path.read_bytes(), url="https://feeds.example/", content_type=feed.content_type)
        except Exception:  # the corpus holds broken feeds on purpose: the bot refuses them too
            continue
        name = parsed.title or feed.path.name
        number = feeds.setdefault(str(feed.path), len(feeds))
        items += [Item(number, name, feed.lang, e.title, e.text) for e in parsed.entries if e.title]
    for story in qa_stories():
        number = feeds.setdefault(f"qa:{story['feed']}", len(feeds))
        items.append(Item(number, story["feed"], story["lang"], story["title"], story["text"]))
    return items


def embedded(texts: list[str], cache: Path | None) -> np.ndarray:
    """e5 passage vectors of the texts (about 7 minutes on two loaded cores), kept in `cache` for the next run."""
    key = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    path = cache / f"ranking-e5-{key}.npy" if cache else None
    if path is not None and path.exists():
        return np.load(path)
    matrix = make_embedder("e5").passages(texts)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, matrix)
    return matrix


def kmeans(vectors: np.ndarray, k: int, rng: np.random.Generator, rounds: int = 30) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)
    centres = centred[rng.choice(len(centred), k, replace=False)]
    for _ in range(rounds):
        labels = np.argmax(centred @ centres.T, axis=1)
        for j in range(k):
            members = centred[labels == j]
            if len(members):
                centres[j] = members.mean(axis=0) / max(np.linalg.norm(members.mean(axis=0)), 1e-9)
    return np.argmax(centred @ centres.T, axis=1)


@dataclass
class Simulated:
    """One reader under one ranking: what they got and what they pressed."""

    liked_topics: frozenset[int]
    disliked_feed: int
    delivered: set[int] = field(default_factory=set)
    votes: dict[int, int] = field(default_factory=dict)
    opened: set[int] = field(default_factory=set)
    shares: list[float] = field(default_factory=list)  # liked share of each measured digest
    largest: float = 0.0  # the most slots one feed held in a digest, over the cap

    def likes(self, c: Candidate, topic: dict[int, int]) -> bool:
        return topic[c.story_id] in self.liked_topics and c.feeds[0] != self.disliked_feed

    def reader(self) -> Reader:
        return Reader(
            votes=dict(self.votes),
            opened=frozenset(self.opened),
            story_feeds={i: FEED_OF[i] for i in (*self.votes, *self.opened)},
        )


FEED_OF: dict[int, tuple[int, ...]] = {}
Ranker = Callable[[Sequence[Candidate], Collection[int], datetime, Simulated], Selection]


def recency(candidates: Sequence[Candidate], delivered: Collection[int], now: datetime) -> Selection:
    """Today's ranking before this change: newer first, each extra source counting six hours fresher."""
    wanted = [c for c in candidates if c.story_id not in delivered]
    wanted.sort(key=lambda c: (now - c.at - timedelta(hours=6) * (len(c.sources) - 1), -c.story_id))
    return Selection(wanted[:DEFAULT_CAP], max(0, len(wanted) - DEFAULT_CAP))


def press(sim: Simulated, chosen: Sequence[Candidate], topic: dict[int, int], rng: np.random.Generator) -> None:
    for c in chosen:
        liked = sim.likes(c, topic)
        if liked:
            up, down, read = 0.40, 0.03, 0.30
        else:
            up, down, read = 0.03, 0.50 if c.feeds[0] == sim.disliked_feed else 0.25, 0.05
        draw = rng.random()
        if draw < up:
            sim.votes[c.story_id] = 1
        elif draw < up + down:
            sim.votes[c.story_id] = -1
        if rng.random() < read:
            sim.opened.add(c.story_id)


def simulate(
    candidates: list[Candidate], topic: dict[int, int], readers: list[Simulated], rank: Ranker, seed: int
) -> list[Simulated]:
    rng = np.random.default_rng(seed)
    for day in range(DAYS):
        for hour in DIGEST_HOURS:
            now = START + timedelta(days=day, hours=hour)
            window = [c for c in candidates if now - MAX_AGE <= c.at <= now]
            for sim in readers:
                chosen = rank(window, sim.delivered, now, sim).chosen
                sim.delivered |= {c.story_id for c in chosen}
                if chosen:
                    most = Counter(c.feeds[0] for c in chosen).most_common(1)[0][1]
                    sim.largest = max(sim.largest, most / DEFAULT_CAP)
                if day >= LEARNED_FROM_DAY and chosen:
                    sim.shares.append(sum(sim.likes(c, topic) for c in chosen) / len(chosen))
                press(sim, chosen, topic, rng)
    return readers


def timing(candidates: list[Candidate], vectors: dict[int, np.ndarray], rng: np.random.Generator) -> dict[str, float]:
    """p95 milliseconds to rank 5,000 candidates for one reader with 300 presses, the new ranking and today's: wall
    time, and this thread's CPU time (on a shared machine, the part that does not wait for a core)."""
    now = START + timedelta(days=DAYS)
    many, big = [], {}
    for n in range(5000):
        source = candidates[n % len(candidates)]
        story_id = 1_000_000 + n
        many.append(replace(source, story_id=story_id, at=now - timedelta(minutes=int(rng.integers(0, 72 * 60)))))
        big[story_id] = vectors[source.story_id]
    rated = rng.choice(len(candidates), 300, replace=False)
    reader = Reader(
        votes={candidates[i].story_id: int(rng.choice([-1, 1])) for i in rated[:200]},
        opened=frozenset(candidates[i].story_id for i in rated[200:]),
        story_feeds={c.story_id: c.feeds for c in candidates},
    )
    big |= vectors
    runs: dict[str, list[float]] = {"new": [], "new_cpu": [], "today": [], "today_cpu": []}
    for _ in range(40):
        for name, rank in (
            ("new", lambda: select(many, delivered=(), topics=(), now=now, reader=reader, vectors=big)),
            ("today", lambda: recency(many, (), now)),
        ):
            wall, cpu = time.perf_counter(), time.thread_time()
            rank()
            runs[name].append((time.perf_counter() - wall) * 1000)
            runs[f"{name}_cpu"].append((time.thread_time() - cpu) * 1000)
    return {name: float(np.percentile(values, 95)) for name, values in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()),
        help="where the stories' vectors are kept between runs",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    items = load_items()
    began = time.perf_counter()
    matrix = embedded([f"{i.title}\n{i.text}" for i in items], args.cache)
    embed_s = time.perf_counter() - began
    labels = kmeans(matrix, TOPICS, rng)
    candidates, vectors, topic = [], {}, {}
    for n, (item, label) in enumerate(zip(items, labels.tolist(), strict=True), start=1):
        at = START + timedelta(minutes=int(rng.integers(0, DAYS * 24 * 60)))
        candidates.append(
            Candidate(
                n, item.title, at, (item.feed_name,), None, lang=item.lang, summary_en=item.text, feeds=(item.feed,)
            )
        )
        vectors[n], topic[n] = matrix[n - 1], label
        FEED_OF[n] = (item.feed,)
    sizes = Counter(i.feed for i in items)
    busy = [feed for feed, count in sizes.items() if count >= 30]

    def readers() -> list[Simulated]:
        pick = np.random.default_rng(args.seed + 1)
        return [
            Simulated(frozenset(pick.choice(TOPICS, LIKED_TOPICS, replace=False).tolist()), int(pick.choice(busy)))
            for _ in range(args.readers)
        ]

    def today(c: Sequence[Candidate], d: Collection[int], now: datetime, sim: Simulated) -> Selection:
        return recency(c, d, now)

    def unlearned(c: Sequence[Candidate], d: Collection[int], now: datetime, sim: Simulated) -> Selection:
        return select(c, delivered=d, topics=(), now=now, vectors=vectors)

    def learned(c: Sequence[Candidate], d: Collection[int], now: datetime, sim: Simulated) -> Selection:
        return select(c, delivered=d, topics=(), now=now, reader=sim.reader(), vectors=vectors)

    runs = {
        name: simulate(candidates, topic, readers(), rank, args.seed)
        for name, rank in (("today", today), ("new", unlearned), ("new+feedback", learned))
    }
    liked = {name: statistics.fmean(s for sim in sims for s in sim.shares) for name, sims in runs.items()}
    largest = {name: max(sim.largest for sim in sims) for name, sims in runs.items()}
    timed = timing(candidates, vectors, rng)
    result = {
        "baseline_liked_share": round(liked["today"], 3),
        "unlearned_liked_share": round(liked["new"], 3),
        "learned_liked_share": round(liked["new+feedback"], 3),
        "learned_ratio": round(liked["new+feedback"] / liked["today"], 2),
        "max_feed_share": round(max(largest["new"], largest["new+feedback"]), 3),
        "baseline_max_feed_share": round(largest["today"], 3),
        "rank_ms_p95": round(timed["new"], 2),
        "baseline_rank_ms_p95": round(timed["today"], 2),
        "rank_cpu_ms_p95": round(timed["new_cpu"], 2),
        "baseline_rank_cpu_ms_p95": round(timed["today_cpu"], 2),
        "load_average": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
        "stories": len(items),
        "feeds": len(sizes),
        "readers": args.readers,
        "days": DAYS,
        "embed_seconds": round(embed_s, 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{len(items)} stories of {len(sizes)} feeds over {DAYS} days, {args.readers} readers, {TOPICS} topics "
        f"(each reader likes {LIKED_TOPICS}, dislikes one busy feed); embedded in {embed_s:.0f} s"
    )
    print(f"{'':38}{'today':>10}{'new':>10}{'new+feedback':>14}")
    print(
        f"{'liked share per digest, days 8-14':38}"
        + "".join(f"{liked[n]:>{w}.3f}" for n, w in (("today", 10), ("new", 10), ("new+feedback", 14)))
    )
    print(
        f"{'  ratio to today':38}"
        + "".join(f"{liked[n] / liked['today']:>{w}.2f}" for n, w in (("today", 10), ("new", 10), ("new+feedback", 14)))
    )
    print(
        f"{'largest feed share of a digest (of 15)':38}"
        + "".join(f"{largest[n]:>{w}.3f}" for n, w in (("today", 10), ("new", 10), ("new+feedback", 14)))
    )
    print(f"{'rank 5,000 candidates, p95 ms':38}{timed['today']:>10.2f}{'':>10}{timed['new']:>14.2f}")
    print(f"{'  of it CPU time, p95 ms':38}{timed['today_cpu']:>10.2f}{'':>10}{timed['new_cpu']:>14.2f}")
    print(f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
