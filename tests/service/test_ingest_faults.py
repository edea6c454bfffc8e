"""The poller survives storage failures, and a database locked by another process stalls the SQLite thread, never
the event loop."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

import pytest
import yaml

from bot.errors import StorageError
from bot.service import make_service
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import rss
from tests.test_service import make_settings


def one_feed(tmp_path: Path, server: FeedServer, route: Route) -> None:
    server.routes["/feed"] = route
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": server.url("/feed")}]}))


async def test_a_failure_that_cannot_be_recorded_is_still_reported(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_feed(tmp_path, feed_server, Route(status=500))
    service = make_service(make_settings(tmp_path))

    def disk_full(*args: object, **kwargs: object) -> None:
        raise StorageError("database newsbot.db: database or disk is full")

    monkeypatch.setattr(service.store, "record_fetch_error", disk_full)
    try:
        [result] = await service.ingest.poll(force=True)
        assert (
            result.error
            == "HTTP 500 Internal Server Error (not recorded: database newsbot.db: database or disk is full)"
        )
    finally:
        await service.aclose()


async def test_the_poller_outlives_a_storage_error(
    tmp_path: Path, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    one_feed(tmp_path, feed_server, Route(body=rss([("a", "Story A")])))
    service = make_service(make_settings(tmp_path))
    stop = asyncio.Event()
    calls = 0
    real_poll = service.ingest.poll

    async def flaky_poll(**kwargs: object):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StorageError("database newsbot.db: database is locked")
        stop.set()
        return await real_poll()

    service.ingest.poll = flaky_poll  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.INFO, logger="bot.service.ingest"):
            await asyncio.wait_for(service.ingest.poll_forever(stop, tick=0.01), 10)
        assert calls == 2 and service.store.count_stories() == 1
        # One line for the failed cycle, one with the counts of the cycle that worked.
        lines = [r.getMessage() for r in caplog.records if r.name == "bot.service.ingest"]
        assert lines == [
            "poll failed: database newsbot.db: database is locked",
            "poll: 1 feeds, 1 new stories, 0 updated, 0 not modified, 0 failed",
        ]
    finally:
        await service.aclose()


async def test_a_locked_database_does_not_stall_the_event_loop(tmp_path: Path, feed_server: FeedServer) -> None:
    one_feed(tmp_path, feed_server, Route(body=rss([("a", "Story A"), ("b", "Story B")])))
    service = make_service(make_settings(tmp_path))
    await service.feeds.sync()
    other = sqlite3.connect(tmp_path / "newsbot.db", isolation_level=None)  # another process's writer, say
    other.execute("BEGIN IMMEDIATE")
    loop = asyncio.get_running_loop()
    loop.call_later(3.0, other.execute, "ROLLBACK")
    longest_gap = 0.0

    async def ticker() -> None:
        nonlocal longest_gap
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            longest_gap, last = max(longest_gap, now - last), now

    ticking = asyncio.create_task(ticker())
    try:
        started = time.monotonic()
        [result] = await service.ingest.poll(force=True)
        waited = time.monotonic() - started
        assert result.new == 2 and waited >= 2.5  # the poll waited for the lock...
        assert longest_gap < 0.5, longest_gap  # ...and the loop did not
    finally:
        ticking.cancel()
        other.close()
        await service.aclose()
