"""The questions stage: a question in any offered language, answered from the stored stories with numbered
citations. Hybrid retrieval (FTS5 BM25 and embeddings, fused), an optional date scope from the question's own
words, then 2-4 quoted sentences in the asker's language; or, with NEWSBOT_QA_MODEL, an answer written from those
passages only. "I found nothing" is an answer too: nothing is invented."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from bot.ask.answer import BM25_WEIGHT, VECTOR_WEIGHT, Answer, Near, Passage, fuse, numbered, pick_sentences
from bot.ask.answerable import (
    MIN_SIMILARITY,
    Question,
    Sentence,
    Verdict,
    by_names,
    judge,
    leave_one_out,
    says,
    wants_pivot,
)
from bot.ask.dates import date_scope
from bot.ask.fts import match_expression, terms
from bot.ask.places import home
from bot.ask.salient import Vocabulary, needs_pivot, without_terms
from bot.errors import LanguageNotOfferedError
from bot.service.context import Context
from bot.service.engines import Engines
from bot.service.indexing import SEARCH_THREADS, Indexing, best_rows, similarities
from bot.service.localize import Localize, Localized
from bot.service.model_work import ModelWork, TranslateJob
from bot.service.story_sentences import StorySentences
from bot.store.rows import StoryRow
from summarizer.chunking import split_sentences
from summarizer.errors import EngineError
from summarizer.types import UNDETERMINED, EngineConfig

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
CANDIDATES = 30  # from each retriever, before fusion
ANSWER_STORIES = 3  # the best candidates, each judged (bot/ask/answerable.py); those that answer may be quoted
QA_CONTEXT_TOKENS = 400  # passages given to NEWSBOT_QA_MODEL
QA_BEAMS = 2
QA_ANSWER_TOKENS = 96  # at most, written
_CITATION = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Retrieved:
    """What retrieval found, before any answer is written (the QA benchmark and tests read this)."""

    story_ids: list[int]  # fused, best first
    similarity: dict[int, float]  # story id -> cosine with the question
    bm25: list[int]
    vector: list[int]
    lang: str | None  # the question's language
    query: np.ndarray  # the question's embedding


@dataclass(frozen=True)
class Found:
    """A story a search found, with its title and summary for the reader."""

    story: StoryRow
    summary: Localized


class Ask:
    def __init__(
        self, ctx: Context, engines: Engines, localize: Localize, model_work: ModelWork, indexing: Indexing
    ) -> None:
        self.ctx = ctx
        self.engines = engines
        self.localize = localize
        self.model_work = model_work
        self.indexing = indexing
        self.sentences = StorySentences(ctx, indexing, self._threads)
        self._qa_model: Any = None
        self._qa_lock = threading.Lock()

    def _threads(self) -> int | None:
        """One thread for a question's embeddings while model work keeps the cores busy: a 2-thread team then stalls
        at every barrier until the scheduler runs its other half (benchmarks/ask.py --during-enrichment, 100,000
        stories: p50 79 and p95 132 ms against 1,683 and 1,707 ms); on idle cores, the pools' own (e5 alone: 21
        against 31 ms at p50)."""
        return 1 if self.ctx.model_busy else None

    @property
    def min_similarity(self) -> float:
        return MIN_SIMILARITY.get(self.indexing.key, 0.5)

    async def retrieve(self, question: str, *, since: datetime | None = None) -> Retrieved:
        """The stories that may answer, best first; only those from `since` on when given (and within the time the
        question's own words name, if any)."""
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        detected = await self.engines.detect(question)
        lang = detected if detected and detected != UNDETERMINED else None
        scope = date_scope(question, self.ctx.now(), lang)
        wanted = scope.rest if scope and scope.rest else question
        until = scope.until if scope else None
        if scope and scope.since and (since is None or scope.since > since):
            since = scope.since
        match = match_expression(terms(wanted))
        bm25 = (
            [
                i
                for i, _ in await self.ctx.db(
                    self.ctx.store.search_text, match, limit=CANDIDATES, since=since, until=until
                )
            ]
            if match
            else []
        )
        embedder = self.indexing.embedder
        query = (await self.ctx.question(embedder.queries, [wanted or question], threads=self._threads()))[0]
        ids, matrix = await self.indexing.vectors.matrix()
        similarity: dict[int, float] = {}
        vector: list[int] = []
        if len(ids):
            scores = similarities(matrix, query, self._threads() or SEARCH_THREADS)
            order = best_rows(scores, CANDIDATES * 20)
            scoped = since is not None or until is not None
            wide = order[: CANDIDATES * (20 if scoped else 1)]
            allowed = (
                await self.ctx.db(self.ctx.store.stories_in_scope, since, until, [int(ids[row]) for row in wide])
                if scoped
                else None
            )
            for row in wide:
                story_id = int(ids[row])
                if allowed is None or story_id in allowed:
                    vector.append(story_id)
                    if len(vector) >= CANDIDATES:
                        break
            similarity = {int(ids[row]): float(scores[row]) for row in order}
        fused = [story_id for story_id, _ in fuse((vector, VECTOR_WEIGHT), (bm25, BM25_WEIGHT))]
        return Retrieved(fused, similarity, bm25, vector, lang, query)

    async def search(
        self, query: str, *, since: datetime | None = None, limit: int = 10, lang: str = "en"
    ) -> list[Found]:
        """Stories matching `query`, best first, found as questions find them (FTS5 BM25 and embeddings, fused; the
        query's words are quoted, so FTS operators in it are plain words), each with its title and summary for a
        reader of `lang` as a digest gives them (the story's own summary where no model translates)."""
        offered = list((await self.engines.config()).languages)
        if lang not in offered:
            raise LanguageNotOfferedError(lang, offered)
        if not query.strip():
            return []
        found = await self.retrieve(query, since=since)
        rows = [await self.ctx.db(self.ctx.store.get_story, i) for i in found.story_ids[:limit]]
        return [Found(story, await self.localize.localized(story, lang)) for story in rows if story is not None]

    async def answer(self, question: str, *, lang: str | None = None) -> Answer:
        """Answer in `lang` (the asker's; default the question's language, or English)."""
        if not question.strip():
            return Answer(found=False)
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        found = await self.retrieve(question)
        reader = lang or (found.lang if found.lang in await self.engines.servable_languages() else "en")
        candidates = [await self.ctx.db(self.ctx.store.get_story, i) for i in found.story_ids[:ANSWER_STORIES]]
        stories = [s for s in candidates if s is not None]
        if not stories:
            return Answer(found=False, lang=reader)
        judged = await self._judge(question, found, stories)
        answering = [story for story, verdict, _ in judged if verdict.answers]
        if not answering:
            near = [story for story, verdict, _ in judged if verdict.close]
            return Answer(found=False, lang=reader, closest=await self._near(near, reader))
        picked = pick_sentences([p for _, verdict, scored in judged if verdict.answers for p in scored])
        titles = {s.id: (s.title, s.link) for s in answering}
        if self.ctx.settings.qa_model:
            try:
                return await self._written(question, picked, titles, reader)
            except EngineError as e:  # not downloaded or not converted: `newsbot health` lists it as missing
                log.warning("NEWSBOT_QA_MODEL cannot write the answer, so it quotes the stories: %s", e)
        numbers, citations = numbered(picked, titles)
        texts, translated = await self._in(reader, picked)
        return Answer(True, list(zip(texts, numbers, strict=True)), citations, reader, translated)

    async def _judge(
        self, question: str, found: Retrieved, stories: Sequence[StoryRow]
    ) -> list[tuple[StoryRow, Verdict, list[Passage]]]:
        """Each candidate story judged (bot/ask/answerable.py): first by the names and numbers it holds, then, for
        those that hold them all, by their sentences, which are scored against the question for quoting too."""
        vocabularies = [Vocabulary.of([s.title, s.text, s.title_en, s.text_en], home(s.lang)) for s in stories]
        asked = Question.of(question, found.lang)
        unmasked = question  # what the question asks about its names: itself, for one without
        worded_in = found.lang  # the language of its words
        if wants_pivot(asked, vocabularies):
            pivot = await self._pivot(question, found.lang)
            if pivot is not None:
                asked = Question.of(question, found.lang, pivot)
                if needs_pivot(question):  # its names are only known through the pivot
                    unmasked, worded_in = without_terms(pivot, asked.pivot_terms or []), "en"
        if unmasked == question:
            unmasked = without_terms(question, asked.terms)
        named = {s.id: by_names(asked, v, _languages(s)) for s, v in zip(stories, vocabularies, strict=True)}
        passing = [s for s in stories if named[s.id] is None]
        masked = found.query
        # Only a word some story that holds the names lacks is left out in turn (each costs an embedding); judge
        # counts it against the stories that lack it. A story with no text in the question's language lacks every
        # word of it, the answer as much as the rest: there the similarity and the names decide.
        worded = {s.id for s in passing if worded_in in _languages(s)}
        lacking = [v for s, v in zip(stories, vocabularies, strict=True) if s.id in worded]
        left_out = [(word, rest) for word, rest in leave_one_out(unmasked) if any(not says(v, word) for v in lacking)]
        asked_again = ([unmasked] if passing and unmasked != question else []) + [rest for _, rest in left_out]
        without = np.zeros((0, self.indexing.embedder.dim), dtype=np.float32)
        if asked_again:
            embedder = self.indexing.embedder
            without = np.asarray(await self.ctx.question(embedder.queries, asked_again, threads=self._threads()))
            if unmasked != question:
                masked, without = without[0], without[1:]
        sentences, vectors = await self.sentences.of(passing)
        to_question, to_masked, to_without = vectors @ found.query, vectors @ masked, vectors @ without.T
        rows: dict[int, list[int]] = {}
        for n, sentence in enumerate(sentences):
            rows.setdefault(sentence.story_id, []).append(n)
        best = {i: max(float(to_masked[n]) for n in ns) for i, ns in rows.items()}
        judged = []
        for story in stories:
            verdict = named[story.id]
            passages: list[Passage] = []
            if verdict is None:
                mine = rows.get(story.id, [])
                scored = [
                    Sentence(sentences[n].text, sentences[n].lang, float(to_masked[n]), sentences[n].title)
                    for n in mine
                ]
                elsewhere = max((b for i, b in best.items() if i != story.id), default=0.0)
                lang = story.lang or UNDETERMINED
                texts = [
                    (story.title, lang),
                    (story.text, lang),
                    (story.title_en or "", "en"),
                    (story.text_en or "", "en"),
                ]
                gains = to_without[mine].max(axis=0) - best.get(story.id, 0.0) if mine else np.zeros(len(left_out))
                closer = [(word, float(gain)) for (word, _), gain in zip(left_out, gains, strict=True)]
                closer = closer if story.id in worded else []
                verdict = judge(asked, scored, self.min_similarity, elsewhere, texts, closer)
                passages = [replace(sentences[n], score=float(to_question[n])) for n in mine if not sentences[n].title]
            log.debug("story %d for %r: %s", story.id, question, verdict.reason)
            judged.append((story, verdict, passages))
        return judged

    async def _pivot(self, question: str, lang: str | None) -> str | None:
        """The question in English, through the engine (cached like answer sentences), or None when it cannot be
        made: then its names in another script go unchecked, and a name spelled another way counts as missing."""
        if lang is None or lang == "en":
            return None
        try:
            [pivot] = await self._translate([question], lang, "en")
        except Exception as e:  # no model for the language, the extractive backend: judge without it
            log.info("the question's English pivot could not be made: %s", e)
            return None
        return pivot

    async def _near(self, stories: Sequence[StoryRow], reader: str) -> list[Near]:
        """The close stories' titles in the reader's language where a translation can be had, else as written."""
        near = []
        for story in stories:
            title = story.title
            if story.lang != reader and story.title_en:
                if reader == "en":
                    title = story.title_en
                else:
                    try:
                        [title] = await self._translate([story.title_en], "en", reader)
                    except Exception as e:  # no model for the reader's language: as written
                        log.info("a close story's title stays as written: %s", e)
            near.append(Near(story.id, title, story.link))
        return near

    async def _in(self, reader: str, picked: Sequence[Passage]) -> tuple[list[str], bool]:
        """The picked sentences in the reader's language, translated once and cached; untranslated if no model."""
        texts = [p.text for p in picked]
        translated = True
        for source in {p.lang for p in picked if p.lang != reader}:
            indices = [n for n, p in enumerate(picked) if p.lang == source]
            try:
                out = await self._translate([texts[n] for n in indices], source, reader)
            except Exception as e:  # no model for the pair: quote the original, say so
                log.info("answer sentences stay in %s: %s", source, e)
                translated = False
                continue
            for n, text in zip(indices, out, strict=True):
                texts[n] = text
        return texts, translated

    async def _translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        if src == UNDETERMINED:
            raise ValueError("the sentences' language is not known")
        config = await self.model_work.ready()
        tag = f"{config.backend}:{src}:{tgt}"
        keys = [hashlib.sha256(f"{tag}\n{t}".encode()).hexdigest() for t in texts]
        cached = await self.ctx.db(self.ctx.store.cached_phrases, keys)
        missing = [n for n, k in enumerate(keys) if k not in cached]
        if missing:
            result = await self.model_work.translate(TranslateJob(config, [texts[n] for n in missing], src, tgt))
            if not result.translated:
                raise ValueError(f"the {config.backend} backend does not translate")
            fresh = {keys[n]: text for n, text in zip(missing, result.texts, strict=True)}
            await self.ctx.db(self.ctx.store.save_phrases, list(fresh.items()), self.ctx.now())
            cached.update(fresh)
        return [cached[k] for k in keys]

    # -- NEWSBOT_QA_MODEL ----------------------------------------------------------------------------------------------
    async def _written(
        self, question: str, picked: Sequence[Passage], titles: dict[int, tuple[str, str | None]], reader: str
    ) -> Answer:
        """The QA model writes the answer from the numbered passages only; every citation it gives must be one of
        them (others are removed), and a sentence citing nothing is attributed to the best passage."""
        _, citations = numbered(picked, titles)
        number = {c.story_id: c.number for c in citations}
        assert self.ctx.settings.qa_model is not None
        model = await self.ctx.model(self._load_qa_model, self.ctx.settings.qa_model, await self.engines.config())
        context: list[str] = []
        budget = QA_CONTEXT_TOKENS
        for passage in picked:
            cost = await self.ctx.model(model.count_one, passage.text)
            if context and cost > budget:
                break
            context.append(f"[{number[passage.story_id]}] {passage.text}")
            budget -= cost
        prompt = f"question: {question} context: {' '.join(context)}"
        [written] = await self.ctx.model(
            model.generate, [prompt], beams=QA_BEAMS, min_new_tokens=1, max_new_tokens=QA_ANSWER_TOKENS
        )
        valid = set(number.values())
        sentences: list[tuple[str, int]] = []
        for sentence in split_sentences(written, "en") or [written]:
            cited = [int(n) for n in _CITATION.findall(sentence) if int(n) in valid]
            text = _CITATION.sub("", sentence).strip()
            if text:
                sentences.append((text, cited[0] if cited else number[picked[0].story_id]))
        if not sentences:
            sentences = [(picked[0].text, number[picked[0].story_id])]
        return Answer(True, sentences, citations, reader, translated=False, generated=True)

    def _load_qa_model(self, name: str, config: EngineConfig) -> Any:
        """On the engine's backend, with its model directory, quantization and threads."""
        with self._qa_lock:
            if self._qa_model is None:
                from summarizer.engine import load_model

                self._qa_model = load_model(name, config)
            return self._qa_model


def _languages(story: StoryRow) -> list[str | None]:
    """The languages of a story's texts: its own, and English where it has an English pivot."""
    return [story.lang, "en" if story.text_en or story.lang == "en" else None]
