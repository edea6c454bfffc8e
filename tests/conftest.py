"""Shared fixtures: where the third-party corpora live, a fixed clock, a feed HTTP server, a migrated store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    from bot.store import open_store

    opened = open_store(tmp_path / "newsbot.db")
    yield opened
    opened.close()


@pytest.fixture
def feed_server():  # type: ignore[no-untyped-def]
    """A started local HTTP server (tests/httpserver.py); set `feed_server.routes[path] = Route(...)`."""
    from tests.httpserver import FeedServer

    with FeedServer() as server:
        yield server


# Session-scoped tiny models, for the engine's tests and the app's enrichment tests alike.
from tests.tinymodels import tiny_models  # noqa: E402, F401
