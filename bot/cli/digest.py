"""`newsbot digest`: the digest a new subscriber would get now, on the terminal (no token needed, nothing recorded)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.text import Text

from bot.cli.apps import app
from bot.cli.common import err, friendly, out, parse_since, print_link, with_service
from bot.digest.compose import Digest
from bot.errors import UsageError
from bot.service import Problem, Service


@app.command()
@friendly
def digest(
    lang: str = typer.Option("en", "--lang", help="The reader's language (one of feeds.yaml's languages)."),
    since: str = typer.Option("24h", "--since", help="Cover the last 30m / 24h / 7d ..."),
    as_json: bool = typer.Option(False, "--json", help="The digest as one JSON object."),
) -> None:
    """Print the digest a subscriber reading LANG would get now: the same stories, order and summaries."""
    window = parse_since(since)

    async def body(service: Service) -> tuple[Digest, list[Problem]]:
        offered = (await service.engines.config()).languages
        if lang not in offered:
            raise UsageError(f"{lang!r} is not one of the languages in feeds.yaml: {', '.join(offered)}")
        made = await service.digests.preview(lang, window)
        return made, await service.engines.problems()

    made, problems = with_service(body)
    if as_json:
        out.print_json(json.dumps({"lang": made.lang, "more": made.more, "stories": [asdict(i) for i in made.items]}))
    else:
        _print(made)
    for problem in problems:
        err.print(Text.assemble(("model problem:", "yellow"), f" {problem.message}"))


def _print(made: Digest) -> None:
    if not made.items:
        out.print("nothing new: no stored story falls in that window (run `newsbot poll --once`)")
        return
    out.print(Text(f"{len(made.items)} stories", style="bold"))
    for item in made.items:
        out.print()
        out.print(Text(item.title, style="bold"))
        out.print(item.summary)
        meta = ", ".join(item.sources)
        if item.original_lang:
            meta += f" · not translated ({item.original_lang})"
        out.print(Text(meta, style="dim"))
        if item.link:
            print_link(item.link)
    if made.more:
        out.print(f"\n…and {made.more} more")
