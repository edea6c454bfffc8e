"""The language engine's configuration, joined from the two places it comes from: the content choices of feeds.yaml
(languages, models) and the deployment choices of the environment (backend, model directory, quantization, threads).
Which model serves which pair is summarizer/models.py's to say; this only passes the admin's choices on."""

from __future__ import annotations

from bot.config import Settings
from bot.feedlist.schema import FeedList
from summarizer.types import EngineConfig


def engine_config(feed_list: FeedList, settings: Settings) -> EngineConfig:
    """The language engine's configuration: content choices from feeds.yaml, deployment choices from the environment.

    The file has no key for the backend, model directory, quantization or threads, so the environment always wins.
    """
    models = feed_list.settings.models
    default = EngineConfig()  # an unset model keeps the engine's default rather than repeating it here
    return EngineConfig(
        backend=settings.backend,
        languages=feed_list.settings.languages,
        model_dir=settings.model_dir,
        quantize=settings.quantize,
        torch_threads=settings.torch_threads,
        summarizer_model=models.summarizer or default.summarizer_model,
        translation_model_pattern=models.translation or default.translation_model_pattern,
        translation_overrides=dict(models.translation_overrides),
        translation_tokens=dict(models.translation_tokens),
        fallback_to_english_model=models.translation_fallback or default.fallback_to_english_model,
        qa_model=settings.qa_model,
        device=settings.device,
        # A GPU runs a wide batch in the time a CPU runs a narrow one.
        batch_size=32 if settings.device == "cuda" else default.batch_size,
    )
