"""Enrichment passes: newest first, a failing story tried once per pass with a backoff and again when the models
change, a missing engine recorded on every story, polling going on while a backlog is worked off."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.errors import ModelError
from bot.service import Service, make_service
from summarizer.extractive import ExtractiveEngine
from summarizer.types import Article, EngineConfig, Enriched, Translation
from tests.httpserver import FeedServer, Route
from tests.test_service import make_settings


def rss(items: Sequence[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>https://news.example/{guid}</link><guid>{guid}</guid>"
        f"<description>{title} is the news. It happened today in the city. Many people were there.</description></item>"
        for guid, title in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{body}</channel></rss>'.encode()


class FlakyEngine:
    """The extractive engine, except that an article whose title holds a word in `poison` raises, in a batch too."""

    def __init__(self, *, batch_size: int = 4, delay: float = 0.0) -> None:
        self.inner = ExtractiveEngine(EngineConfig(backend="extractive", batch_size=batch_size))
        self.config = self.inner.config
        self.poison: set[str] = set()
        self.delay = delay
        self.calls: list[list[str]] = []  # titles of every process_many / process call, in order
        self.running = threading.Event()

    def _check(self, articles: Sequence[Article]) -> None:
        self.calls.append([a.title for a in articles])
        self.running.set()
        if self.delay:
            time.sleep(self.delay)
        for article in articles:
            if any(word in article.title for word in self.poison):
                raise RuntimeError(f"cannot enrich {article.title!r}")

    def detect_language(self, text: str, hint: str | None = None):  # type: ignore[no-untyped-def]
        return self.inner.detect_language(text, hint)

    def process(self, article: Article) -> Enriched:
        self._check([article])
        return self.inner.process(article)

    def process_many(self, articles: Sequence[Article]) -> list[Enriched]:
        self._check(articles)
        return self.inner.process_many(articles)

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> Translation:
        return self.inner.translate(texts, src, tgt)


def feed_service(
    tmp_path: Path, server: FeedServer, items: Sequence[tuple[str, str]], engine: object, clock: list[datetime]
) -> Service:
    server.routes["/feed"] = Route(body=rss(items))
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": server.url("/feed"), "lang": "en"}]}))
    return make_service(make_settings(tmp_path, backend="extractive"), engine=engine, now=lambda: clock[0])  # type: ignore[arg-type]


@pytest.fixture
def clock() -> list[datetime]:
    return [datetime(2026, 11, 25, 12, 0, tzinfo=UTC)]


async def test_a_failing_story_costs_one_attempt_per_pass_and_is_enriched_once_the_engine_works(
    tmp_path: Path, feed_server: FeedServer, clock: list[datetime]
) -> None:
    engine = FlakyEngine(batch_size=2)
    engine.poison = {"Poison"}
    items = [(f"s{i}", f"Story {i}") for i in range(5)] + [("bad", "Poison pill")]
    service = feed_service(tmp_path, feed_server, items, engine, clock)
    try:
        await service.ingest.poll(force=True)
        report = await service.enrichment.enrich()
        assert (report.done, report.failed) == (5, 1)
        assert report.errors == ["RuntimeError: cannot enrich 'Poison pill'"]
        # Tried alone exactly once after its batch failed: not three times in a row.
        assert sum(calls == ["Poison pill"] for calls in engine.calls) == 1
        bad = await service.stories.get("https://news.example/bad")
        assert bad is not None and not bad.enriched and bad.enrich_error == "RuntimeError: cannot enrich 'Poison pill'"

        # Within its backoff it is not tried again, however many passes run.
        engine.calls.clear()
        assert (await service.enrichment.enrich()).failed == 0 and engine.calls == []
        assert await service.enrichment.pending() == 0
        clock[0] += timedelta(minutes=2)
        assert (await service.enrichment.enrich()).failed == 1  # second failure: the wait grows to 8 minutes
        clock[0] += timedelta(minutes=5)
        assert await service.enrichment.pending() == 0
        clock[0] += timedelta(minutes=3)
        assert await service.enrichment.pending() == 1

        engine.poison = set()  # the cause is fixed
        report = await service.enrichment.enrich()
        assert (report.done, report.failed) == (1, 0)
        bad = await service.stories.get("https://news.example/bad")
        assert bad is not None and bad.enriched and bad.enrich_error is None
    finally:
        await service.aclose()


async def test_changed_models_retry_a_failed_story_at_once(
    tmp_path: Path, feed_server: FeedServer, clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    fingerprint = ["models-v1"]
    monkeypatch.setattr("bot.service.engines.models_fingerprint", lambda config: fingerprint[0])
    engine = FlakyEngine()
    engine.poison = {"Story"}
    service = feed_service(tmp_path, feed_server, [("a", "Story A")], engine, clock)
    try:
        await service.ingest.poll(force=True)
        assert (await service.enrichment.enrich()).failed == 1
        assert await service.enrichment.pending() == 0
        engine.poison = set()
        fingerprint[0] = "models-v2"  # `newsbot models download` fetched what was missing
        assert await service.enrichment.pending() == 1
        assert (await service.enrichment.enrich()).done == 1
    finally:
        await service.aclose()


async def test_newest_stories_are_enriched_first(
    tmp_path: Path, feed_server: FeedServer, clock: list[datetime]
) -> None:
    engine = FlakyEngine(batch_size=2)
    service = feed_service(tmp_path, feed_server, [("old1", "Old one"), ("old2", "Old two")], engine, clock)
    try:
        await service.ingest.poll(force=True)
        clock[0] += timedelta(minutes=20)
        feed_server.routes["/feed"] = Route(body=rss([("new1", "New one"), ("old1", "Old one"), ("old2", "Old two")]))
        await service.ingest.poll(force=True)
        await service.enrichment.enrich()
        assert engine.calls[0] == ["New one", "Old two"]  # stored last first; then id order, newest first
    finally:
        await service.aclose()


async def test_a_missing_summarizer_is_recorded_on_every_story(
    tmp_path: Path, feed_server: FeedServer, clock: list[datetime]
) -> None:
    feed_server.routes["/feed"] = Route(body=rss([("a", "Story A"), ("b", "Story B")]))
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": feed_server.url("/feed")}]}))
    service = make_service(make_settings(tmp_path, model_dir=tmp_path / "empty-models"), now=lambda: clock[0])
    try:
        await service.ingest.poll(force=True)
        with pytest.raises(ModelError, match="newsbot models download"):
            await service.engines.engine()
        report = await service.enrichment.enrich()
        assert report.failed == 2 and "is not available" in report.errors[0]
        for guid in "ab":
            story = await service.stories.get(f"https://news.example/{guid}")
            assert story is not None and "distilbart" in (story.enrich_error or "")
        assert (await service.enrichment.enrich()).failed == 0  # said once per backoff, not every tick
    finally:
        await service.aclose()


async def test_polling_goes_on_while_a_backlog_is_enriched(
    tmp_path: Path, feed_server: FeedServer, clock: list[datetime]
) -> None:
    engine = FlakyEngine(batch_size=4, delay=0.2)  # 100 stories: 25 batches, 5 s of "model work"
    service = feed_service(tmp_path, feed_server, [(f"s{i}", f"Story {i}") for i in range(100)], engine, clock)
    stop = asyncio.Event()
    try:
        await service.ingest.poll(force=True)
        assert await service.enrichment.pending() == 100
        worker = asyncio.create_task(service.enrichment.work(stop, asyncio.Event(), tick=60))
        await asyncio.to_thread(engine.running.wait, 5)
        feed_server.routes["/feed"] = Route(body=rss([("fresh", "Fresh news")]))
        started = time.monotonic()
        [result] = await service.ingest.poll(force=True)
        polled_in = time.monotonic() - started
        remaining = await service.enrichment.pending()
        assert result.new == 1 and remaining > 50, (polled_in, remaining)  # the poll did not wait for the backlog
        stop.set()
        await asyncio.wait_for(worker, 5)  # stops between batches
        assert await service.enrichment.pending() > 0
    finally:
        stop.set()
        await service.aclose()


def test_the_backoff_is_capped_however_often_a_story_fails() -> None:
    from bot.service.enrichment import MAX_RETRY, next_attempt

    now = datetime(2026, 11, 25, tzinfo=UTC)
    assert [next_attempt(now, n) - now for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (2, 8, 32)]
    assert next_attempt(now, 10_000) - now == MAX_RETRY  # no overflow after weeks of failures


async def test_a_long_pass_tries_a_failing_story_once(
    tmp_path: Path, feed_server: FeedServer, clock: list[datetime]
) -> None:
    engine = FlakyEngine(batch_size=1)
    engine.poison = {"Poison"}
    real_check = engine._check

    def slow_batches(articles: Sequence[Article]) -> None:
        clock[0] += timedelta(minutes=3)  # each batch takes longer than the first backoff
        real_check(articles)

    engine._check = slow_batches  # type: ignore[method-assign]
    items = [(f"s{i}", f"Story {i}") for i in range(4)] + [("bad", "Poison pill")]  # the newest: tried first
    service = feed_service(tmp_path, feed_server, items, engine, clock)
    try:
        await service.ingest.poll(force=True)
        report = await service.enrichment.enrich()
        assert (report.done, report.failed) == (4, 1)
        assert sum("Poison pill" in calls for calls in engine.calls) == 1
    finally:
        await service.aclose()


async def test_the_engine_is_built_again_when_feeds_yaml_changes_its_models(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed"] = Route(body=rss([]))
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump({"settings": {"languages": ["en", "it"]}, "feeds": []}))
    service = make_service(make_settings(tmp_path, backend="extractive"))
    try:
        first = await service.engines.engine()
        assert first is await service.engines.engine()  # built once while nothing changes
        path.write_text(yaml.safe_dump({"settings": {"languages": ["en", "it", "de"]}, "feeds": []}))
        os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        second = await service.engines.engine()
        assert second is not first and second.config.languages == ("en", "it", "de")
        assert await service.subscribers.languages() == ["en", "it", "de"]
    finally:
        await service.aclose()


async def test_a_question_is_answered_while_an_enrichment_batch_holds_the_model_thread(
    tmp_path: Path, feed_server: FeedServer, clock: list[datetime]
) -> None:
    engine = HeldEngine()
    service = feed_service(tmp_path, feed_server, [("s1", "Chip maker buys a startup")], engine, clock)
    embedder = service.indexing.embedder
    asked_with: list[int | None] = []
    queries = embedder.queries

    def spy(texts: Sequence[str], *, threads: int | None = None) -> Any:
        asked_with.append(threads)
        return queries(texts, threads=threads)

    embedder.queries = spy  # type: ignore[method-assign]
    try:
        await service.ask.retrieve("Who bought the startup?")  # idle: the pools' own threads
        await service.ingest.poll(force=True)
        batch = asyncio.create_task(service.enrichment.enrich())
        assert await asyncio.to_thread(engine.running.wait, 10)
        found = await asyncio.wait_for(service.ask.retrieve("Who bought the startup?"), 10)
        assert not batch.done()  # answered while the batch still held the model thread
        assert asked_with == [None, 1] and found.query.shape == (embedder.dim,)
        engine.release.set()
        assert (await asyncio.wait_for(batch, 10)).done == 1
    finally:
        engine.release.set()
        await service.aclose()


class HeldEngine(FlakyEngine):
    """Its batches wait (at most 30 s) until the test releases them."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def _check(self, articles: Sequence[Article]) -> None:
        super()._check(articles)
        self.release.wait(30)


async def test_a_question_does_not_queue_on_the_model_thread_for_the_engine_it_built(
    tmp_path: Path, feed_server: FeedServer, clock: list[datetime]
) -> None:
    service = feed_service(tmp_path, feed_server, [("s1", "Chip maker buys a startup")], None, clock)  # feeds.yaml's
    busy, release = threading.Event(), threading.Event()

    def hold() -> None:  # model work in progress: a batch, a model loading
        busy.set()
        release.wait(30)

    try:
        await service.ask.retrieve("Who bought the startup?")  # the first question builds the engine there
        holder = asyncio.ensure_future(service.ctx.model(hold))
        assert await asyncio.to_thread(busy.wait, 10)
        await asyncio.wait_for(service.ask.retrieve("Who bought the startup?"), 10)
        assert not holder.done()
    finally:
        release.set()
        await service.aclose()
