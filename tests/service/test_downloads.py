"""The first run's models, fetched in the background against a local server that answers like the hub: progress
lines per model, the state for `newsbot health` while it runs and after, one warning and no retry storm when the hub
refuses, nothing fetched when NEWSBOT_AUTO_DOWNLOAD=0."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest
import yaml

from bot.i18n import texts
from bot.render.admin import download_line
from bot.service import DownloadState, Service, make_service
from summarizer.download import missing_models
from tests.fakehub import SUMMARIZER, hub, serve_repo
from tests.httpserver import FeedServer, Route
from tests.test_service import make_settings
from tests.tinymodels import TinyModels

__all__ = ["hub"]  # the fixture, used by name

pytestmark = pytest.mark.slow  # the tiny models are built once per run, and fetched here


def service_for(tmp_path: Path, endpoint: str, **settings: object) -> Service:
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"settings": {"languages": ["en", "it"]}, "feeds": []}))
    service = make_service(make_settings(tmp_path, backend="transformers", model_dir=tmp_path / "models", **settings))
    service.downloads.endpoint = endpoint
    return service


async def test_missing_models_are_fetched_with_a_progress_line_each_and_their_state_kept(
    hub: FeedServer, tiny_models: TinyModels, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    serve_repo(hub, SUMMARIZER, tiny_models.long_summarizer, rate=300_000)  # some seconds: seen while under way
    service = service_for(tmp_path, hub.url())
    caplog.set_level(logging.INFO, logger="bot")
    try:
        config = await service.engines.config()
        missing = missing_models(config)
        assert len(missing) == 4
        fetching = asyncio.create_task(service.downloads.fetch_missing())
        seen: list[DownloadState] = []
        while not fetching.done():
            state = (await service.health.report()).download
            if state is not None and state.state == "fetching" and state.current == SUMMARIZER:
                seen.append(state)
            await asyncio.sleep(0.2)
        final = await fetching
        after = await service.health.report()
    finally:
        await service.aclose()
    assert final is not None and final.state == "done" and final.done == 4 and sorted(final.models) == sorted(missing)
    assert seen, "the state was saved while the summarizer came in"
    assert download_line(seen[-1], texts("en")).startswith("Downloading models: ")
    assert missing_models(config) == [] and after.missing_models == []
    assert after.download is not None and after.download.state == "done"
    # One line at least per model: its name, MB of its total, a rate.
    for name in missing:
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"downloading {name}: ")]
        assert lines and re.fullmatch(rf"downloading {re.escape(name)}: [\d.]+ of [\d.]+ MB, [\d.]+ MB/s", lines[-1])
    assert "models ready" in caplog.text


async def test_a_hub_that_refuses_gets_one_warning_and_no_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FeedServer() as refusing:
        refusing.routes["/api/models/" + SUMMARIZER] = Route(status=503, body="overloaded")
        service = service_for(tmp_path, refusing.url())
        try:
            stop = asyncio.Event()
            pipeline = asyncio.create_task(service.run_pipeline(stop, tick=0.05))
            for _ in range(100):  # the first attempt, then many ticks of the pipeline
                await asyncio.sleep(0.05)
                state = (await service.health.report()).download
                if state is not None and state.state == "failed":
                    break
            asked = len(refusing.requests())
            await asyncio.sleep(1.0)
            stop.set()
            await pipeline
            state = (await service.health.report()).download
        finally:
            await service.aclose()
        assert asked and len(refusing.requests()) == asked  # nothing asked again
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "missing models" in r.getMessage()]
    assert len(warnings) == 1
    assert "`newsbot models download`" in warnings[0].getMessage() and SUMMARIZER in warnings[0].getMessage()
    assert state is not None and state.state == "failed" and "newsbot models download" in (state.error or "")
    assert download_line(state, texts("it")).startswith("Download dei modelli non riuscito: ")


async def test_nothing_is_fetched_when_auto_download_is_off_and_an_old_state_is_forgotten(
    hub: FeedServer, tmp_path: Path
) -> None:
    service = service_for(tmp_path, hub.url(), auto_download=False)
    try:
        await service.ctx.db(
            service.ctx.store.save_download_state, "run", {"state": "fetching", "models": ["x"]}, service.now()
        )
        assert await service.downloads.fetch_missing() is None
        assert (await service.health.report()).download is None
    finally:
        await service.aclose()
    assert not hub.requests()
