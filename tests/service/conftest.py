from __future__ import annotations

import pytest

from tests.qa_corpus import QaWorld, build_world


@pytest.fixture(scope="session")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QaWorld:
    """The QA corpus polled, enriched and indexed by both embedders once (tests/qa_corpus.py): shared by /ask and
    cluster tests, which only read it or add subscribers of their own."""
    return build_world(tmp_path_factory.mktemp("qa"))
