"""The worker tests' Redis: one real redis-server for the session, emptied before each test; a test that needs it
and cannot have it is skipped with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.workers.redis import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except RuntimeError as e:
        pytest.skip(f"these tests need a real Redis and none could be started: {e}")
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    if not redis_server.ping():  # a test stopped it and failed before starting it again
        redis_server.start()
    redis_server.client().flushall()
    return redis_server.url
