"""A job no worker can take (the only workers run other models, or none is alive) fails with that reason after a
grace, rather than waiting for ever: stories are retried by a later pass, a reader gets the text untranslated."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from bot.errors import ModelError
from bot.service import make_service
from bot.service.model_work import Priority, TranslateJob
from bot.workers.app import FAILED_KEY, WORKER_KEY
from bot.workers.payloads import models_identity
from tests.httpserver import FeedServer
from tests.tinymodels import TinyModels
from tests.workers.fleet import Worker, environment, serve_feed, settings_of, wait_for_workers, write_feeds_yaml
from tests.workers.redis import RedisServer

STORIES = 8


@pytest.mark.slow
async def test_a_job_no_worker_can_take_fails_with_the_reason(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels, redis_server: RedisServer, redis_url: str
) -> None:
    url = serve_feed(feed_server, STORIES)
    feeds = write_feeds_yaml(tmp_path / "feeds.yaml", url, tiny_models)
    other = write_feeds_yaml(tmp_path / "other.yaml", url, tiny_models, summarizer=tiny_models.summarizer)
    env = environment(tmp_path, feeds, redis_url)
    service = make_service(settings_of(env))
    service.model_work.no_worker_grace = 20  # type: ignore[attr-defined]
    worker = Worker(env | {"NEWSBOT_FEEDS": str(other)}, "other", tmp_path / "other.log")
    try:
        await service.ingest.poll(force=True)
        wait_for_workers(redis_server.client(), [worker])
        report = await asyncio.wait_for(service.enrichment.enrich(), timeout=120)
        assert (report.done, report.failed) == (0, STORIES)
        [reason] = report.errors
        assert reason.startswith("no worker runs this box's models") and "other runs " in reason, reason
        assert "job refused" in worker.output()  # it was offered the jobs, and took none
        stories = await service.stories.recent(limit=STORIES)
        assert len(stories) == STORIES and {s.enrich_error for s in stories} == {reason}  # what stories show says

        # Once the box has seen for the grace that no worker runs its models, a new job fails at its first look
        # (FLEET_CHECK), not after a grace of its own.
        config = await service.engines.config()
        reader = TranslateJob(config, ["A reader waits for this."], "en", "de", Priority.INTERACTIVE)
        with pytest.raises(ModelError, match="other runs "):
            await asyncio.wait_for(service.model_work.translate(reader), timeout=15)
        worker.stop()  # none alive at all: the same, said so
        with pytest.raises(ModelError, match="none is alive"):
            await asyncio.wait_for(service.model_work.translate(reader), timeout=30)
    finally:
        worker.stop()
        await service.aclose()


@pytest.mark.slow
async def test_a_job_no_live_worker_answers_fails_after_three_sends(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels, redis_server: RedisServer, redis_url: str
) -> None:
    """A worker alive (its sign of life renewed) with the right models that never answers: each copy of the job
    times out, and the third one fails the job, where it used to be sent again for ever."""
    feeds = write_feeds_yaml(tmp_path / "feeds.yaml", serve_feed(feed_server, 1), tiny_models)
    service = make_service(settings_of(environment(tmp_path, feeds, redis_url), job_timeout=5))
    config = await service.engines.config()
    redis = redis_server.client()
    seen = {"name": "hung", "device": "cpu", "concurrency": 1, "models": models_identity(config), "pid": 1}
    try:
        redis.set(WORKER_KEY + "hung", json.dumps(seen | {"seen_at": time.time()}))
        reader = TranslateJob(config, ["A reader waits for this."], "en", "de", Priority.INTERACTIVE)
        began = time.monotonic()
        with pytest.raises(ModelError, match="sent 3 times, 5 s each"):
            await asyncio.wait_for(service.model_work.translate(reader), timeout=60)
        assert time.monotonic() - began >= 15  # three whole timeouts
        assert redis.llen("newsbot-interactive") == 3  # three copies sent, none taken
        assert int(redis.get(FAILED_KEY)) == 3
    finally:
        await service.aclose()
