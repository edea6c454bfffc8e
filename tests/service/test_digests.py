"""Digests through the service: each subscriber's own stories exactly once, late-enriched stories not lost, models
missing yet a digest sent, scheduled rounds across DST, one catch-up digest after downtime, no empty digests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.service import Chat, Service, make_service
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import FlakyEngine, rss
from tests.telegram_html import parse
from tests.test_service import make_settings


class World:
    """A feed on the local server, a service on an injected clock, and helpers to grow the feed."""

    def __init__(self, tmp_path: Path, server: FeedServer, *, real_engine: bool = False, **settings: object) -> None:
        self.server = server
        self.clock = [datetime(2026, 11, 25, 12, 0, tzinfo=UTC)]
        self.items: list[tuple[str, str]] = []
        self.engine = FlakyEngine(batch_size=8)
        server.routes["/feed"] = Route(body=rss([]))
        server.routes["/other"] = Route(body=rss([]))
        server.routes["/it"] = Route(body=rss([]))
        (tmp_path / "feeds.yaml").write_text(
            yaml.safe_dump(
                {
                    "settings": {"languages": ["en", "it", "de"]},
                    "feeds": [
                        {"url": server.url("/feed"), "title": "Wire", "lang": "en"},
                        {"url": server.url("/other"), "title": "Echo", "lang": "en"},
                        {"url": server.url("/it"), "title": "Il Foglio"},
                    ],
                }
            )
        )
        options = {"backend": "extractive", **settings}
        self.service: Service = make_service(
            make_settings(tmp_path, **options), engine=None if real_engine else self.engine, now=lambda: self.clock[0]
        )

    async def publish(self, items: Sequence[tuple[str, str]], *, enrich: bool = True, path: str = "/feed") -> None:
        self.items += list(items)
        self.server.routes[path] = Route(body=rss(self.items if path == "/feed" else list(items)))
        await self.service.ingest.poll(force=True)
        if enrich:
            await self.service.enrichment.enrich()

    def outbox(self) -> dict[str, tuple[str, int | None, str | None]]:
        return self.service.store.outbox_states()

    def texts(self) -> list[str]:
        rows = self.service.store.db.execute("SELECT text FROM outbox ORDER BY id").fetchall()
        return [parse(text)[0] for (text,) in rows]


@pytest.fixture
async def world(tmp_path: Path, feed_server: FeedServer):  # type: ignore[no-untyped-def]
    made = World(tmp_path, feed_server)
    yield made
    await made.service.aclose()


async def test_digest_now_gives_each_story_once_then_nothing_new(world: World) -> None:
    chat = Chat(1, language_code="en")
    await world.service.subscribers.start(chat)
    await world.publish([(f"s{i}", f"Story {i:02d} about a thing") for i in range(30)])
    queued = await world.service.digests.digest_now(chat, request="update-1")
    assert queued.stories == 15 and queued.parts >= 1  # capped at 15, "and 15 more"
    shown = world.texts()
    assert "…and 15 more stories" in shown[-1]
    again = await world.service.digests.digest_now(chat, request="update-2")
    assert again.stories == 15  # the 15 left out come next
    assert (await world.service.digests.digest_now(chat, request="update-3")).stories == 0
    everything = "\n".join(world.texts())
    for i in range(30):
        assert everything.count(f"Story {i:02d} about a thing\n") == 1, i
    # The same update handled twice (a restart before Telegram saw our offset) makes one digest, not two.
    await world.publish([("late", "A late one")])
    first = await world.service.digests.digest_now(chat, request="update-9")
    rows_before = len(world.outbox())
    await world.service.digests.digest_now(chat, request="update-9")
    assert first.stories == 1 and len(world.outbox()) == rows_before


async def test_a_story_enriched_late_reaches_the_next_digest(world: World) -> None:
    chat = Chat(2)
    await world.service.subscribers.start(chat)
    await world.publish([("a", "Quick story")])
    await world.publish([("b", "Slow story")], enrich=False)  # stored, its summary not made yet
    assert (await world.service.digests.digest_now(chat, request="1")).stories == 1
    assert "Slow story" not in "".join(world.texts())
    world.clock[0] += timedelta(minutes=10)
    await world.service.enrichment.enrich()
    # Not lost behind a time watermark: delivered stories are tracked one by one.
    assert (await world.service.digests.digest_now(chat, request="2")).stories == 1
    assert "Slow story" in world.texts()[-1]


async def test_a_story_that_failed_goes_out_with_its_own_text_and_the_reason_is_kept(world: World) -> None:
    chat = Chat(9)
    await world.service.subscribers.start(chat)
    world.engine.poison = {"Broken"}
    await world.publish([("b", "Broken story")])
    assert (await world.service.digests.digest_now(chat, request="1")).stories == 1
    [text] = world.texts()
    assert "Broken story is the news." in text and "not translated" not in text  # English, for an English reader
    story = await world.service.stories.get("https://news.example/b")
    assert story is not None and story.enrich_error == "RuntimeError: cannot enrich 'Broken story'"


async def test_a_story_waiting_for_its_summary_is_held_back_then_sent_with_its_own_text(world: World) -> None:
    chat = Chat(3)
    await world.service.subscribers.start(chat)
    await world.publish([("w", "Waiting story")], enrich=False)
    assert (await world.service.digests.digest_now(chat, request="1")).stories == 0
    world.clock[0] += timedelta(minutes=31)  # a backlog must not hold news back for ever
    assert (await world.service.digests.digest_now(chat, request="2")).stories == 1


async def test_with_no_models_a_digest_still_arrives_with_original_language_summaries(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # The real transformers engine, built from the (empty) model directory.
    world = World(tmp_path, feed_server, real_engine=True, backend="transformers", model_dir=tmp_path / "no-models")
    try:
        chat = Chat(4, language_code="de")
        await world.service.subscribers.start(chat)
        body = (
            "L'azienda ha presentato oggi un nuovo modello linguistico. Il modello è più veloce del precedente. "
            "Gli sviluppatori possono usarlo da subito. Il prezzo è di due dollari per milione di token."
        )
        world.server.routes["/it"] = Route(
            body=(
                '<?xml version="1.0"?><rss version="2.0"><channel><title>IT</title><item><title>Un nuovo modello'
                f"</title><link>https://news.example/it</link><guid>it</guid><description>{body}</description>"
                "</item></channel></rss>"
            ).encode()
        )
        await world.service.ingest.poll(force=True)
        report = await world.service.enrichment.enrich()
        assert report.failed == 1 and "newsbot models download" in report.errors[0]
        assert (await world.service.digests.digest_now(chat, request="1")).stories == 1
        [text] = world.texts()
        assert "Un nuovo modello" in text and "L'azienda ha presentato oggi un nuovo modello linguistico." in text
        assert "Il Foglio · not translated, original in IT" in text  # detected from the text itself
    finally:
        await world.service.aclose()


async def test_scheduled_digests_fire_at_07_30_rome_across_the_dst_change(world: World) -> None:
    chat = Chat(5)
    world.clock[0] = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # Friday; clocks go forward on Sunday 29 March
    await world.service.subscribers.start(chat)
    await world.service.subscribers.set_schedule(chat, "07:30 Europe/Rome")
    fired = []
    for hour in range(0, 24 * 4):  # an hourly scheduler tick for four days, with news every hour
        world.clock[0] = datetime(2026, 3, 27, 12, 0, tzinfo=UTC) + timedelta(hours=hour, minutes=1)
        await world.publish([(f"n{hour}", f"News of hour {hour}")])
        world.clock[0] += timedelta(minutes=30)
        if (await world.service.digests.run_due()).digests:
            fired.append(world.clock[0])
    keys = sorted(k.split(":", 1)[1].rsplit(":", 1)[0] for k in world.outbox())
    assert keys == [
        "slot:2026-03-28T06:30:00+00:00",  # 07:30 CET
        "slot:2026-03-29T05:30:00+00:00",  # 07:30 CEST
        "slot:2026-03-30T05:30:00+00:00",
        "slot:2026-03-31T05:30:00+00:00",
    ], keys
    # Each digest fires at the first hourly tick (HH:31 UTC) after its slot, not hours later.
    assert fired == [
        datetime(2026, 3, 28, 6, 31, tzinfo=UTC),
        datetime(2026, 3, 29, 5, 31, tzinfo=UTC),
        datetime(2026, 3, 30, 5, 31, tzinfo=UTC),
        datetime(2026, 3, 31, 5, 31, tzinfo=UTC),
    ], fired


async def test_downtime_gives_one_catch_up_digest_and_no_empty_ones(world: World) -> None:
    chat = Chat(6)
    await world.service.subscribers.start(chat)  # 08:00 UTC daily
    await world.publish([("a", "Before the outage")])
    world.clock[0] = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # down for three mornings
    report = await world.service.digests.run_due()
    assert (report.due, report.digests) == (1, 1)
    assert list(world.outbox()) == ["1:slot:2026-11-28T08:00:00+00:00:1"]
    sub = await world.service.subscribers.get(chat)
    assert sub is not None and sub.next_digest_at == "2026-11-29T08:00:00+00:00"
    world.clock[0] = datetime(2026, 11, 29, 8, 0, 30, tzinfo=UTC)
    report = await world.service.digests.run_due()
    assert (report.due, report.digests, report.empty) == (1, 0, 1)  # nothing new: no message
    assert len(world.outbox()) == 1


async def test_topics_filter_and_a_story_from_two_feeds_appears_once(world: World) -> None:
    chat = Chat(8)
    await world.service.subscribers.start(chat)
    await world.service.subscribers.set_topics(chat, "quantum, open source")
    await world.publish([("q", "Quantum chips get cheaper"), ("x", "Weather is fine"), ("o", "Meta goes Open Source")])
    # The same article in a second feed: one story, two sources.
    world.server.routes["/other"] = Route(body=rss([("o", "Meta goes Open Source")]))
    await world.service.ingest.poll(force=True)
    assert (await world.service.digests.digest_now(chat, request="1")).stories == 2
    [text] = world.texts()
    assert "Weather" not in text and "Quantum chips get cheaper" in text
    assert text.count(". Meta goes Open Source\n") == 1 and "Wire · also: Echo" in text
    assert text.index("Meta goes Open Source") < text.index("Quantum chips")  # two sources rank first


async def test_three_quick_digests_share_no_story(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = Chat(11)
    await world.service.subscribers.start(chat)
    await world.publish([(f"s{i}", f"Story {i}") for i in range(5)])
    real = world.service.localize.localized

    async def slow(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.05)  # translation takes a while: the taps overlap
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(world.service.localize, "localized", slow)
    results = await asyncio.gather(*(world.service.digests.digest_now(chat, request=f"tap-{n}") for n in range(3)))
    assert sorted(q.stories for q in results) == [0, 0, 5]
    rows = world.service.store.db.execute("SELECT count(*), count(DISTINCT story_id) FROM deliveries").fetchone()
    assert rows == (5, 5)


async def test_a_stop_or_a_new_schedule_during_a_round_wins(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    stopping, rescheduling = Chat(12), Chat(13)
    for chat in (stopping, rescheduling):
        await world.service.subscribers.start(chat)
    stopping_id = getattr(await world.service.subscribers.get(stopping), "id", None)
    await world.publish([("a", "Story A")])
    world.clock[0] = datetime(2026, 11, 26, 8, 0, 30, tzinfo=UTC)
    real = world.service.localize.localized
    changed = False

    async def meanwhile(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        nonlocal changed
        if not changed:  # while the round composes: one subscriber stops, the other moves their time
            changed = True
            await world.service.subscribers.stop(stopping)
            await world.service.subscribers.set_schedule(rescheduling, "21:00")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(world.service.localize, "localized", meanwhile)
    report = await world.service.digests.run_due()
    assert report.due == 2 and report.digests == 1
    assert await world.service.subscribers.get(stopping) is None  # forgotten, and nothing queued for it
    assert stopping_id is not None and not any(k.startswith(f"{stopping_id}:") for k in world.outbox())
    moved = await world.service.subscribers.get(rescheduling)
    assert moved is not None and moved.next_digest_at == "2026-11-26T21:00:00+00:00"  # not the old 08:00's next
