"""`newsbot models ...`: fetch the configured models for offline use."""

from __future__ import annotations

import typer

from bot.cli.apps import models_app
from bot.cli.common import err, friendly, out
from bot.config import load_settings
from bot.errors import ModelError
from bot.feeds.feedlist import engine_config, load_feed_list
from summarizer.errors import EngineError


@models_app.command("download")
@friendly
def models_download(
    lang: str | None = typer.Option(None, help="Comma-separated languages (default: those in feeds.yaml)."),
) -> None:
    """Fetch and cache every configured model into NEWSBOT_MODEL_DIR, for offline use (HF_HUB_OFFLINE=1)."""
    from summarizer.download import download_models

    settings = load_settings()
    config = engine_config(load_feed_list(settings.feeds), settings)
    languages = [code.strip() for code in lang.split(",") if code.strip()] if lang else None

    def report(name: str, status: str) -> None:
        err.print(f"{name}: {status.replace('_', ' ')}")

    try:
        fetched = download_models(config, languages, progress=report)
    except EngineError as e:
        raise ModelError(str(e)) from e
    out.print(f"{len(fetched)} models cached in {config.model_dir}")
