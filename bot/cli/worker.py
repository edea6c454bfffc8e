"""`newsbot worker [--concurrency N]`: a Celery worker doing model work for the main box that shares its Redis
(NEWSBOT_BROKER_URL), with this box's models (`newsbot models download` first) on NEWSBOT_DEVICE."""

from __future__ import annotations

import logging

import typer

from bot.cli.apps import app
from bot.cli.common import friendly
from bot.config import load_settings
from bot.errors import ConfigError
from bot.feedlist.engine import engine_config
from bot.feedlist.load import load_feed_list


@app.command()
@friendly
def worker(
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, help="Jobs run side by side (one engine each)."),
    name: str | None = typer.Option(None, "--name", help="This worker's name in /health (default: host and pid)."),
) -> None:
    """Do model work (enrich, translate) for a main box whose NEWSBOT_BROKER_URL names the same Redis; until
    SIGTERM/SIGINT. Serves the interactive queue first, then fresh stories, then the backlog."""
    settings = load_settings()
    if not settings.broker_url:
        raise ConfigError(
            "NEWSBOT_BROKER_URL is not set: a worker takes its jobs from the main box's Redis "
            "(export NEWSBOT_BROKER_URL=redis://host:6379/0 on both)"
        )
    config = engine_config(load_feed_list(settings.feeds), settings)
    if logging.getLogger().level > logging.INFO:
        logging.getLogger("bot").setLevel(logging.INFO)

    from bot.workers.worker import run_worker  # Celery is imported by this command, and by a main box with a broker

    run_worker(settings.broker_url, config, concurrency=concurrency, job_timeout=settings.job_timeout, name=name)
