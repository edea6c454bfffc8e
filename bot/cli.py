"""The command-line front-end: parses arguments, wires Settings into the service, renders results. No SQL here."""

from __future__ import annotations

import logging

import typer

app = typer.Typer(help="newsbot: a self-hosted multilingual AI-industry news bot.", no_args_is_help=True)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    # URLs in httpx logs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
