"""Picks and builds the configured engine backend; imports no model library itself (which model does what is
summarizer/models.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from summarizer.errors import EngineError
from summarizer.types import Article, Engine, EngineConfig, Enriched, LanguageDetector

if TYPE_CHECKING:
    from summarizer.seq2seq import Seq2SeqModel

log = logging.getLogger(__name__)


def make_engine(config: EngineConfig, *, detector: LanguageDetector | None = None) -> Engine:
    """The engine for `config.backend`; a missing model is reported, never papered over with another backend."""
    # Backends are imported here, not at the top, so that `import summarizer.engine` stays free of torch.
    if config.backend == "transformers":
        from summarizer.transformers_backend import TransformersEngine

        return TransformersEngine(config, detector=detector)
    if config.backend == "ctranslate2":
        from summarizer.ctranslate2_backend import CTranslate2Engine

        return CTranslate2Engine(config, detector=detector)
    if config.backend == "extractive":
        from summarizer.extractive import ExtractiveEngine

        return ExtractiveEngine(config, detector=detector)
    raise EngineError(f"unknown engine backend {config.backend!r}: use 'ctranslate2', 'transformers' or 'extractive'")


def load_model(name: str, config: EngineConfig) -> Seq2SeqModel:
    """One model on the configured backend, outside the engine's pipeline (the one that writes /ask answers): its
    CTranslate2 conversion for ctranslate2; on transformers for the extractive backend too, which has no models."""
    if config.backend == "ctranslate2":
        from summarizer.ctranslate2_backend import load_ct2

        return load_ct2(name, config, summarizer=True)  # one long input at a time, as the summarizer's
    from summarizer.transformers_backend import load_seq2seq

    return load_seq2seq(name, config)


def process_batch(engine: Engine, articles: Sequence[Article]) -> list[Enriched | str]:
    """Where the engine runs: the batch together, or article by article when the batch fails, so one bad article (or
    one missing pair model) does not sink its batch-mates; a failure is its reason."""
    if len(articles) == 1:
        return [_process_one(engine, articles[0])]
    try:
        return list(engine.process_many(articles))
    except Exception:
        return [_process_one(engine, article) for article in articles]


def _process_one(engine: Engine, article: Article) -> Enriched | str:
    try:
        return engine.process(article)
    except Exception as e:  # recorded on the story, shown by `stories show`; the pass goes on
        log.warning("enrichment failed: %s", e)
        return str(e) if isinstance(e, EngineError) else f"{type(e).__name__}: {e}"
