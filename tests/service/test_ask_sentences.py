"""A candidate story's sentences are embedded once: a second question about it costs no embedding, a changed story
is embedded again, and only the last SENTENCE_CACHE stories are kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from bot.service import make_service, story_sentences
from tests.qa_corpus import NOW, CorpusEngine, QaWorld
from tests.test_service import make_settings

pytestmark = pytest.mark.slow  # the QA corpus, indexed by the real embedders, is built once per run


class CountingEmbedder:
    """The real e5 embedder, counting the passages it is given."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.passages_embedded = 0
        self.dim, self.multilingual, self.name = inner.dim, inner.multilingual, inner.name

    def queries(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        return self.inner.queries(texts, threads=threads)

    def passages(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self.inner.passages(texts, threads=threads)


async def test_a_storys_sentences_are_embedded_once(qa: QaWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = CountingEmbedder(qa.embedders["e5"])
    service = make_service(make_settings(qa.path), engine=CorpusEngine(qa.corpus), embedder=embedder, now=lambda: NOW)
    try:
        first = await service.ask.answer("How much money did Helios Labs raise?")
        embedded = embedder.passages_embedded
        again = await service.ask.answer("What is Helios Labs worth now?")  # the same stories come up
        assert first.found and again.found and embedded > 0
        assert embedder.passages_embedded == embedded
        story = await service.ctx.db(service.ctx.store.get_story, first.citations[0].story_id)
        assert story is not None
        sentences, _ = await service.ask.sentences.of([story])
        assert embedder.passages_embedded == embedded
        changed = replace(story, content_hash="edited", text=story.text + " It hired its first hundred people.")
        edited, vectors = await service.ask.sentences.of([changed])
        assert embedder.passages_embedded == embedded + len(edited) and len(edited) == len(sentences) + 1
        assert len(vectors) == len(edited)
        monkeypatch.setattr(story_sentences, "SENTENCE_CACHE", 1)
        await service.ask.sentences.of([story])  # the edited one is the oldest now, and goes
        assert service.ask.sentences.kept() == 1
        await service.ask.sentences.of([changed])
        assert embedder.passages_embedded == embedded + 2 * len(edited)
    finally:
        await service.aclose()
