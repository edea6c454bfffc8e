"""Errors the language engine raises on purpose, each worded for a person to act on; no app, CLI or UI knowledge."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

DOWNLOAD_COMMAND = "newsbot models download"
# Where a download notes the models the hub does not have, so that an error can say so instead of "download it".
NOT_ON_HUB = ".not-on-hub"


def not_on_hub(cache_dir: Path, model: str) -> Path:
    return cache_dir / NOT_ON_HUB / model.replace("/", "--")


class EngineError(Exception):
    """Root of every error the language engine raises on purpose."""


class ModelUnavailableError(EngineError):
    """A configured model is neither a local directory nor in the model cache; the message says how to fetch it."""

    def __init__(self, model: str, cache_dir: Path, *, fallbacks: Sequence[str] = (), why: str | None = None) -> None:
        """`why` replaces the default explanation (not a directory, not in the cache) and its advice."""
        if why is None:
            also = "".join(f" (nor its fallback {name!r})" for name in fallbacks)
            if not_on_hub(cache_dir, model).exists():  # the download tried it: running it again won't help
                advice = (
                    f"`{DOWNLOAD_COMMAND}` found no such model on the hub: name one that exists in feeds.yaml "
                    "(settings.models.translation_overrides for a language pair, or summarizer)"
                )
            else:
                advice = f"run `{DOWNLOAD_COMMAND}` to fetch the configured models"
            why = (
                f"model {model!r}{also} is not available: it is not a local model directory and not in the model "
                f"cache {str(cache_dir)!r}; {advice}"
            )
        super().__init__(why)
        self.model = model
        self.cache_dir = cache_dir
        self.fallbacks = tuple(fallbacks)


class ModelDownloadError(EngineError):
    """Fetching a model from the hub failed for a reason other than the model not existing there."""


class ModelNotConvertedError(ModelUnavailableError):
    """The model is cached but has no up-to-date CTranslate2 conversion (the ctranslate2 backend loads only that)."""

    def __init__(self, model: str, cache_dir: Path) -> None:
        super().__init__(
            model,
            cache_dir,
            why=f"model {model!r} is cached but not converted for the ctranslate2 backend: run `{DOWNLOAD_COMMAND}`, "
            "which converts the configured models (or set NEWSBOT_BACKEND=transformers)",
        )
