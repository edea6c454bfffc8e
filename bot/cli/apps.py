"""The typer applications every command module registers on: the main one and its command groups."""

from __future__ import annotations

import logging
import os
import sys

import typer

app = typer.Typer(help="newsbot: a self-hosted multilingual AI-industry news bot.", no_args_is_help=True)
feeds_app = typer.Typer(
    help="Edit and inspect the feed list (feeds.yaml) and the feeds' fetch state.", no_args_is_help=True
)
stories_app = typer.Typer(help="What is stored.", no_args_is_help=True)
models_app = typer.Typer(help="The local language models.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
app.add_typer(stories_app, name="stories")
app.add_typer(models_app, name="models")


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    # URLs in httpx logs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not sys.stderr.isatty():
        # Third-party progress bars (transformers' "Loading weights", the converter's "Writing model shards", hub
        # downloads) are noise in a log or a pipe, one line per tick. transformers asks the hub whether bars are off
        # when first imported (later: the commands import it lazily); tqdm itself reads TQDM_DISABLE.
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
        os.environ.setdefault("TQDM_DISABLE", "1")
