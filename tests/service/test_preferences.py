"""Readers' preferences on a real SQLite store: one vote per reader and story (the last one counts), opens, feeds
switched off and on per subscription; a stale or forged choice changes nothing; retention and /stop take them along."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.errors import StaleChoiceError
from bot.service import Chat
from tests.httpserver import FeedServer
from tests.service.test_digests import World

READER, FRIEND = 11, 12
GROUP = Chat(-100, kind="supergroup", title="AI club")


@pytest.fixture
async def world(tmp_path: Path, feed_server: FeedServer):  # type: ignore[no-untyped-def]
    made = World(tmp_path, feed_server)
    await made.publish([("a", "Story A about chips"), ("b", "Story B about robots")])
    yield made
    await made.service.aclose()


async def stories(world: World) -> list[int]:
    return sorted(s.id for s in await world.service.stories.recent())


async def test_a_new_vote_replaces_the_old_one_and_group_members_vote_each_for_themselves(world: World) -> None:
    prefs = world.service.preferences
    sub = (await world.service.subscribers.start(GROUP)).subscription
    a, b = await stories(world)
    await prefs.vote(sub.id, READER, a, +1)
    await prefs.vote(sub.id, READER, a, -1)  # 👍 then 👎: one vote, 👎
    assert await prefs.vote_of(sub.id, READER, a) == -1
    assert world.service.store.db.execute("SELECT count(*) FROM story_votes").fetchone()[0] == 1
    await prefs.vote(sub.id, FRIEND, a, -1)
    await prefs.vote(sub.id, FRIEND, b, +1)
    await prefs.opened(sub.id, READER, b)
    await prefs.opened(sub.id, READER, b)  # opening twice is one sign
    assert await prefs.vote_of(sub.id, FRIEND, a) == -1 and await prefs.vote_of(sub.id, READER, b) == 0
    feedback = (await prefs.feedback([sub.id]))[sub.id]
    assert feedback.votes == {a: -2, b: 1} and feedback.opened == {b}
    [wire] = {f for f in feedback.story_feeds.values()}
    assert feedback.story_feeds == {a: wire, b: wire} and len(wire) == 1  # for the feed's rating


async def test_stale_or_forged_choices_change_nothing(world: World) -> None:
    prefs = world.service.preferences
    sub = (await world.service.subscribers.start(Chat(READER))).subscription
    [a, _] = await stories(world)
    [feed, *_] = await prefs.sources(sub.id)
    for forged in (
        prefs.vote(sub.id, READER, 999_999, +1),  # no such story
        prefs.vote(sub.id, READER, a, 7),  # not a vote
        prefs.vote(sub.id + 1, READER, a, +1),  # no such subscription
        prefs.opened(sub.id, READER, 999_999),
        prefs.set_source(sub.id, 999_999, False),  # no such feed
        prefs.mute_feed(sub.id + 1, feed.feed_id),
    ):
        with pytest.raises(StaleChoiceError):
            await forged
    await world.service.subscribers.stop(Chat(READER))
    with pytest.raises(StaleChoiceError):
        await prefs.vote(sub.id, READER, a, +1)  # a replayed button after /stop
    with pytest.raises(StaleChoiceError):
        await prefs.set_source(sub.id, feed.feed_id, False)
    db = world.service.store.db
    assert [
        db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("story_votes", "story_opens", "sources_off")
    ] == [0, 0, 0]


async def test_a_muted_feed_shows_off_and_turns_back_on_for_that_subscription_only(world: World) -> None:
    prefs = world.service.preferences
    mine = (await world.service.subscribers.start(Chat(READER))).subscription
    theirs = (await world.service.subscribers.start(Chat(FRIEND))).subscription
    wire, echo, foglio = await prefs.sources(mine.id)
    assert all(s.on and not s.muted for s in (wire, echo, foglio)) and wire.name == "Wire"
    await prefs.mute_feed(mine.id, wire.feed_id)
    await prefs.set_source(mine.id, echo.feed_id, False)
    assert [(s.on, s.muted) for s in await prefs.sources(mine.id)] == [(False, True), (False, False), (True, False)]
    assert all(s.on for s in await prefs.sources(theirs.id))
    assert (await prefs.feedback([mine.id]))[mine.id].off == {wire.feed_id: True, echo.feed_id: False}
    await prefs.set_source(mine.id, wire.feed_id, True)
    await prefs.set_source(mine.id, wire.feed_id, True)  # on twice: still on
    assert [s.on for s in await prefs.sources(mine.id)] == [True, False, True]


async def test_retention_and_stop_take_votes_and_opens_along(world: World) -> None:
    prefs, store = world.service.preferences, world.service.store
    sub = (await world.service.subscribers.start(Chat(READER))).subscription
    a, b = await stories(world)
    await prefs.vote(sub.id, READER, a, +1)
    await prefs.opened(sub.id, READER, a)
    world.clock[0] += timedelta(days=2)
    await world.publish([("c", "Story C about models")])
    [c] = [i for i in await stories(world) if i not in (a, b)]
    await prefs.vote(sub.id, READER, c, -1)
    await prefs.opened(sub.id, READER, c)
    store.prune_before(world.clock[0] - timedelta(days=1))  # a and b are older
    assert (await prefs.feedback([sub.id]))[sub.id].votes == {c: -1}
    assert store.db.execute("SELECT story_id FROM story_opens").fetchall() == [(c,)]
    [wire, *_] = await prefs.sources(sub.id)
    await prefs.mute_feed(sub.id, wire.feed_id)
    await world.service.subscribers.stop(Chat(READER))
    assert [
        store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("story_votes", "story_opens", "sources_off")
    ] == [0, 0, 0]


async def test_the_next_digest_is_balanced_reads_only_feeds_left_on_and_drops_excluded_words(world: World) -> None:
    service, chat = world.service, Chat(READER, language_code="en")
    sub = (await service.subscribers.start(chat)).subscription
    await world.publish([(f"w{n}", f"Wire story {n} on chips") for n in range(18)])  # 20 stories in all
    await world.publish([("e1", "Echo story on robots")], path="/other")
    await world.publish([("i1", "Storia del Foglio sui modelli")], path="/it")
    await service.digests.digest_now(chat, request="1")
    first = "\n".join(world.texts())
    wire_titles = ["Story A about chips", "Story B about robots", *(f"Wire story {n} on chips" for n in range(18))]
    assert sum(title in first for title in wire_titles) == 5  # of 20: a third of the digest's 15
    assert "Echo story on robots" in first and "Storia del Foglio" in first

    _, echo, _ = await service.preferences.sources(sub.id)
    await service.preferences.mute_feed(sub.id, echo.feed_id)
    await world.publish([("e2", "Echo story on GPUs")], path="/other")
    sent = len(world.texts())
    await service.digests.digest_now(chat, request="2")
    second = "\n".join(world.texts()[sent:])
    assert "Wire story" in second and "Echo" not in second

    await service.preferences.set_source(sub.id, echo.feed_id, True)  # /sources turns it back on
    await service.subscribers.set_topics(chat, "-crypto")
    await world.publish([("e3", "Echo story on crypto tokens")], path="/other")
    sent = len(world.texts())
    await service.digests.digest_now(chat, request="3")
    third = "\n".join(world.texts()[sent:])
    assert "Echo story on GPUs" in third and "crypto" not in third.lower()


async def test_a_story_naming_someone_on_the_watchlist_leads(world: World, tmp_path: Path) -> None:
    listing = tmp_path / "feeds.yaml"
    loaded = yaml.safe_load(listing.read_text())
    loaded["settings"]["watchlist"] = [{"name": "Mistral AI", "aliases": ["Mistral"]}]
    listing.write_text(yaml.safe_dump(loaded))
    chat = Chat(READER, language_code="en")
    await world.service.subscribers.start(chat)
    await world.publish([("m", "Mistral ships a model"), ("o", "Another lab ships a model")])  # the same age
    await world.service.digests.digest_now(chat, request="1")
    [text] = world.texts()
    assert text.index("Mistral ships") < text.index("Another lab ships") < text.index("Story B")
