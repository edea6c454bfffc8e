"""A candidate story's title and sentences, embedded for /ask to judge and quote it, and kept for the next question
about the same story: embedding them costs many times the whole retrieval (`benchmarks/ask.py` times both)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from bot.ask.answer import Passage
from bot.service.context import Context
from bot.service.indexing import Indexing
from bot.store.rows import StoryRow
from summarizer.chunking import split_sentences
from summarizer.types import UNDETERMINED

SENTENCES_PER_STORY = 40
SENTENCE_CACHE = 256  # stories whose embedded sentences are kept (about 60 KB each with e5)


class StorySentences:
    def __init__(self, ctx: Context, indexing: Indexing, threads: Callable[[], int | None]) -> None:
        self.ctx = ctx
        self.indexing = indexing
        self.threads = threads  # the embedder's threads for a question's work (Ask._threads)
        self._embedded: OrderedDict[tuple[int, str, str | None], tuple[list[Passage], np.ndarray]] = OrderedDict()

    async def of(self, stories: Sequence[StoryRow]) -> tuple[list[Passage], np.ndarray]:
        """Every story's title and sentences (the text the embedder reads), embedded, unscored: those of a story
        embedded before are kept (the last SENTENCE_CACHE stories)."""
        fresh = [s for s in stories if _key(s) not in self._embedded]
        if fresh:
            split = [self.split(s) for s in fresh]
            flat = [p.text for passages in split for p in passages]
            vectors = np.asarray(await self.ctx.question(self.indexing.embedder.passages, flat, threads=self.threads()))
            start = 0
            for story, passages in zip(fresh, split, strict=True):
                self._embedded[_key(story)] = (passages, vectors[start : start + len(passages)])
                start += len(passages)
        found: list[Passage] = []
        rows: list[np.ndarray] = []
        for story in stories:
            self._embedded.move_to_end(_key(story))
            passages, vectors = self._embedded[_key(story)]
            found += passages
            rows.append(vectors)
        while len(self._embedded) > SENTENCE_CACHE:
            self._embedded.popitem(last=False)
        return found, np.concatenate(rows) if rows else np.zeros((0, self.indexing.embedder.dim), dtype=np.float32)

    def kept(self) -> int:
        """How many stories' sentences are kept."""
        return len(self._embedded)

    def forget(self) -> None:
        """Keep none (benchmarks/ask.py times answers about stories nobody asked about yet)."""
        self._embedded.clear()

    def split(self, story: StoryRow) -> list[Passage]:
        """A story's title and sentences, as the embedder reads them: the original text for a multilingual one, the
        English pivot for an English one."""
        pivot = not self.indexing.embedder.multilingual
        text, lang = (story.text_en or story.text, "en") if pivot else (story.text, story.lang or UNDETERMINED)
        title = (story.title_en or story.title) if pivot else story.title
        passages = [Passage(story.id, title, 0.0, lang, -1, title=True)]
        for position, sentence in enumerate(split_sentences(text, lang)[:SENTENCES_PER_STORY]):
            if len(sentence) > 20:  # datelines and captions say nothing
                passages.append(Passage(story.id, sentence, 0.0, lang, position))
        return passages


def _key(story: StoryRow) -> tuple[int, str, str | None]:
    """A story's embedded sentences stay valid while its text (content hash) and pivot (enrichment) do."""
    return story.id, story.content_hash, story.enriched_at
