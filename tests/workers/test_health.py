"""`newsbot health` and /health with a broker: the queue's depth per priority, the workers seen lately and their
devices, jobs failed, the last refusal; exit 1 while the broker is configured but unreachable."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.i18n import texts
from bot.render.admin import health_blocks
from bot.service import make_service
from bot.workers.app import FAILED_KEY, REFUSED_KEY, WORKER_KEY
from tests.test_service import make_settings
from tests.workers.redis import RedisServer, free_port


def beat(tmp_path: Path) -> None:
    import asyncio

    async def body() -> None:
        service = make_service(make_settings(tmp_path, backend="extractive"))
        try:
            await service.ctx.db(service.ctx.store.beat, "run", datetime.now(UTC), 4242)
        finally:
            await service.aclose()

    asyncio.run(body())


def env_for(tmp_path: Path, broker_url: str) -> dict[str, str]:
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": []}))
    return {"NEWSBOT_DB": str(tmp_path / "newsbot.db"), "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
            "NEWSBOT_BACKEND": "extractive", "NEWSBOT_BROKER_URL": broker_url}  # fmt: skip


def test_health_shows_the_queues_the_workers_and_failed_jobs(
    tmp_path: Path, redis_server: RedisServer, redis_url: str
) -> None:
    env = env_for(tmp_path, redis_url)
    beat(tmp_path)
    redis = redis_server.client()
    seen = {"name": "gpu-1", "device": "cuda", "concurrency": 4, "models": "abc", "pid": 1, "seen_at": time.time()}
    redis.set(WORKER_KEY + "gpu-1", json.dumps(seen))
    redis.lpush("newsbot-backlog", "x", "y", "z")
    redis.lpush("newsbot-interactive", "x")
    redis.set(FAILED_KEY, 2)
    redis.set(REFUSED_KEY, json.dumps({"reason": "old-cpu: a job for models 'a'", "at": time.time()}))
    result = CliRunner().invoke(app, ["health", "--json"], env=env)
    assert result.exit_code == 0, result.output
    broker = json.loads(result.stdout)["broker"]
    assert broker["reachable"] and broker["queues"] == {"interactive": 1, "fresh": 0, "backlog": 3}
    assert [(w["name"], w["device"], w["concurrency"]) for w in broker["workers"]] == [("gpu-1", "cuda", 4)]
    assert broker["jobs_failed"] == 2 and broker["last_refusal"].startswith("old-cpu")
    text = CliRunner().invoke(app, ["health"], env=env).stdout
    assert "worker gpu-1: cuda, 4 slot(s)" in text and "backlog 3" in text

    async def report():  # type: ignore[no-untyped-def]
        service = make_service(make_settings(tmp_path, backend="extractive", broker_url=redis_url))
        try:
            return await service.health.report()
        finally:
            await service.aclose()

    import asyncio

    shown = "\n".join(span.text for block in health_blocks(asyncio.run(report()), texts("de")) for span in block)
    assert "Worker gpu-1: cuda, 4 Plätze" in shown and "3 Rückstand" in shown and "fehlgeschlagene Aufträge: 2" in shown


def test_health_exits_1_while_the_broker_is_unreachable(tmp_path: Path) -> None:
    env = env_for(tmp_path, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    beat(tmp_path)
    result = CliRunner().invoke(app, ["health", "--json"], env=env)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["broker"]["reachable"] is False
    assert any("broker" in problem and "unreachable" in problem for problem in report["problems"])
