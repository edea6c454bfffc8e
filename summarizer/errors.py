"""Errors the language engine raises on purpose, each worded for a person to act on; no app, CLI or UI knowledge."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

DOWNLOAD_COMMAND = "newsbot models download"


class EngineError(Exception):
    """Root of every error the language engine raises on purpose."""


class ModelUnavailableError(EngineError):
    """A configured model is neither a local directory nor in the model cache; the message says how to fetch it."""

    def __init__(self, model: str, cache_dir: Path, *, fallbacks: Sequence[str] = ()) -> None:
        also = "".join(f" (nor its fallback {name!r})" for name in fallbacks)
        super().__init__(
            f"model {model!r}{also} is not available: it is not a local model directory and not in the model cache "
            f"{str(cache_dir)!r}; run `{DOWNLOAD_COMMAND}` to fetch the configured models"
        )
        self.model = model
        self.cache_dir = cache_dir
        self.fallbacks = tuple(fallbacks)


class ModelDownloadError(EngineError):
    """Fetching a model from the hub failed for a reason other than the model not existing there."""
