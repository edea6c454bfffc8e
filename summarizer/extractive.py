"""The weightless `extractive` backend: detects the language and picks summary sentences verbatim from the text; never translates, loads no model."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from summarizer.chunking import split_sentences
from summarizer.detect import FUNCTION_WORDS, LinguaDetector
from summarizer.types import Article, Detection, EngineConfig, Enriched, LanguageDetector, Translation

EXTRACTIVE = "extractive"
IDENTITY = "identity"
NOT_TRANSLATED = "none"

# A summary is 3 to 5 sentences, stopping once it reaches TARGET_WORDS; a sentence that would take it past MAX_WORDS
# is passed over for a shorter one. A text no longer than TARGET_WORDS is its own summary.
MIN_SENTENCES = 3
MAX_SENTENCES = 5
TARGET_WORDS = 80
MAX_WORDS = 120
# A summary sentence has at least this many words and ends like a sentence: headings, datelines and captions don't.
MIN_SENTENCE_WORDS = 6
# TextRank's damping: the share of a sentence's score that comes from sentences like it; the rest comes from its
# position (news puts the gist first), falling off as 1 / (1 + index).
DAMPING = 0.85
# Sentences this similar (cosine of their word weights) say the same thing: a summary keeps the first one picked.
DUPLICATE_SIMILARITY = 0.7

_UNSPACED = frozenset({"ja", "zh"})
_WORD = re.compile(r"[^\W_]+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]」』）]*$")


class ExtractiveEngine:
    """The Engine protocol without model weights: summaries are sentences of the original, in its language.

    `process` fills the `*_en` fields with the ORIGINAL title, text and summary and sets `translated=False`: nothing
    here translates. `translate` returns its texts unchanged (`translated=False`, model "none"), except from a language
    into itself, which is an identity translation (`translated=True`, model "identity").
    """

    def __init__(self, config: EngineConfig, *, detector: LanguageDetector | None = None) -> None:
        self.config = config
        self._detector = detector if detector is not None else LinguaDetector(config.languages)

    def detect_language(self, text: str, hint: str | None = None) -> Detection:
        return self._detector.detect(text, hint)

    def process(self, article: Article) -> Enriched:
        return self.process_many([article])[0]

    def process_many(self, articles: Sequence[Article]) -> list[Enriched]:
        samples = [f"{article.title}\n{article.text}" for article in articles]
        hints = [article.lang_hint for article in articles]
        if isinstance(self._detector, LinguaDetector):
            detections = self._detector.detect_many(samples, hints)  # spreads lingua over cores
        else:
            detections = [self._detector.detect(sample, hint) for sample, hint in zip(samples, hints, strict=True)]
        detector_name = getattr(self._detector, "name", type(self._detector).__name__)
        return [
            Enriched(
                lang=detection.lang,
                lang_confidence=detection.confidence,
                title_en=article.title,
                text_en=article.text,
                summary_en=summarize_extractive(article.text, detection.lang, title=article.title) or article.title,
                models={"summarize": EXTRACTIVE, "detect": detector_name},
                translated=False,
            )
            for article, detection in zip(articles, detections, strict=True)
        ]

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> Translation:
        if src == tgt:
            return Translation(list(texts), model=IDENTITY, translated=True)
        return Translation(list(texts), model=NOT_TRANSLATED, translated=False)

    def summarize(self, texts: Sequence[str], lang: str = "en") -> tuple[list[str], str]:
        """Summaries in the texts' own language (`lang`), and the model id "extractive"."""
        return [summarize_extractive(text, lang) for text in texts], EXTRACTIVE


def summarize_extractive(text: str, lang: str, *, title: str = "") -> str:
    """3 to 5 sentences of `text`, verbatim and in their original order: the central ones, with a bias to the lead.

    Sentences are ranked by TextRank over TF-IDF cosine similarities (words minus the language's function words;
    character pairs for Chinese and Japanese), its random jumps favouring early sentences. Near-duplicates of the
    title or of a picked sentence are skipped. A text of at most TARGET_WORDS words is its own summary.
    """
    sentences = split_sentences(text, lang)
    if _word_count(" ".join(sentences), lang) <= TARGET_WORDS:
        return _join(sentences, lang)
    candidates = [s for s in sentences if _word_count(s, lang) >= MIN_SENTENCE_WORDS and _SENTENCE_END.search(s)]
    if len(candidates) < MIN_SENTENCES:
        candidates = sentences
    title_terms = _terms(title, lang)
    weights = _tfidf([*(_terms(sentence, lang) for sentence in candidates), title_terms])
    vectors, title_vector = weights[:-1], weights[-1]
    similarity = vectors @ vectors.T
    scores = _textrank(similarity)

    picked: list[int] = []
    words = 0
    for index in sorted(range(len(candidates)), key=lambda i: (-scores[i], i)):
        if any(similarity[index, other] >= DUPLICATE_SIMILARITY for other in picked):
            continue
        if float(vectors[index] @ title_vector) >= DUPLICATE_SIMILARITY:
            continue
        length = _word_count(candidates[index], lang)
        if picked and words + length > MAX_WORDS:
            continue
        picked.append(index)
        words += length
        if len(picked) >= MAX_SENTENCES or (len(picked) >= MIN_SENTENCES and words >= TARGET_WORDS):
            break
    return _join([candidates[i] for i in sorted(picked)], lang)


def _textrank(similarity: np.ndarray) -> np.ndarray:
    count = similarity.shape[0]
    links = similarity.copy()
    np.fill_diagonal(links, 0.0)
    totals = links.sum(axis=1, keepdims=True)
    # A sentence like no other passes its score on by the jump alone.
    transition = np.divide(links, totals, out=np.zeros_like(links), where=totals > 0)
    lead = 1.0 / (1.0 + np.arange(count))
    lead /= lead.sum()
    scores = lead.copy()
    for _ in range(50):  # power iteration; converges to ~1e-4 well within this for damping 0.85
        dangling = scores[totals[:, 0] == 0].sum()
        scores = (1 - DAMPING) * lead + DAMPING * (transition.T @ scores + dangling * lead)
    return scores


def _tfidf(documents: Sequence[Sequence[str]]) -> np.ndarray:
    """Rows of L2-normalised TF-IDF weights, one per document (sentence)."""
    vocabulary: dict[str, int] = {}
    for terms in documents:
        for term in terms:
            vocabulary.setdefault(term, len(vocabulary))
    matrix = np.zeros((len(documents), max(1, len(vocabulary))))
    for row, terms in enumerate(documents):
        for term, count in Counter(terms).items():
            matrix[row, vocabulary[term]] = count
    frequency = (matrix > 0).sum(axis=0)
    matrix *= np.log((1 + len(documents)) / (1 + frequency)) + 1
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _terms(sentence: str, lang: str) -> list[str]:
    if lang in _UNSPACED:
        return [run[i : i + 2] for run in _CJK_RUN.findall(sentence) for i in range(max(1, len(run) - 1))]
    stop = _STOPWORDS.get(lang, frozenset())
    return [word for word in (w.lower() for w in _WORD.findall(sentence)) if word not in stop and len(word) > 1]


def _word_count(text: str, lang: str) -> int:
    """Words, counting a Chinese or Japanese word as two characters."""
    if lang not in _UNSPACED:
        return len(text.split())
    characters = sum(len(run) for run in _CJK_RUN.findall(text))
    others = sum(1 for word in _CJK_RUN.sub(" ", text).split() if any(char.isalnum() for char in word))
    return math.ceil(characters / 2) + others


def _join(sentences: Sequence[str], lang: str) -> str:
    return ("" if lang in _UNSPACED else " ").join(sentences)


_STOPWORDS = {lang: frozenset(word.rstrip("'") for word in words.split()) for lang, words in FUNCTION_WORDS.items()}
