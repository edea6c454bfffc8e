from __future__ import annotations

import shutil
import sqlite3

import pytest

from tests.qa_corpus import QaWorld


@pytest.fixture(scope="module")
def mcp_env(qa: QaWorld, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a `newsbot mcp` process over a copy of the QA corpus's database (the server writes caches:
    translations tried, keyphrases, problems) and its feed list, with the extractive backend: nothing to download."""
    path = tmp_path_factory.mktemp("mcp")
    source, copy = sqlite3.connect(qa.path / "newsbot.db"), sqlite3.connect(path / "newsbot.db")
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    shutil.copy(qa.path / "feeds.yaml", path / "feeds.yaml")
    return {
        "NEWSBOT_DB": str(path / "newsbot.db"),
        "NEWSBOT_FEEDS": str(path / "feeds.yaml"),
        "NEWSBOT_BACKEND": "extractive",
    }
