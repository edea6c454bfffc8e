"""The engine's work on any encoder-decoder backend: sentence layout, length-sorted batches, map-reduce summaries and
pivot translation; a backend module (transformers, ctranslate2) only loads a model and generates with it."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from summarizer.chunking import chunk_sentences, fit_sentences, split_sentences, token_batches
from summarizer.errors import EngineError, ModelUnavailableError
from summarizer.models import ENGLISH, IDENTITY, ModelRef, routes
from summarizer.types import UNDETERMINED, Article, Detection, EngineConfig, Enriched, LanguageDetector, Translation

log = logging.getLogger(__name__)

# Scripts that put no space between sentences.
_UNSPACED_LANGUAGES = frozenset({"ja", "zh"})
# Below this confidence, with no hint, a detected language is a guess (a title of names: "OpenAI" -> it 0.30): the
# text goes through the multilingual model, which reads any language, not through the guessed pair's model.
WEAK_DETECTION = 0.5
# Cross-attention caches grow with batch × beams × input tokens: two full DistilBART inputs at 4 beams hold ~0.4 GB.
_SUMMARY_BATCH_INPUT_TOKENS = 2048


_yield = threading.local()


@contextlib.contextmanager
def between_batches(hook: Callable[[], None]) -> Iterator[None]:
    """While inside, `hook` runs on this thread before each generation batch: where a caller with more urgent work for
    the same cores (a reader waiting) can do it without waiting for the whole call. The engine knows nothing of it."""
    previous = getattr(_yield, "hook", None)
    _yield.hook = hook
    try:
        yield
    finally:
        _yield.hook = previous


def yield_point() -> None:
    hook = getattr(_yield, "hook", None)
    if hook is not None:
        hook()


class Seq2SeqModel(ABC):
    """One loaded tokenizer + encoder-decoder model, with the input and output lengths its positions allow; a backend
    gives `generate`.

    One call at a time: a fast tokenizer re-sets its padding and truncation state on every call and fails ("Already
    borrowed") when two threads use it at once; two generations on shared CPU cores would gain nothing anyway.
    """

    def __init__(self, name: str, tokenizer: Any, config: Any) -> None:
        self.name = name
        self.tokenizer = tokenizer
        self._lock = threading.Lock()
        positions = _positions(config, tokenizer)
        self._max_input_with_specials = min(positions, int(tokenizer.model_max_length))
        self.max_input_tokens = self._max_input_with_specials - tokenizer.num_special_tokens_to_add()
        self.max_new_tokens = positions - 1  # the decoder's first position holds its start token

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, special tokens not counted."""
        if not texts:
            return []
        with self._lock:
            encoded = self.tokenizer(list(texts), add_special_tokens=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def count_one(self, text: str) -> int:
        return self.count_tokens([text])[0]

    @abstractmethod
    def generate(self, texts: Sequence[str], *, beams: int, min_new_tokens: int, max_new_tokens: int) -> list[str]:
        """One output per text, in order; `min/max_new_tokens` count generated tokens as transformers does."""

    def generate_batches(
        self, batches: Sequence[Sequence[str]], *, beams: int, lengths: Sequence[tuple[int, int]]
    ) -> list[list[str]]:
        """`generate` for each batch with its (min, max) new tokens, in order, with a yield point before each; a
        backend that can run batches side by side overrides it."""
        outputs = []
        for batch, (low, high) in zip(batches, lengths, strict=True):
            yield_point()
            outputs.append(self.generate(batch, beams=beams, min_new_tokens=low, max_new_tokens=high))
        return outputs


class Seq2SeqEngine(ABC):
    """The Engine protocol on any encoder-decoder backend: detect, translate to English, summarize (map-reduce),
    translate out. A backend gives `_load`, which turns a model setting into a loaded Seq2SeqModel.

    Models load on first use and stay loaded (translation models in an LRU of `max_loaded_pairs`); loading is
    serialized by a lock, so threads may share one engine.
    """

    def __init__(self, config: EngineConfig, *, detector: LanguageDetector | None = None) -> None:
        # Every article needs the summarizer: a missing one is reported now, at start, not at the first article.
        self._check_available(config.summarizer_model, config)
        self.config = config
        self._detector = detector
        self._lock = threading.RLock()
        self._summarizer: Seq2SeqModel | None = None
        self._translators: OrderedDict[str, Seq2SeqModel] = OrderedDict()  # least recently used first
        self._pair_models: dict[tuple[str, str], ModelRef] = {}  # (src, tgt) -> the model used, after any fallback

    @abstractmethod
    def _check_available(self, name: str, config: EngineConfig) -> None:
        """Raise ModelUnavailableError unless the model setting `name` can be loaded."""

    @abstractmethod
    def _load(self, name: str, *, summarizer: bool = False) -> Seq2SeqModel:
        """The model setting `name`, loaded (a missing one raises ModelUnavailableError); `summarizer` when it is
        the one the engine summarizes with (a backend may run it differently)."""

    def detect_language(self, text: str, hint: str | None = None) -> Detection:
        return self._language_detector().detect(text, hint)

    def process(self, article: Article) -> Enriched:
        return self.process_many([article])[0]

    def process_many(self, articles: Sequence[Article]) -> list[Enriched]:
        """Enrich articles together: one translation batch per source language, one summary batch for all."""
        if not articles:
            return []
        # The summarizer loads first: its transient fp32 pages (1.2 GB for DistilBART) are then gone before the
        # translation models arrive, which keeps peak memory near the largest model rather than the sum of all.
        self._summarizer_model()
        detector = self._language_detector()
        samples = [f"{article.title}\n{article.text}" for article in articles]
        hints = [article.lang_hint for article in articles]
        # Lingua's detector can spread a batch over cores; any other detector goes one text at a time.
        detect_many = getattr(detector, "detect_many", None)
        if detect_many is not None:
            detections: list[Detection] = detect_many(samples, hints)
        else:
            detections = [detector.detect(sample, hint) for sample, hint in zip(samples, hints, strict=True)]
        titles = [a.title for a in articles]
        texts = [a.text for a in articles]
        translators = [IDENTITY] * len(articles)
        by_language: dict[str, list[int]] = {}
        for index, detection in enumerate(detections):
            if detection.lang != ENGLISH:
                weak = detection.confidence < WEAK_DETECTION and not hints[index]
                by_language.setdefault(UNDETERMINED if weak else detection.lang, []).append(index)
        for lang, indices in by_language.items():
            translation = self.translate([titles[i] for i in indices] + [texts[i] for i in indices], lang, ENGLISH)
            for position, index in enumerate(indices):
                titles[index] = translation.texts[position]
                texts[index] = translation.texts[len(indices) + position]
                translators[index] = translation.model
        summaries, summarizer = self.summarize(texts)
        detector_name = _detector_name(detector)
        return [
            Enriched(
                lang=detection.lang,
                lang_confidence=detection.confidence,
                title_en=title,
                text_en=text,
                summary_en=summary,
                models={"detect": detector_name, "translate": translator, "summarize": summarizer},
            )
            for detection, title, text, summary, translator in zip(
                detections, titles, texts, summaries, translators, strict=True
            )
        ]

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> Translation:
        """Translate sentence by sentence, in length-sorted batches; lines (paragraphs) are kept as they were."""
        if src == tgt:
            return Translation(list(texts), model=IDENTITY)
        model, token = self._translator(src, tgt)
        layouts = [self._layout(model, text, src, reserve=1 if token else 0) for text in texts]
        sentences = [sentence for layout in layouts for line in layout for sentence in line]
        if token:  # a multi-target model reads the target language from a token before each sentence
            sentences = [f"{token} {sentence}" for sentence in sentences]
        translated = iter(self._translate_sentences(model, sentences))
        glue = "" if tgt in _UNSPACED_LANGUAGES else " "
        return Translation(
            ["\n".join(glue.join(next(translated) for _ in line) for line in layout) for layout in layouts],
            model=model.name,
        )

    def summarize(self, texts: Sequence[str]) -> tuple[list[str], str]:
        """English texts in, English summaries out; a text longer than one model input is summarized map-reduce.

        Map: every chunk (whole sentences, within the model's input length) is summarized; reduce: the chunk summaries,
        joined, are chunked and summarized again until one chunk is left, whose summary is the text's. Nothing is cut.
        A text no longer than a summary is its own summary.
        """
        model = self._summarizer_model()
        config = self.config
        summaries = [""] * len(texts)
        pending: dict[int, list[str]] = {}  # text index -> the pieces still to summarize
        for index, (text, count) in enumerate(zip(texts, model.count_tokens(texts), strict=True)):
            if count <= config.summary_max_tokens:
                summaries[index] = text.strip()
            else:
                pending[index] = self._chunks(model, text)
        # Map summaries are at most half an input long, so any two fit in one chunk: each round halves the count.
        map_max = min(config.summary_max_tokens, model.max_input_tokens // 2, model.max_new_tokens)
        while spread := {index: chunks for index, chunks in pending.items() if len(chunks) > 1}:
            pieces = [chunk for chunks in spread.values() for chunk in chunks]
            partials = iter(self._summaries(model, pieces, min(config.summary_min_tokens, map_max), map_max))
            for index, chunks in spread.items():
                joined = "\n".join(next(partials) for _ in chunks)
                rechunked = self._chunks(model, joined)
                if len(rechunked) >= len(chunks):
                    # Only a tokenizer that re-reads summaries as longer than generated gets here; stop rather than loop.
                    log.warning(
                        "summaries of %d chunks did not shrink; summarizing their first input's worth", len(chunks)
                    )
                    rechunked = [joined]
                pending[index] = rechunked
        indices = list(pending)
        final_max = min(config.summary_max_tokens, model.max_new_tokens)
        finals = self._summaries(model, [pending[i][0] for i in indices], config.summary_min_tokens, final_max)
        for index, summary in zip(indices, finals, strict=True):
            summaries[index] = summary
        return summaries, model.name

    def _layout(self, model: Seq2SeqModel, text: str, lang: str, *, reserve: int = 0) -> list[list[str]]:
        """A text as lines of sentences, each within the model's input length (less `reserve` tokens)."""
        return [
            fit_sentences(split_sentences(line, lang), model.count_one, model.max_input_tokens - reserve)
            for line in text.splitlines()
        ]

    def _chunks(self, model: Seq2SeqModel, text: str) -> list[str]:
        groups = chunk_sentences(split_sentences(text, ENGLISH), model.count_one, model.max_input_tokens)
        return [" ".join(group) for group in groups]

    def _translate_sentences(self, model: Seq2SeqModel, sentences: Sequence[str]) -> list[str]:
        config = self.config
        counts = model.count_tokens(sentences)
        batches = token_batches(counts, max_items=config.batch_size)
        lengths = []
        for batch in batches:
            longest = max(counts[i] for i in batch)
            max_new = min(
                model.max_new_tokens, math.ceil(longest * config.translate_max_ratio) + config.translate_extra_tokens
            )
            lengths.append((min(max_new, int(longest * config.translate_min_ratio)), max_new))
        return _scatter(model, sentences, batches, config.translate_beams, lengths)

    def _summaries(self, model: Seq2SeqModel, inputs: Sequence[str], min_new: int, max_new: int) -> list[str]:
        config = self.config
        counts = model.count_tokens(inputs)
        batches = token_batches(counts, max_items=config.batch_size, max_tokens=_SUMMARY_BATCH_INPUT_TOKENS)
        return _scatter(model, inputs, batches, config.summary_beams, [(min_new, max_new)] * len(batches))

    def _language_detector(self) -> LanguageDetector:
        if self._detector is not None:  # without the lock, which a model load holds for seconds
            return self._detector
        with self._lock:
            if self._detector is None:
                from summarizer.detect import LinguaDetector

                self._detector = LinguaDetector(languages=self.config.languages)
            return self._detector

    def _summarizer_model(self) -> Seq2SeqModel:
        with self._lock:
            if self._summarizer is None:
                self._summarizer = self._load(self.config.summarizer_model, summarizer=True)
            return self._summarizer

    def _translator(self, src: str, tgt: str) -> tuple[Seq2SeqModel, str | None]:
        """The model for a direction and its target token; into English, a source without its own model falls back to
        the multilingual one."""
        with self._lock:
            known = self._pair_models.get((src, tgt))
            if known is not None:
                return self._loaded_translator(known.name), known.token
            candidates = routes(self.config, src, tgt)
            if not candidates:
                what = "text of undetermined language" if src == UNDETERMINED else f"{src!r}"
                raise EngineError(
                    f"no model translates {what} into {tgt!r}: set translation_overrides: {{{src}-{tgt}: MODEL}} "
                    "in feeds.yaml"
                )
            for route in candidates:
                try:
                    model = self._loaded_translator(route.name)
                except ModelUnavailableError:
                    log.info("translation model %s is not available", route.name)
                    continue
                self._pair_models[(src, tgt)] = route
                return model, route.token
            names = [r.name for r in candidates]
            raise ModelUnavailableError(names[0], self.config.model_dir, fallbacks=names[1:])

    def _loaded_translator(self, name: str) -> Seq2SeqModel:
        model = self._translators.pop(name, None) or self._load(name)
        self._translators[name] = model
        while len(self._translators) > max(1, self.config.max_loaded_pairs):
            self._translators.popitem(last=False)
        return model


# T5 (flan-t5) has relative positions, so no table bounds its lengths: what it was trained on does (its tokenizer's
# limit, else the config's n_positions); a tokenizer with no limit says 10^30.
_RELATIVE_POSITIONS = 512


def _positions(config: Any, tokenizer: Any) -> int:
    """How many positions a model's inputs and outputs may use: its position table's size, if it has one."""
    table = getattr(config, "max_position_embeddings", None)
    if table is not None:
        return int(table)
    trained = getattr(config, "n_positions", None) or int(tokenizer.model_max_length)
    return int(trained) if trained < 10**6 else _RELATIVE_POSITIONS


def _scatter(
    model: Seq2SeqModel,
    texts: Sequence[str],
    batches: Sequence[Sequence[int]],
    beams: int,
    lengths: Sequence[tuple[int, int]],
) -> list[str]:
    """Generate for index batches of `texts` (each with its (min, max) new tokens); outputs back in text order."""
    outputs = [""] * len(texts)
    yield_point()  # a backend that runs its batches side by side yields here only
    done = model.generate_batches([[texts[i] for i in batch] for batch in batches], beams=beams, lengths=lengths)
    for batch, generated in zip(batches, done, strict=True):
        for index, output in zip(batch, generated, strict=True):
            outputs[index] = output
    return outputs


def _detector_name(detector: LanguageDetector) -> str:
    """What results record as the detection model: a `name` attribute, else the class name ("LinguaDetector" -> "lingua")."""
    return str(getattr(detector, "name", None) or type(detector).__name__.removesuffix("Detector").lower())
