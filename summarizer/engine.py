"""Picks and builds the configured engine backend, and names the models a config needs; imports no model library itself."""

from __future__ import annotations

from collections.abc import Iterable

from summarizer.errors import EngineError
from summarizer.types import UNDETERMINED, Engine, EngineConfig, LanguageDetector

ENGLISH = "en"


def make_engine(config: EngineConfig, *, detector: LanguageDetector | None = None) -> Engine:
    """The engine for `config.backend`; a missing model is reported, never papered over with another backend."""
    # Backends are imported here, not at the top, so that `import summarizer.engine` stays free of torch.
    if config.backend == "transformers":
        from summarizer.transformers_backend import TransformersEngine

        return TransformersEngine(config, detector=detector)
    if config.backend == "extractive":
        from summarizer.extractive import ExtractiveEngine

        return ExtractiveEngine(config, detector=detector)
    raise EngineError(f"unknown engine backend {config.backend!r}: use 'transformers' or 'extractive'")


def translation_model(config: EngineConfig, src: str, tgt: str) -> str:
    """The model setting (hub id or path) for one direction: a per-pair override wins over the pattern."""
    return config.translation_overrides.get(f"{src}-{tgt}") or config.translation_model_pattern.format(src=src, tgt=tgt)


def configured_models(config: EngineConfig, languages: Iterable[str] | None = None) -> list[str]:
    """Every model the transformers backend may load for these languages (default: the configured ones), deduplicated."""
    names = [config.summarizer_model]
    for lang in config.languages if languages is None else languages:
        if lang not in (ENGLISH, UNDETERMINED):
            names += [translation_model(config, lang, ENGLISH), translation_model(config, ENGLISH, lang)]
    names.append(config.fallback_to_english_model)
    return list(dict.fromkeys(names))
