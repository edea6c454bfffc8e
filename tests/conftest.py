"""Shared fixtures: where the third-party corpora live, a fixed clock, a feed HTTP server, a migrated store, the QA
corpus's world."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.qa_corpus import QaWorld


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


@pytest.fixture(scope="session")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QaWorld:
    """The QA corpus polled, enriched and indexed by both embedders once (tests/qa_corpus.py): shared by /ask, cluster
    and MCP tests, which only read it, add subscribers of their own, or copy its database."""
    from tests.qa_corpus import build_world  # imported here: it loads the embedders' modules

    return build_world(tmp_path_factory.mktemp("qa"))


# Session-scoped tiny models, for the engine's tests and the app's enrichment tests alike.
from tests.tinymodels import tiny_models  # noqa: E402, F401
