"""Whether a retrieved story answers the question, or only resembles it: the judgement behind "I found nothing". Pure.

A story answers when all three hold:
1. it contains every name and number the question gives (in the question's words, or in its English pivot's for a
   question in another script or whose names other languages spell differently: Alemanha, Germany);
2. one of its sentences is close in meaning to what the question asks about those names: the question is embedded
   again without them ("When did ___ go public?"), so that a story about the right company and another event does
   not pass on the name alone;
3. when the question asks for a number, an amount of money, a date or a name, one of its sentences closest to that
   question holds one that the question does not already give.
A story that holds some of the question's names, or all of them and fails 2 or 3, is close: it is shown as such, never
cited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.ask.answer_types import asks_for, holds
from bot.ask.salient import Term, Vocabulary, fold_words, salient_terms

# The bar a story's closest sentence must reach, per embedder: the similarity of the question without its names (for
# a question that names nothing, of the question itself, NAMELESS_EXTRA higher: with no name to check, the meaning
# must match more closely). Chosen on the tuning half of tests/data/qa/questions.yaml (49 answerable and 38
# unanswerable questions in 8 languages) for e5; the figures measured on the other half are in
# docs/questions-clusters-trends.md. MiniLM's is a rough value: it is not the default, and its judgements were not
# measured.
MIN_SIMILARITY = {"e5": 0.78, "minilm": 0.45}
NAMELESS_EXTRA = 0.03
MARGIN = 0.02  # a story whose closest sentence is this much further than another candidate's does not answer
EVIDENCE = 3  # the sentences most similar to the question that must hold the kind of answer it asks for


@dataclass(frozen=True)
class Question:
    text: str
    lang: str | None
    terms: list[Term]  # its names, numbers and quoted phrases, as written
    pivot_terms: list[Term] | None  # those of its English pivot, when it was needed and could be made
    asks: str | None  # the kind of answer it asks for (answer_types), or None
    words: list[str]  # every folded word of the question and its pivot: what the question already says

    @classmethod
    def of(cls, text: str, lang: str | None, pivot: str | None = None) -> Question:
        asks = asks_for(text, lang)
        if asks is None and pivot is not None:
            asks = asks_for(pivot, "en")
        return cls(
            text,
            lang,
            salient_terms(text, lang),
            salient_terms(pivot, "en") if pivot is not None else None,
            asks,
            fold_words(f"{text} {pivot or ''}").split(),
        )


@dataclass(frozen=True)
class Sentence:
    text: str
    lang: str
    similarity: float  # to the question without its names
    title: bool = False  # a story's title counts for similarity, not as an answer's evidence


@dataclass(frozen=True)
class Verdict:
    answers: bool
    close: bool
    reason: str  # for the log: why not, or "answers"


def missing_terms(question: Question, vocabulary: Vocabulary) -> list[Term]:
    """The question's names and numbers the story lacks. A name that only the pivot gives (one the question does not
    write: Germany for Alemanha) may stand for one missing name of the question's own; the pivot's other names must
    be there too. A number is never stood in for."""
    missing = [t for t in question.terms if not vocabulary.has(t)]
    if question.pivot_terms is None:
        return missing
    written = set(fold_words(question.text).split())
    extra = [t for t in question.pivot_terms if t.kind == "name" and not set(t.words) <= written]
    rescued = sum(vocabulary.has(t) for t in extra)
    names = [t for t in missing if t.kind == "name"][rescued:]
    own = {t.words for t in question.terms}
    lacking = [t for t in question.pivot_terms if t.words not in own and not vocabulary.has(t)]
    return [t for t in missing if t.kind != "name"] + names + lacking


def by_names(question: Question, vocabulary: Vocabulary) -> Verdict | None:
    """The first test, which needs no embedding: None when the story holds every name and number of the question,
    else why not (close when it holds some of them)."""
    missing = missing_terms(question, vocabulary)
    if not missing:
        return None
    held = any(vocabulary.has(t) for t in [*question.terms, *(question.pivot_terms or [])])
    return Verdict(False, held, f"lacks {', '.join(t.text for t in missing)}")


def judge(question: Question, sentences: Sequence[Sentence], min_similarity: float, best_elsewhere: float) -> Verdict:
    """The other two tests, for a story that holds the question's names. `min_similarity`: the embedder's bar;
    `best_elsewhere`: the best sentence similarity of the other candidates that hold the names."""
    best = max((s.similarity for s in sentences), default=0.0)
    named = bool(question.terms or question.pivot_terms)
    bar = min_similarity if named else min_similarity + NAMELESS_EXTRA
    if best < bar:
        return Verdict(False, named, f"closest sentence {best:.3f} < {bar:.3f}")
    if best < best_elsewhere - MARGIN:
        return Verdict(False, False, f"closest sentence {best:.3f}, another story's {best_elsewhere:.3f}")
    if question.asks is not None:
        evidence = sorted((s for s in sentences if not s.title), key=lambda s: -s.similarity)[:EVIDENCE]
        if not any(holds(question.asks, s.text, s.lang, question.words) for s in evidence):
            return Verdict(False, True, f"no {question.asks} in its closest sentences")
    return Verdict(True, True, "answers")
