"""The language engine: language detection, chunking, translation, summarization. Knows nothing of bot/, telegram or SQL."""

from summarizer.engine import make_engine
from summarizer.errors import EngineError, ModelDownloadError, ModelUnavailableError
from summarizer.models import configured_models
from summarizer.types import (
    UNDETERMINED,
    Article,
    Detection,
    Engine,
    EngineConfig,
    Enriched,
    LanguageDetector,
    Summarizer,
    Translation,
    Translator,
)

__all__ = [
    "UNDETERMINED",
    "Article",
    "Detection",
    "Engine",
    "EngineConfig",
    "EngineError",
    "Enriched",
    "LanguageDetector",
    "ModelDownloadError",
    "ModelUnavailableError",
    "Summarizer",
    "Translation",
    "Translator",
    "configured_models",
    "make_engine",
]
