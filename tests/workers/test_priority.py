"""Priorities: with a backlog of 200 stories queued, a reader's translation is served by the worker's next free slot,
not behind the backlog (asserted on the order answers come in, not on time)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.service import make_service
from bot.service.model_work import EnrichJob, Priority, TranslateJob
from summarizer.types import Article
from tests.corpora import flores_lines
from tests.httpserver import FeedServer
from tests.tinymodels import TinyModels
from tests.workers.fleet import Worker, environment, serve_feed, settings_of, wait_for_workers, write_feeds_yaml
from tests.workers.redis import RedisServer

BATCH = 8
BACKLOG_JOBS = 25  # 200 stories


@pytest.mark.slow
async def test_an_interactive_translation_goes_before_the_backlog(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels, redis_server: RedisServer, redis_url: str
) -> None:
    feeds = write_feeds_yaml(tmp_path / "feeds.yaml", serve_feed(feed_server, 1), tiny_models)
    env = environment(tmp_path, feeds, redis_url)
    service = make_service(settings_of(env))
    worker = Worker(env, "only", tmp_path / "only.log")
    order: list[str] = []
    lines = flores_lines("en", BATCH * BACKLOG_JOBS)
    try:
        config = await service.engines.config()
        wait_for_workers(redis_server.client(), [worker])
        backlog = []
        for n in range(BACKLOG_JOBS):
            articles = [Article(title=line[:40], text=line) for line in lines[BATCH * n : BATCH * (n + 1)]]
            job = asyncio.ensure_future(service.model_work.enrich(EnrichJob(config, articles, Priority.BACKLOG)))
            job.add_done_callback(lambda _, n=n: order.append(f"backlog {n}"))
            backlog.append(job)
        redis = redis_server.client()
        while redis.llen("newsbot-backlog") < BACKLOG_JOBS - 2:  # all sent; the worker has taken one or two
            await asyncio.sleep(0.02)
        reader = TranslateJob(config, ["A reader waits for this."], "en", "de", Priority.INTERACTIVE)
        translation = await service.model_work.translate(reader)
        order.append("reader")
        assert translation.texts and translation.model == str(tiny_models.en_de)
        served_before = order.index("reader")
        assert served_before <= 2, order  # the one running when it came, and at most one more being answered
        assert redis.llen("newsbot-backlog") >= BACKLOG_JOBS - 4  # the backlog is still there, behind it
    finally:
        for job in backlog:
            job.cancel()
        worker.stop()
        await service.aclose()
