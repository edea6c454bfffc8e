"""Picks and builds the configured engine backend; imports no model library itself (which model does what is
summarizer/models.py)."""

from __future__ import annotations

from summarizer.errors import EngineError
from summarizer.types import Engine, EngineConfig, LanguageDetector


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
