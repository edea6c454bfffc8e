"""From ranked candidates to an answer: reciprocal rank fusion, the gate that says "nothing found", the 2-4
sentences quoted, and their numbered citations. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# Fusion, tuned on tests/data/qa (54 questions in 5 languages): k = 10 (top ranks count much more than the usual 60
# gives) and the embedding's ranking weighing three times BM25's. Plain RRF (k 60, equal weights) scored recall@3
# 0.91 there, this 0.94 to 0.96 (e5 ranks near-ties differently on different machines): BM25 helps with names and exact
# terms, and must not outvote the meaning on paraphrases.
RRF_K = 10
VECTOR_WEIGHT, BM25_WEIGHT = 3.0, 1.0
MAX_SENTENCES = 4
MIN_SENTENCES = 2
PER_STORY = 2
# A sentence this much less similar to the question than the best one is not part of the answer.
SENTENCE_MARGIN = 0.04


def fuse(*rankings: tuple[Sequence[int], float], k: int = RRF_K) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion of (ranked ids best first, weight) lists: (id, score), best first."""
    scores: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank + 1)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


@dataclass(frozen=True)
class Passage:
    story_id: int
    text: str  # one sentence
    score: float  # its cosine similarity to the question
    lang: str  # the language of `text`
    position: int = 0  # the sentence's index in its story (ties keep reading order)
    title: bool = False  # the story's title: scored for the judgement, never quoted


@dataclass(frozen=True)
class Citation:
    number: int
    story_id: int
    title: str
    link: str | None


@dataclass(frozen=True)
class Near:
    """A story close to a question it does not answer: shown by title and link, never cited."""

    story_id: int
    title: str
    link: str | None


@dataclass(frozen=True)
class Answer:
    """What /ask says. `found` False: no stored story answers the question (an honest answer); `closest` then holds
    the stories that come close, if any."""

    found: bool
    sentences: list[tuple[str, int]] = field(default_factory=list)  # (text, citation number)
    citations: list[Citation] = field(default_factory=list)
    lang: str = "en"  # the language the sentences are in
    translated: bool = True  # False: some sentences stayed in their story's language (no model for the reader's)
    generated: bool = False  # written by NEWSBOT_QA_MODEL from the passages, not quoted
    closest: list[Near] = field(default_factory=list)  # when nothing answers: stories near the question


def pick_sentences(passages: Sequence[Passage]) -> list[Passage]:
    """The 2-4 sentences that answer best: most similar first, at most PER_STORY from one story, none much worse than
    the best (but at least MIN_SENTENCES when there are that many)."""
    ranked = sorted(passages, key=lambda p: (-p.score, p.story_id, p.position))
    if not ranked:
        return []
    best = ranked[0].score
    picked: list[Passage] = []
    per_story: dict[int, int] = {}
    for passage in ranked:
        if len(picked) >= MAX_SENTENCES:
            break
        if per_story.get(passage.story_id, 0) >= PER_STORY:
            continue
        if len(picked) >= MIN_SENTENCES and passage.score < best - SENTENCE_MARGIN:
            break
        picked.append(passage)
        per_story[passage.story_id] = per_story.get(passage.story_id, 0) + 1
    return picked


def numbered(picked: Sequence[Passage], titles: dict[int, tuple[str, str | None]]) -> tuple[list[int], list[Citation]]:
    """Citation numbers for the picked sentences, [1] for the first story cited; and the citations, in order."""
    numbers: dict[int, int] = {}
    for passage in picked:
        numbers.setdefault(passage.story_id, len(numbers) + 1)
    citations = [Citation(n, story_id, *titles[story_id]) for story_id, n in numbers.items()]
    return [numbers[p.story_id] for p in picked], citations
