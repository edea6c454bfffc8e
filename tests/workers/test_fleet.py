"""Model work on real `newsbot worker` processes over a real Redis (issue 23's acceptance): the main box stores
every result once, the same as its own model thread would have written, and a reader's summary comes back through a
translate job."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bot.service import make_service
from bot.service.celery_work import CeleryWork
from tests.httpserver import FeedServer
from tests.tinymodels import TinyModels
from tests.workers.fleet import (
    Worker,
    count_saves,
    enriched,
    environment,
    saves,
    serve_feed,
    settings_of,
    wait_for_workers,
    write_feeds_yaml,
)
from tests.workers.redis import RedisServer

STORIES = 200
FAULT_STORIES = 40


@pytest.mark.slow
async def test_two_workers_enrich_every_story_once_as_the_model_thread_would(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels, redis_server: RedisServer, redis_url: str
) -> None:
    feeds = write_feeds_yaml(tmp_path / "feeds.yaml", serve_feed(feed_server, STORIES), tiny_models)
    (tmp_path / "alone").mkdir()
    alone = make_service(settings_of(environment(tmp_path / "alone", feeds, None)))
    try:  # the reference: today's in-process model thread
        await alone.ingest.poll(force=True)
        assert (await alone.enrichment.enrich()).done == STORIES
    finally:
        await alone.aclose()

    env = environment(tmp_path, feeds, redis_url)
    service = make_service(settings_of(env))
    assert isinstance(service.model_work, CeleryWork)
    workers = [Worker(env, f"w{n}", tmp_path / f"w{n}.log") for n in range(2)]
    try:
        await service.ingest.poll(force=True)
        count_saves(tmp_path / "newsbot.db")
        wait_for_workers(redis_server.client(), workers)
        report = await service.enrichment.enrich()
        assert (report.done, report.failed) == (STORIES, 0), report.errors
        assert await service.enrichment.pending() == 0
        stored = saves(tmp_path / "newsbot.db")
        assert len(stored) == STORIES and set(stored.values()) == {1}  # each story written exactly once
        assert enriched(tmp_path / "newsbot.db") == enriched(tmp_path / "alone" / "newsbot.db")
        assert set(service.model_work.answered) == {"w0", "w1"}  # both took part

        italian = next(s for s in await service.stories.recent(limit=STORIES) if s.lang == "it")
        title, summary = await service.localize.summary_in(italian, "de")
        alone = make_service(settings_of(environment(tmp_path / "alone", feeds, None)))
        try:
            reference = await alone.localize.summary_in(await alone.stories.get(italian.url), "de")
        finally:
            await alone.aclose()
        assert (title, summary) == reference
        assert service.engines._built is None  # the main box ran no model: every output came from a worker
    finally:
        for worker in workers:
            worker.stop()
        await service.aclose()


@pytest.mark.slow
async def test_a_killed_worker_a_redis_restart_and_a_worker_with_other_models_lose_nothing(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels, redis_server: RedisServer, redis_url: str
) -> None:
    """kill -9 of a worker mid-batch, Redis stopped for 10 s mid-run, and a worker whose models differ taking jobs:
    every story is still enriched by the right models, and none is written twice."""
    feeds = write_feeds_yaml(tmp_path / "feeds.yaml", serve_feed(feed_server, FAULT_STORIES), tiny_models)
    other = write_feeds_yaml(tmp_path / "other.yaml", serve_feed(feed_server, FAULT_STORIES), tiny_models,
                             summarizer=tiny_models.summarizer)  # fmt: skip
    # Short enough that the killed worker's job is soon sent again and put back in the queue, long enough for a
    # batch on a busy machine (a copy sent too early is harmless: the first answer counts, and is stored once).
    env = environment(tmp_path, feeds, redis_url) | {"NEWSBOT_JOB_TIMEOUT": "30"}
    service = make_service(settings_of(env, job_timeout=30, jobs_in_flight=4))
    db = tmp_path / "newsbot.db"
    workers = [Worker(env, "doomed", tmp_path / "doomed.log"), Worker(env, "steady", tmp_path / "steady.log"),
               Worker(env | {"NEWSBOT_FEEDS": str(other)}, "other", tmp_path / "other.log")]  # fmt: skip
    try:
        await service.ingest.poll(force=True)
        count_saves(db)
        wait_for_workers(redis_server.client(), workers)
        passing = asyncio.ensure_future(service.enrichment.enrich())
        while not saves(db) and not passing.done():
            await asyncio.sleep(0.05)
        redis_server.stop()
        os.kill(workers[0].process.pid, signal.SIGKILL)  # mid-run: it holds a job it will never answer
        await asyncio.sleep(10)
        assert not passing.done()  # the run waits for Redis rather than failing its stories
        assert (await service.health.report()).broker.reachable is False  # and health shows the outage
        redis_server.start()
        report = await asyncio.wait_for(passing, timeout=600)
        assert (report.done, report.failed) == (FAULT_STORIES, 0), report.errors
        stored = saves(db)
        assert len(stored) == FAULT_STORIES and set(stored.values()) == {1}
        assert {m["summarize"] for *_, m in enriched(db).values()} == {str(tiny_models.long_summarizer)}
        assert "job refused: a job for models" in workers[2].output()  # it got jobs, and stored nothing
        assert "other" not in service.model_work.answered
    finally:
        for worker in workers:
            worker.stop()
        await service.aclose()
