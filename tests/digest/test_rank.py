"""The ranking, pure: balance across feeds (a busy feed takes at most a third; a quiet feed's story is delivered before
it is too old), importance (more feeds, more languages, the watchlist), and the reader (switched-off feeds never
appear, votes and opens move stories, a new subscriber gets the base ranking, one 👎 never hides a topic)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.digest.compose import MAX_AGE, Candidate
from bot.digest.rank import Reader, select

T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
BUSY, QUIET_A, QUIET_B = 1, 2, 3


def story(story_id: int, feed: int, at: datetime, **kw: object) -> Candidate:
    fields: dict[str, object] = {"sources": (f"feed {feed}",), "feeds": (feed,), **kw}
    return Candidate(
        story_id=story_id, title=f"Story {story_id}", at=at, link=f"https://news.example/{story_id}", **fields
    )  # type: ignore[arg-type]


def simulate(stories: list[Candidate], digests: list[datetime], cap: int = 15) -> dict[int, datetime]:
    """Digests at the given times over the stories published by then (within MAX_AGE): story id -> when delivered;
    asserts each digest's balance on the way."""
    delivered: dict[int, datetime] = {}
    for at in digests:
        window = [c for c in stories if at - MAX_AGE <= c.at <= at]
        chosen = select(window, delivered=delivered.keys(), topics=(), now=at, cap=cap).chosen
        per_feed = Counter(c.feeds[0] for c in chosen)
        assert max(per_feed.values(), default=0) <= cap // 3, (at, per_feed)
        delivered |= {c.story_id: at for c in chosen}
    return delivered


def test_a_busy_feed_takes_at_most_a_third_and_the_quiet_feeds_all_get_through() -> None:
    # Over a day: one feed publishes 60 items (one every 24 minutes), two publish 3 each; a digest every 4 hours.
    stories = [story(n, BUSY, T0 + timedelta(minutes=24 * n)) for n in range(60)]
    stories += [story(100 + n, QUIET_A, T0 + timedelta(hours=2 + 8 * n)) for n in range(3)]
    stories += [story(200 + n, QUIET_B, T0 + timedelta(hours=3 + 7 * n)) for n in range(3)]
    digests = [T0 + timedelta(hours=4 * k) for k in range(1, 8)]
    delivered = simulate(stories, digests)
    quiet = [c for c in stories if c.feeds[0] != BUSY]
    assert all(c.story_id in delivered and delivered[c.story_id] - c.at <= MAX_AGE for c in quiet)
    assert sum(1 for c in stories if c.feeds[0] == BUSY and c.story_id in delivered) == 5 * len(digests)


def test_a_quiet_feeds_story_is_not_pushed_out_by_many_busy_feeds() -> None:
    # Twenty feeds publish every half hour, more than a digest holds; a quiet one published once, at the start.
    # Digests every 3 hours take the freshest of the busy feeds; the quiet story still goes out within its age limit.
    stories = [story(1000 * f + n, f, T0 + timedelta(minutes=30 * n)) for f in range(10, 30) for n in range(48)]
    lone = story(1, QUIET_A, T0)
    delivered = simulate([lone, *stories], [T0 + timedelta(hours=3 * k) for k in range(1, 9)])
    assert 1 in delivered and delivered[1] - lone.at <= MAX_AGE


def test_importance_more_feeds_more_languages_and_the_watchlist_rank_higher() -> None:
    now = T0 + timedelta(hours=12)
    plain = story(1, 10, now - timedelta(hours=1))
    told_thrice = story(2, 11, now - timedelta(hours=8), sources=("a", "b", "c"))
    three_languages = story(3, 12, now - timedelta(hours=9), langs=("de", "en", "it"))
    watched = story(4, 13, now - timedelta(hours=4), watched=1)
    older = story(5, 14, now - timedelta(hours=5))
    # Busy feeds (their earlier stories delivered), so that no story keeps its freshness as a quiet feed's would.
    earlier = [story(100 * f + n, f, now - timedelta(hours=20)) for f in range(10, 15) for n in range(5)]
    fresh = [plain, told_thrice, three_languages, watched, older]
    chosen = select([*fresh, *earlier], delivered={c.story_id for c in earlier}, topics=(), now=now).chosen
    assert [c.story_id for c in chosen] == [2, 3, 4, 1, 5]


def topic_world(seed: int = 0) -> tuple[list[Candidate], dict[int, np.ndarray]]:
    """Thirty stories of three topics from three feeds, one every 20 minutes (topics and feeds taking turns: story n
    is of topic n % 3 and feed 20 + n // 3 % 3), with embeddings that sit close together as e5's do: a shared
    direction plus a topic direction plus noise."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(32)
    topics = [rng.standard_normal(32) for _ in range(3)]
    stories, vectors = [], {}
    for n in range(30):
        stories.append(story(n + 1, 20 + n // 3 % 3, T0 + timedelta(minutes=20 * n), title_en=f"topic {n % 3}"))
        vectors[n + 1] = 4 * common + topics[n % 3] + 0.3 * rng.standard_normal(32)
    return stories, vectors


def topic_of(c: Candidate) -> int:
    return (c.story_id - 1) % 3


def test_a_new_subscriber_gets_the_base_ranking_and_votes_move_stories() -> None:
    stories, vectors = topic_world()
    now = T0 + timedelta(hours=11)
    base = select(stories, delivered=(), topics=(), now=now, cap=9).chosen
    assert select(stories, delivered=(), topics=(), now=now, cap=9, reader=Reader(), vectors=vectors).chosen == base
    assert Counter(map(topic_of, base)) == {0: 3, 1: 3, 2: 3}
    # Liking two stories of topic 0 and opening a third: the next digest leads with topic 0.
    liked = Reader(votes={1: 1, 4: 1}, opened=frozenset({7}))
    chosen = select(stories, delivered={1, 4, 7}, topics=(), now=now, cap=9, reader=liked, vectors=vectors).chosen
    assert Counter(map(topic_of, chosen))[0] >= 5 and topic_of(chosen[0]) == 0
    opened = Reader(opened=frozenset({1, 4, 7}))  # opening articles alone: a milder sign, the same way
    chosen = select(stories, delivered={1, 4, 7}, topics=(), now=now, cap=9, reader=opened, vectors=vectors).chosen
    assert Counter(map(topic_of, chosen))[0] >= 4


def test_one_dislike_never_hides_a_topic_and_many_push_it_down() -> None:
    stories, vectors = topic_world(1)
    now = T0 + timedelta(hours=11)
    one = Reader(votes={30: -1})  # one 👎 on the newest story of topic 2
    chosen = select(stories, delivered={30}, topics=(), now=now, cap=9, reader=one, vectors=vectors).chosen
    assert Counter(map(topic_of, chosen))[2] >= 2
    disliked = [9, 12, 15, 18, 21, 24, 27, 30]
    assert {topic_of(stories[i - 1]) for i in disliked} == {2}
    many = Reader(votes={i: -1 for i in disliked})
    chosen = select(stories, delivered=disliked, topics=(), now=now, cap=9, reader=many, vectors=vectors).chosen
    assert Counter(map(topic_of, chosen))[2] == 0


def test_a_rated_feed_moves_its_stories_without_vectors() -> None:
    stories, _ = topic_world()
    now = T0 + timedelta(hours=11)
    base = [c.story_id for c in select(stories, delivered=(), topics=(), now=now, cap=30).chosen]
    assert {stories[i - 1].feeds for i in (7, 8, 9)} == {(22,)}
    disliked = Reader(votes={7: -1, 8: -1, 9: -1}, story_feeds={i: (22,) for i in (7, 8, 9)})
    ranked = [c.story_id for c in select(stories, delivered=(), topics=(), now=now, cap=30, reader=disliked).chosen]
    of_22 = [i for i in base if stories[i - 1].feeds == (22,)]
    assert sum(ranked.index(i) for i in of_22) > sum(base.index(i) for i in of_22)


def test_switched_off_feeds_and_excluded_words_never_appear() -> None:
    stories, _ = topic_world()
    stories[4] = story(5, 21, stories[4].at, title_en="Crypto exchange hacked")
    reader = Reader(off=frozenset({20}))
    chosen = select(stories, delivered=(), topics=("-crypto",), now=T0 + timedelta(hours=11), cap=30, reader=reader)
    assert all(c.feeds[0] != 20 for c in chosen.chosen) and 5 not in [c.story_id for c in chosen.chosen]
    assert len(chosen.chosen) + chosen.more == 30 - 12 - 1  # less feed 20's twelve and the crypto story
    # A story some other feed also carries stays: only its muted feed is off.
    shared = story(99, 20, T0, sources=("feed 20", "feed 21"), feeds=(20, 21))
    assert select([shared], delivered=(), topics=(), now=T0, reader=reader).chosen == [shared]


def test_with_two_feeds_a_feeds_next_story_yields_to_the_other_feed() -> None:
    # Two busy feeds (no third: no hard limit), one an hour fresher: the digest still takes from both.
    now = T0 + timedelta(hours=12)
    first = [story(n, 1, now - timedelta(minutes=15 * n)) for n in range(10)]
    second = [story(100 + n, 2, now - timedelta(minutes=60 + 15 * n)) for n in range(10)]
    chosen = select([*first, *second], delivered=(), topics=(), now=now, cap=6).chosen
    assert Counter(c.feeds[0] for c in chosen) == {1: 3, 2: 3}
